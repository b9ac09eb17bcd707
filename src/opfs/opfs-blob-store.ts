import { ShelfError, toShelfError } from '../errors/index.ts';
import type { BlobStore } from './blob-store.ts';

type SyncHandle = {
  write(buffer: Uint8Array, options?: { at?: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
};
type SyncFileHandle = FileSystemFileHandle & { createSyncAccessHandle(): Promise<SyncHandle> };

/**
 * Blobs as files in an OPFS directory. In a dedicated worker, writes go through a sync
 * access handle and are flushed before `write` resolves (elsewhere through a writable
 * stream); reads use `getFile()` slices, which
 * are not exclusive, so several streams can read one file while another file is written.
 */
export class OpfsBlobStore implements BlobStore {
  readonly #dir: FileSystemDirectoryHandle;

  private constructor(dir: FileSystemDirectoryHandle) {
    this.#dir = dir;
  }

  /** Opens (creating) `path` below the origin's OPFS root, e.g. `codeshelf/my-shelf/collections`. */
  static async open(path: string): Promise<OpfsBlobStore> {
    if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) {
      throw new ShelfError('INVALID_ARGUMENT', 'OPFS is not available in this runtime');
    }
    try {
      let dir = await navigator.storage.getDirectory();
      for (const part of path.split('/').filter(Boolean)) dir = await dir.getDirectoryHandle(part, { create: true });
      return new OpfsBlobStore(dir);
    } catch (error) {
      throw toShelfError(error, `opening OPFS directory "${path}"`);
    }
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    for await (const [name, handle] of (this.#dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
      if (handle.kind === 'file') names.push(name);
    }
    return names;
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

  async read(name: string, offset = 0, length?: number): Promise<Uint8Array> {
    const file = await this.#file(name);
    if (!file) throw new ShelfError('NOT_FOUND', `file ${JSON.stringify(name)} does not exist`);
    const end = length === undefined ? file.size : Math.min(file.size, offset + length);
    return new Uint8Array(await file.slice(offset, end).arrayBuffer());
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    let handle: SyncHandle | undefined;
    try {
      const file = (await this.#dir.getFileHandle(name, { create: true })) as SyncFileHandle;
      if (typeof file.createSyncAccessHandle !== 'function') {
        // Not a dedicated worker: a writable stream writes a swap file and swaps it in on close.
        const writable = await file.createWritable();
        await writable.write(bytes as Uint8Array<ArrayBuffer>);
        await writable.close();
        return;
      }
      handle = await file.createSyncAccessHandle();
      handle.truncate(0);
      let written = 0;
      while (written < bytes.length) written += handle.write(bytes.subarray(written), { at: written });
      handle.flush();
    } catch (error) {
      throw toShelfError(error, `writing "${name}"`);
    } finally {
      handle?.close();
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.#dir.removeEntry(name);
    } catch (error) {
      if ((error as { name?: string }).name !== 'NotFoundError') throw toShelfError(error, `removing "${name}"`);
    }
  }
}
