/**
 * A least-recently-used map bounded by the total byte size of its entries, shared by the
 * search index (decoded segment bodies) and document collections (loaded collections).
 * Recency is the Map's insertion order (a hit re-inserts the key), so get and set are O(1).
 *
 * Two ways to stay under the limit:
 * - `autoEvict: true`: `set` and `unpin` drop least recently used entries at once, never a
 *   pinned one nor the newest (which stays even when it alone exceeds the budget). For
 *   values that can simply be reloaded.
 * - otherwise nothing is dropped by itself: {@link ByteLru.victims} proposes what would have
 *   to go and the owner evicts after any cleanup (a dirty collection is saved first).
 */
export class ByteLru<K, V> {
  readonly #entries = new Map<K, { value: V; bytes: number; pinned: boolean }>();
  readonly #autoEvict: boolean;
  #bytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(
    public limitBytes: number,
    options: { autoEvict?: boolean } = {},
  ) {
    this.#autoEvict = options.autoEvict ?? false;
  }

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
  set(key: K, value: V, bytes: number, pinned = false): void {
    this.delete(key);
    this.#entries.set(key, { value, bytes, pinned });
    this.#bytes += bytes;
    if (this.#autoEvict) this.#evictOverBudget();
  }

  /** Lets a pinned entry be evicted again. */
  unpin(key: K): void {
    const entry = this.#entries.get(key);
    if (entry) entry.pinned = false;
    if (this.#autoEvict) this.#evictOverBudget();
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

  /** Least recently used unpinned keys whose removal would bring the total under the limit, skipping `keep`. */
  victims(keep?: (key: K) => boolean): K[] {
    const out: K[] = [];
    let excess = this.#bytes - this.limitBytes;
    if (excess <= 0) return out;
    for (const [key, entry] of this.#entries) {
      if (entry.pinned || keep?.(key)) continue;
      out.push(key);
      excess -= entry.bytes;
      if (excess <= 0) break;
    }
    return out;
  }

  /** Keys, least recently used first. */
  keys(): K[] {
    return [...this.#entries.keys()];
  }

  #evictOverBudget(): void {
    if (this.#bytes <= this.limitBytes) return;
    let newest: K | undefined;
    for (const key of this.#entries.keys()) newest = key;
    for (const key of this.victims((k) => k === newest)) this.evict(key);
  }
}
