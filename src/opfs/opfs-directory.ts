import { ShelfError, toShelfError } from '../errors/index.ts';

/**
 * Small OPFS helpers shared by the blob store and the journal files.
 * @internal
 */

/** A sync access handle (dedicated workers only). */
export type SyncHandle = {
  read(buffer: Uint8Array, options?: { at?: number }): number;
  write(buffer: Uint8Array, options?: { at?: number }): number;
  getSize(): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
};

/** Opens (creating) `path` below the origin's OPFS root. */
export async function openOpfsDirectory(path: string): Promise<FileSystemDirectoryHandle> {
  if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) {
    throw new ShelfError('INVALID_ARGUMENT', 'OPFS is not available in this runtime');
  }
  try {
    let dir = await navigator.storage.getDirectory();
    for (const part of path.split('/').filter(Boolean)) dir = await dir.getDirectoryHandle(part, { create: true });
    return dir;
  } catch (error) {
    throw toShelfError(error, `opening OPFS directory "${path}"`);
  }
}

/** Names of the files directly in `dir`. */
export async function listFiles(dir: FileSystemDirectoryHandle): Promise<string[]> {
  const names: string[] = [];
  for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (handle.kind === 'file') names.push(name);
  }
  return names;
}

/** A sync access handle on `file`, or undefined outside a dedicated worker. */
export async function syncHandle(file: FileSystemFileHandle): Promise<SyncHandle | undefined> {
  const create = (file as unknown as { createSyncAccessHandle?: () => Promise<SyncHandle> }).createSyncAccessHandle;
  return typeof create === 'function' ? create.call(file) : undefined;
}

/**
 * Replaces `name` with `bytes`, flushed before it resolves: through a sync access handle in a
 * dedicated worker, else through a writable stream (which swaps in a complete file on close).
 */
export async function writeFileDurably(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array): Promise<void> {
  let handle: SyncHandle | undefined;
  try {
    const file = await dir.getFileHandle(name, { create: true });
    handle = await syncHandle(file);
    if (!handle) {
      const writable = await file.createWritable();
      await writable.write(bytes as Uint8Array<ArrayBuffer>);
      await writable.close();
      return;
    }
    handle.truncate(0);
    let at = 0;
    while (at < bytes.length) at += handle.write(bytes.subarray(at), { at });
    handle.flush();
  } catch (error) {
    throw toShelfError(error, `writing "${name}"`);
  } finally {
    handle?.close();
  }
}

/** Removes `name`; a missing file is not an error. */
export async function removeFile(dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  try {
    await dir.removeEntry(name);
  } catch (error) {
    if ((error as { name?: string }).name !== 'NotFoundError') throw toShelfError(error, `removing "${name}"`);
  }
}
