import { ShelfError, toShelfError } from '../errors/index.ts';
import { listFiles, openOpfsDirectory, removeFile, retryWhileLocked, syncHandle, writeFileDurably, type SyncHandle } from './opfs-directory.ts';

/** How long opening a journal waits for a handle another worker holds (one that just ended lets go within this). */
const APPEND_LOCK_WAIT_MS = 2_000;

/**
 * An append-only file whose appends are on disk when the call returns. In a dedicated
 * worker it is an OPFS sync access handle (`write` + `flush`, both synchronous); the memory
 * version serves Node, edge runtimes and tests, and can simulate a torn write.
 */
export interface AppendFile {
  readonly name: string;
  /** Current length in bytes. */
  readonly size: number;
  /** The whole content (read once, at open, for replay). */
  readAll(): Uint8Array;
  /** Appends and flushes; durable when it returns. */
  append(bytes: Uint8Array): void;
  /** Cuts the file to `size` bytes (drops a torn tail). */
  truncate(size: number): void;
  close(): void;
}

/** Files a journaled store needs: whole files for checkpoints, append files for journals. */
export interface JournalFiles {
  list(): Promise<string[]>;
  read(name: string): Promise<Uint8Array>;
  /** Writes a whole file, flushed before it resolves. */
  write(name: string, bytes: Uint8Array): Promise<void>;
  remove(name: string): Promise<void>;
  openAppend(name: string): Promise<AppendFile>;
}

/** Journal files in memory. `tornWrites` lets tests cut appends short. */
export class MemoryJournalFiles implements JournalFiles {
  readonly files = new Map<string, Uint8Array>();
  /** When set, the next append stores only this many of its bytes, then throws. */
  tornNextAppend: number | undefined;

  async list(): Promise<string[]> {
    return [...this.files.keys()];
  }
  async read(name: string): Promise<Uint8Array> {
    const f = this.files.get(name);
    if (!f) throw new ShelfError('NOT_FOUND', `file ${JSON.stringify(name)} does not exist`);
    return f.slice();
  }
  async write(name: string, bytes: Uint8Array): Promise<void> {
    this.files.set(name, bytes.slice());
  }
  async remove(name: string): Promise<void> {
    this.files.delete(name);
  }
  async openAppend(name: string): Promise<AppendFile> {
    if (!this.files.has(name)) this.files.set(name, new Uint8Array(0));
    const files = this.files;
    const self = this;
    // Appends go into a buffer with room to spare (doubling), and `files` holds a view of
    // its used part: an append costs its own bytes, not a copy of the whole journal. A file
    // replaced in `files` from outside (tests damage them) is taken up again as it is.
    let room: Uint8Array | undefined;
    let view: Uint8Array | undefined; // what this handle last put in `files`
    return {
      name,
      get size() {
        return files.get(name)!.length;
      },
      readAll: () => files.get(name)!.slice(),
      append(bytes: Uint8Array) {
        const cut = self.tornNextAppend;
        const keep = cut === undefined ? bytes : bytes.subarray(0, cut);
        const old = files.get(name)!;
        const used = old.length + keep.length;
        // Only the view this handle made may grow in place: anything else put in `files`
        // (even a shorter view of the same buffer) is copied, so no view handed out changes.
        if (!room || old !== view || used > room.length) {
          const next = new Uint8Array(Math.max(used, 2 * (old === view && room ? room.length : old.length), 64 * 1024));
          next.set(old);
          room = next;
        }
        room.set(keep, old.length);
        view = room.subarray(0, used);
        files.set(name, view);
        if (cut !== undefined) {
          self.tornNextAppend = undefined;
          throw new ShelfError('ABORTED', 'simulated torn write');
        }
      },
      truncate(size: number) {
        files.set(name, files.get(name)!.slice(0, size));
      },
      close() {},
    };
  }
}

/** Journal files in an OPFS directory; append files hold a sync access handle while open. */
export class OpfsJournalFiles implements JournalFiles {
  readonly #dir: FileSystemDirectoryHandle;

  private constructor(dir: FileSystemDirectoryHandle) {
    this.#dir = dir;
  }

  static async open(path: string): Promise<OpfsJournalFiles> {
    return new OpfsJournalFiles(await openOpfsDirectory(path));
  }

  list(): Promise<string[]> {
    return listFiles(this.#dir);
  }

  async read(name: string): Promise<Uint8Array> {
    try {
      const file = await (await this.#dir.getFileHandle(name)).getFile();
      return new Uint8Array(await file.arrayBuffer());
    } catch (error) {
      throw toShelfError(error, `reading "${name}"`);
    }
  }

  write(name: string, bytes: Uint8Array): Promise<void> {
    return writeFileDurably(this.#dir, name, bytes);
  }

  remove(name: string): Promise<void> {
    return removeFile(this.#dir, name);
  }

  async openAppend(name: string): Promise<AppendFile> {
    let handle: SyncHandle;
    try {
      // An append handle is exclusive. A worker that just ended (a page reload) lets go of
      // its handles shortly: waited out. One still held after that belongs to a worker that
      // is running, another tab's storage worker on the same shelf: said so, not INTERNAL.
      const found = await retryWhileLocked(
        async () => syncHandle(await this.#dir.getFileHandle(name, { create: true })),
        APPEND_LOCK_WAIT_MS,
        (error) => new ShelfError('ABORTED', `"${name}" is held open by another worker, most likely another tab with the same shelf open: a shelf's journal can be open in one place at a time`, { cause: error }),
      );
      if (!found) throw new ShelfError('INVALID_ARGUMENT', 'OPFS append files need a dedicated worker (sync access handles)');
      handle = found;
    } catch (error) {
      throw toShelfError(error, `opening "${name}"`);
    }
    let size = handle.getSize();
    return {
      name,
      get size() {
        return size;
      },
      readAll() {
        const out = new Uint8Array(size);
        let at = 0;
        while (at < size) {
          const n = handle.read(out.subarray(at), { at });
          if (n <= 0) break;
          at += n;
        }
        return out.subarray(0, at);
      },
      append(bytes: Uint8Array) {
        try {
          let written = 0;
          while (written < bytes.length) written += handle.write(bytes.subarray(written), { at: size + written });
          handle.flush();
          size += written;
        } catch (error) {
          throw toShelfError(error, `appending to "${name}"`);
        }
      },
      truncate(n: number) {
        handle.truncate(n);
        handle.flush();
        size = n;
      },
      close() {
        handle.close();
      },
    };
  }
}
