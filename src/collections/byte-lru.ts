/**
 * A least-recently-used map bounded by the total byte size of its entries. Recency is the
 * Map's insertion order (a hit re-inserts the key), so get and set are O(1).
 *
 * It does not evict by itself: {@link ByteLru.victims} lists what would have to go to fit
 * the limit, least recently used first, and the owner decides (a dirty collection must be
 * saved before it may be dropped).
 */
export class ByteLru<K, V> {
  readonly #entries = new Map<K, { value: V; bytes: number }>();
  #bytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(public limitBytes: number) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Total bytes of all entries. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Returns the value and marks it most recently used. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Returns the value without touching recency or counters. */
  peek(key: K): V | undefined {
    return this.#entries.get(key)?.value;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Inserts or replaces `key` as most recently used, with its size in bytes. */
  set(key: K, value: V, bytes: number): void {
    const old = this.#entries.get(key);
    if (old) {
      this.#bytes -= old.bytes;
      this.#entries.delete(key);
    }
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
  }

  /** Changes the recorded size of `key` without touching recency. */
  resize(key: K, bytes: number): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#bytes += bytes - entry.bytes;
    entry.bytes = bytes;
  }

  delete(key: K): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#bytes -= entry.bytes;
    this.#entries.delete(key);
    return true;
  }

  /** Removes `key` and counts it as an eviction. */
  evict(key: K): boolean {
    const removed = this.delete(key);
    if (removed) this.evictions++;
    return removed;
  }

  /** Least recently used keys whose removal would bring the total under the limit, skipping `keep`. */
  victims(keep?: (key: K) => boolean): K[] {
    const out: K[] = [];
    let excess = this.#bytes - this.limitBytes;
    if (excess <= 0) return out;
    for (const [key, entry] of this.#entries) {
      if (keep?.(key)) continue;
      out.push(key);
      excess -= entry.bytes;
      if (excess <= 0) break;
    }
    return out;
  }

  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }
}
