import { ShelfError, toShelfError } from '../errors/index.ts';
import { listFiles, openOpfsDirectory, readThroughHandle, removeFile, writeFileDurably } from './opfs-directory.ts';
import type { BlobStore } from './blob-store.ts';

/**
 * Blobs as files in an OPFS directory. In a dedicated worker, writes go through a sync
 * access handle and are flushed before `write` resolves (elsewhere through a writable
 * stream); reads go through read-only sync access handles held for one read there, and
 * `getFile()` slices elsewhere, so several streams can read one file while another file is
 * written. (Where a browser ignores the handle's mode, its first read held the file
 * exclusively; it reads by `getFile()` after that.) A write or removal of a file that a
 * read holds waits for it.
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

  async read(name: string, offset = 0, length?: number): Promise<Uint8Array> {
    let handle: FileSystemFileHandle | undefined;
    try {
      handle = await this.#dir.getFileHandle(name);
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFoundError') throw new ShelfError('NOT_FOUND', `file ${JSON.stringify(name)} does not exist`);
      throw toShelfError(error, `reading "${name}"`);
    }
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
      if ((error as { name?: string }).name === 'NotFoundError') throw new ShelfError('NOT_FOUND', `file ${JSON.stringify(name)} does not exist`);
      throw toShelfError(error, `reading "${name}"`);
    }
    const end = length === undefined ? file.size : Math.min(file.size, offset + length);
    return new Uint8Array(await file.slice(offset, end).arrayBuffer());
  }

  write(name: string, bytes: Uint8Array): Promise<void> {
    return writeFileDurably(this.#dir, name, bytes);
  }

  remove(name: string): Promise<void> {
    return removeFile(this.#dir, name);
  }
}
