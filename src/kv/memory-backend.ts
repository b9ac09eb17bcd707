import { BackedKvStore, type KvStoreOptions } from './kv-store.ts';
import type { BatchOp, KvBackend, KvStore, ResolvedRange } from './types.ts';
import { copyBytes } from './validate.ts';

/** First index in sorted `keys` whose key is >= `key` (or > when `open`). */
function lowerIndex(keys: readonly string[], key: string, open: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k < key || (open && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * An in-memory backend for Node, edge runtimes and tests. Keys live in a Map plus a sorted
 * array; new keys are appended to a side list and merged in on the next scan, so bulk
 * loads cost O(n log n) instead of O(n²) array inserts.
 * @internal
 */
export class MemoryBackend implements KvBackend {
  readonly #map = new Map<string, Uint8Array>();
  #sorted: string[] = [];
  #pending: string[] = [];
  #removed = 0;

  #sortedKeys(): string[] {
    if (this.#pending.length || this.#removed > this.#sorted.length / 2) {
      const live = this.#sorted.filter((k) => this.#map.has(k));
      const fresh = this.#pending.filter((k) => this.#map.has(k)).sort();
      const merged: string[] = new Array(live.length + fresh.length);
      let i = 0, j = 0, o = 0;
      while (i < live.length && j < fresh.length) merged[o++] = live[i]! < fresh[j]! ? live[i++]! : fresh[j++]!;
      while (i < live.length) merged[o++] = live[i++]!;
      while (j < fresh.length) merged[o++] = fresh[j++]!;
      // A key deleted and re-added can sit in both lists; drop the duplicate.
      this.#sorted = merged.filter((k, idx) => idx === 0 || merged[idx - 1] !== k);
      this.#pending = [];
      this.#removed = 0;
    }
    return this.#sorted;
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return keys.map((k) => this.#map.get(k)?.slice());
  }

  write(ops: readonly BatchOp[]): Promise<void> {
    // Copies first, so a value that cannot be read fails the batch before any op applies.
    let copies: (Uint8Array | null)[];
    try {
      copies = ops.map((op) => (op.type === 'put' ? copyBytes(op.value) : null));
    } catch (error) {
      return Promise.reject(error);
    }
    ops.forEach((op, i) => {
      if (op.type === 'put') {
        if (!this.#map.has(op.key)) this.#pending.push(op.key);
        this.#map.set(op.key, copies[i]!);
      } else if (this.#map.delete(op.key)) {
        this.#removed++;
      }
    });
    return Promise.resolve();
  }

  async scan(range: ResolvedRange, limit: number, reverse: boolean, keysOnly: boolean) {
    const sorted = this.#sortedKeys();
    const keys: string[] = [];
    const from = range.lower === undefined ? 0 : lowerIndex(sorted, range.lower, range.lowerOpen);
    const to = range.upper === undefined ? sorted.length : lowerIndex(sorted, range.upper, false);
    const step = reverse ? -1 : 1;
    for (let i = reverse ? to - 1 : from; reverse ? i >= from : i < to; i += step) {
      const k = sorted[i]!;
      if (!this.#map.has(k)) continue;
      keys.push(k);
      if (keys.length >= limit) break;
    }
    return { keys, values: keysOnly ? null : keys.map((k) => this.#map.get(k)!.slice()) };
  }

  async count(range: ResolvedRange): Promise<number> {
    if (range.lower === undefined && range.upper === undefined) return this.#map.size;
    const sorted = this.#sortedKeys();
    const from = range.lower === undefined ? 0 : lowerIndex(sorted, range.lower, range.lowerOpen);
    const to = range.upper === undefined ? sorted.length : lowerIndex(sorted, range.upper, false);
    if (this.#removed === 0) return Math.max(0, to - from);
    let n = 0;
    for (let i = from; i < to; i++) if (this.#map.has(sorted[i]!)) n++;
    return n;
  }

  async clear(): Promise<void> {
    this.#map.clear();
    this.#sorted = [];
    this.#pending = [];
    this.#removed = 0;
  }

  close(): void {
    this.#map.clear();
  }
}

/**
 * Opens a {@link KvStore} held in memory: for Node, edge runtimes and tests.
 *
 * @example
 * ```ts
 * const kv = createMemoryKv();
 * await kv.set('greeting', new TextEncoder().encode('hi'));
 * ```
 */
export function createMemoryKv(options: KvStoreOptions & { name?: string } = {}): KvStore {
  return new BackedKvStore(new MemoryBackend(), options.name ?? 'memory', options);
}
