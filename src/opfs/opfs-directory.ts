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

/** Whether this browser honours `mode: 'read-only'` (false once a handle came back without it). */
let readOnlyHandles = true;

/**
 * A read-only sync access handle on `file`, held until closed, for a run of reads (see
 * `OpfsBlobStore.openReader`); undefined where there is none to be had: not a dedicated
 * worker, a browser without handle modes (its handle would hold the file exclusively, and
 * every other read of it would fail while it is open), or the file held by a writer.
 */
export async function openReadOnlyHandle(file: FileSystemFileHandle): Promise<SyncHandle | undefined> {
  if (!readOnlyHandles) return undefined;
  const create = (file as unknown as { createSyncAccessHandle?: (o: { mode: string }) => Promise<SyncHandle & { mode?: string }> }).createSyncAccessHandle;
  if (typeof create !== 'function') return undefined;
  let handle: (SyncHandle & { mode?: string }) | undefined;
  try {
    handle = await create.call(file, { mode: 'read-only' });
  } catch {
    return undefined;
  }
  if (handle.mode !== 'read-only') {
    readOnlyHandles = false;
    handle.close();
    return undefined;
  }
  return handle;
}

/** Reads up to `length` bytes at `offset` through `handle` into bytes of their own. */
export function readRange(handle: SyncHandle, size: number, offset: number, length: number): Uint8Array {
  const start = Math.min(offset, size);
  const bytes = new Uint8Array(Math.min(length, size - start));
  let at = 0;
  while (at < bytes.length) {
    const n = handle.read(bytes.subarray(at), { at: start + at });
    if (n === 0) break;
    at += n;
  }
  return at === bytes.length ? bytes : bytes.subarray(0, at);
}

/**
 * Reads `length` bytes at `offset` of `file` through a read-only sync access handle, held
 * only for this call: about twice as fast as a `getFile()` slice, which crosses processes.
 * Several read-only handles on one file may be open at once. Undefined where that is not
 * available (not a dedicated worker, a browser without handle modes, or the file held by a
 * writer): the caller reads another way.
 */
export async function readThroughHandle(file: FileSystemFileHandle, offset: number, length: number | undefined): Promise<Uint8Array | undefined> {
  const handle = await openReadOnlyHandle(file);
  if (!handle) return undefined;
  try {
    const size = handle.getSize();
    return readRange(handle, size, offset, length ?? size);
  } finally {
    handle.close();
  }
}

/**
 * Replaces `name` with `bytes`, flushed before it resolves: through a sync access handle in a
 * dedicated worker, else through a writable stream (which swaps in a complete file on close).
 */
export function writeFileDurably(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array): Promise<void> {
  return retryWhileLocked(() => writeOnce(dir, name, bytes));
}

async function writeOnce(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array): Promise<void> {
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
    if (isLocked(error)) throw error;
    throw toShelfError(error, `writing "${name}"`);
  } finally {
    handle?.close();
  }
}

/**
 * Removes `name`; a missing file is not an error. A file open for a read (see
 * {@link readThroughHandle}) cannot be removed or written until that read ends: both retry.
 */
export function removeFile(dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  return retryWhileLocked(async () => {
    try {
      await dir.removeEntry(name);
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFoundError') return;
      if (isLocked(error)) throw error;
      throw toShelfError(error, `removing "${name}"`);
    }
  });
}

const isLocked = (error: unknown) => (error as { name?: string } | null)?.name === 'NoModificationAllowedError';
/** How long a write or removal waits for reads holding the file (a whole-file read of a large collection). */
const LOCK_WAIT_MS = 5_000;

/**
 * Runs `run` again while it fails because another handle holds the file, up to `waitMs`;
 * then `onTimeout` says what to throw (by default the lock error as a ShelfError).
 */
export async function retryWhileLocked<T>(
  run: () => Promise<T>, waitMs = LOCK_WAIT_MS, onTimeout: (error: unknown) => ShelfError = (error) => toShelfError(error, 'file is held by another reader or writer'),
): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!isLocked(error)) throw error;
      if (Date.now() - started >= waitMs) throw onTimeout(error);
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, 5 * (attempt + 1))));
    }
  }
}
