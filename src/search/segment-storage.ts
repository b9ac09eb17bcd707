import type { KvStore } from '../kv/index.ts';

/** One write of {@link SegmentStorage.batch}; the same shape as a KvStore batch op. */
export type SegmentStorageOp =
  | { readonly type: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly key: string };

/**
 * Where a {@link SearchIndex} keeps its frames: bytes by string key. Keys used:
 * `manifest`, `seg/{id}/head`, `seg/{id}/body`. With `batch` a flush is one atomic write;
 * without it segments are written first and the manifest last, so a crash mid-flush leaves
 * the previous manifest (and at worst unreferenced segment keys).
 */
export interface SegmentStorage {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  batch?(ops: readonly SegmentStorageOp[]): Promise<void>;
}

/** Storage keys of a segment. @internal */
export function segmentKeys(id: number): { head: string; body: string } {
  return { head: `seg/${id}/head`, body: `seg/${id}/body` };
}

/** Storage key of the manifest. @internal */
export const MANIFEST_KEY = 'manifest';

/**
 * A Map-backed {@link SegmentStorage} for tests and throwaway indexes. `entries` is exposed
 * so tests can inspect or damage stored bytes.
 */
export class MemorySegmentStorage implements SegmentStorage {
  readonly entries = new Map<string, Uint8Array>();
  /** Bytes written so far (puts and batch puts). */
  bytesWritten = 0;

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.entries.get(key);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.entries.set(key, value.slice());
    this.bytesWritten += value.length;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async batch(ops: readonly SegmentStorageOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') await this.put(op.key, op.value);
      else this.entries.delete(op.key);
    }
  }
}

/**
 * A {@link SegmentStorage} over a {@link KvStore}, every key under `prefix` (default
 * `search:`). Flushes use the store's atomic batch.
 *
 * @example
 * ```ts
 * const index = await SearchIndex.open(kvSegmentStorage(kv, 'search:main:'));
 * ```
 */
export function kvSegmentStorage(kv: KvStore, prefix = 'search:'): SegmentStorage {
  return {
    get: (key) => kv.get(prefix + key),
    put: (key, value) => kv.set(prefix + key, value),
    delete: (key) => kv.delete(prefix + key),
    batch: (ops) => kv.batch(ops.map((op) => ({ ...op, key: prefix + op.key }))),
  };
}
