import { ShelfError, toShelfError } from '../errors/index.ts';
import { listFiles, openOpfsDirectory, openReadOnlyHandle, readRange, readThroughHandle, removeFile, writeFileDurably } from './opfs-directory.ts';
import type { BlobReader, BlobStore } from './blob-store.ts';

/** What a failed read of `name` throws: `NOT_FOUND` for a missing file. */
function readError(error: unknown, name: string): ShelfError {
  if ((error as { name?: string }).name === 'NotFoundError') return new ShelfError('NOT_FOUND', `file ${JSON.stringify(name)} does not exist`);
  return toShelfError(error, `reading "${name}"`);
}

/**
 * Blobs as files in an OPFS directory. In a dedicated worker, writes go through a sync
 * access handle and are flushed before `write` resolves (elsewhere through a writable
 * stream); reads go through read-only sync access handles there (held for one read, or
 * for a run of them: {@link openReader}), and `getFile()` slices elsewhere, so several
 * streams can read one file while another file is written. (Where a browser ignores the
 * handle's mode, the handle it gives is closed at once and reads go through `getFile()`.)
 * A write or removal of a file that a read holds waits for it.
 */
export class OpfsBlobStore implements BlobStore {
  readonly #dir: FileSystemDirectoryHandle;

  private constructor(dir: FileSystemDirectoryHandle) {
    this.#dir = dir;
  }

  /** Opens (creating) `path` below the origin's OPFS root, e.g. `codeshelf/my-shelf/collections`. */
  static async open(path: string): Promise<OpfsBlobStore> {
    return new OpfsBlobStore(await openOpfsDirectory(path));
  }

  list(): Promise<string[]> {
    return listFiles(this.#dir);
  }

  async #file(name: string): Promise<File | undefined> {
    try {
      return await (await this.#dir.getFileHandle(name)).getFile();
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFoundError') return undefined;
      throw toShelfError(error, `reading "${name}"`);
    }
  }

  async size(name: string): Promise<number | undefined> {
    return (await this.#file(name))?.size;
  }

  /** The handle of an existing file; a missing one is `NOT_FOUND`. */
  async #fileHandle(name: string): Promise<FileSystemFileHandle> {
    try {
      return await this.#dir.getFileHandle(name);
    } catch (error) {
      throw readError(error, name);
    }
  }

  async read(name: string, offset = 0, length?: number): Promise<Uint8Array> {
    const handle = await this.#fileHandle(name);
    let fast: Uint8Array | undefined;
    try {
      fast = await readThroughHandle(handle, offset, length);
    } catch (error) {
      throw toShelfError(error, `reading "${name}"`);
    }
    if (fast) return fast;
    let file: File;
    try {
      file = await handle.getFile();
    } catch (error) {
      throw readError(error, name);
    }
    const end = length === undefined ? file.size : Math.min(file.size, offset + length);
    return new Uint8Array(await file.slice(offset, end).arrayBuffer());
  }

  /**
   * One read-only sync access handle for a run of reads (a stream of a collection file):
   * each read is then a plain file read, where `read` opens a handle (two round trips to
   * the browser) every time. Other readers of the file may open theirs meanwhile; a write
   * or removal of it waits until the reader is closed. Undefined where read-only handles
   * are not to be had (see {@link openReadOnlyHandle}).
   */
  async openReader(name: string): Promise<BlobReader | undefined> {
    const handle = await openReadOnlyHandle(await this.#fileHandle(name));
    if (!handle) return undefined;
    let size: number;
    try {
      size = handle.getSize();
    } catch (error) {
      handle.close();
      throw toShelfError(error, `reading "${name}"`);
    }
    let open = true;
    return {
      size,
      read: (offset, length) => {
        if (!open) throw new ShelfError('CLOSED', `reader of "${name}" is closed`);
        try {
          return readRange(handle, size, offset, length);
        } catch (error) {
          throw toShelfError(error, `reading "${name}"`);
        }
      },
      close: () => {
        if (!open) return;
        open = false;
        handle.close();
      },
    };
  }

  write(name: string, bytes: Uint8Array): Promise<void> {
    return writeFileDurably(this.#dir, name, bytes);
  }

  remove(name: string): Promise<void> {
    return removeFile(this.#dir, name);
  }
}
