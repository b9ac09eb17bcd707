/**
 * A least-recently-used map bounded by a byte budget rather than an entry count. Pinned
 * entries (segments not yet saved, so they cannot be reloaded) and the most recently used
 * entry are never evicted; while they exceed the budget the cache is simply over it.
 * @internal
 */
export class ByteLru<K, V> {
  readonly #entries = new Map<K, { value: V; bytes: number; pinned: boolean }>();
  readonly #maxBytes: number;
  #bytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** The value, marking it most recently used. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Adds or replaces a value, then evicts least recently used unpinned entries over budget. */
  set(key: K, value: V, bytes: number, pinned = false): void {
    this.delete(key);
    this.#entries.set(key, { value, bytes, pinned });
    this.#bytes += bytes;
    this.#evict();
  }

  /** Lets an entry be evicted again. */
  unpin(key: K): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined) entry.pinned = false;
    this.#evict();
  }

  delete(key: K): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    return true;
  }

  /** Keys in least-recently-used order. */
  keys(): K[] {
    return [...this.#entries.keys()];
  }

  #evict(): void {
    if (this.#bytes <= this.#maxBytes) return;
    let newest: K | undefined;
    for (const key of this.#entries.keys()) newest = key;
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      // The most recent entry stays even when it alone exceeds the budget.
      if (entry.pinned || key === newest) continue;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
      this.evictions++;
    }
  }
}
