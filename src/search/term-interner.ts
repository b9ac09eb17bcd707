import { IntVector } from './int-vector.ts';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const RECENT_SIZE = 4096;

/**
 * Interns lowercase terms to dense integer ids with an open-addressing hash table keyed by
 * FNV-1a. {@link internRange} hashes and compares a slice of the source text in place,
 * folding ASCII case as it goes, so indexing a token allocates no string unless the term
 * is new.
 * @internal
 */
export class TermInterner {
  /** Term text by id. */
  readonly terms: string[] = [];
  /** Open addressing, two entries per slot (one cache line holds both): id + 1 (0 = empty) and the term's hash. */
  #slots: Int32Array = new Int32Array(2048);
  #mask = 1023;
  readonly #hashes = new IntVector(512);
  /**
   * A small direct-mapped cache of recently interned ASCII terms, by hash (4,096 entries,
   * 32 KB, which stays in the CPU's caches): most tokens are frequent terms, and the big
   * table's slots, hashes and term strings are each a cache miss once the table holds 100k
   * terms. Interners for a few words (highlighting) take a one-entry cache.
   */
  readonly #recentHash: Int32Array;
  readonly #recentId: Int32Array;
  readonly #recentMask: number;

  /** `recent`: entries of the recent-term cache, a power of two (default 4,096). */
  constructor(recent = RECENT_SIZE) {
    this.#recentHash = new Int32Array(recent);
    this.#recentId = new Int32Array(recent);
    this.#recentMask = recent - 1;
  }

  /** Number of distinct terms. */
  get size(): number {
    return this.terms.length;
  }

  /** Approximate bytes held. */
  get byteLength(): number {
    let chars = 0;
    for (const t of this.terms) chars += t.length;
    return this.#slots.byteLength + this.#hashes.byteLength + this.#recentHash.byteLength * 2 + chars * 2 + this.terms.length * 16;
  }

  /**
   * The id of `text.slice(start, end)` lowercased. `ascii` says the slice has no code unit
   * ≥ 128 (then case folding is done in place); otherwise the slice is lowercased with
   * `toLowerCase()` first.
   */
  internRange(text: string, start: number, end: number, ascii: boolean): number {
    if (!ascii) return this.intern(text.slice(start, end).toLowerCase());
    let h = FNV_OFFSET;
    for (let i = start; i < end; i++) {
      let c = text.charCodeAt(i);
      if (c >= 65 && c <= 90) c |= 32;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    h |= 0;
    const len = end - start;
    // The recent-term cache first: frequent terms are found without touching the big table.
    const r = h & this.#recentMask;
    if (this.#recentHash[r] === h) {
      // An unused entry (hash 0, id 0) may meet a term hashing to 0 before term 0 exists.
      const id = this.#recentId[r]!;
      const term = this.terms[id];
      if (term !== undefined && this.#matches(term, text, start, len)) return id;
    }
    const mask = this.#mask;
    const slots = this.#slots;
    let slot = h & mask;
    for (;;) {
      const entry = slots[slot * 2]!;
      if (entry === 0) break;
      const id = entry - 1;
      if (slots[slot * 2 + 1] === h && this.#matches(this.terms[id]!, text, start, len)) {
        this.#recentHash[r] = h;
        this.#recentId[r] = id;
        return id;
      }
      slot = (slot + 1) & mask;
    }
    const id = this.#insert(text.slice(start, end).toLowerCase(), h, slot);
    this.#recentHash[r] = h;
    this.#recentId[r] = id;
    return id;
  }

  /** Whether `term` equals `text[start, start + len)` with A–Z folded to a–z. */
  #matches(term: string, text: string, start: number, len: number): boolean {
    if (term.length !== len) return false;
    for (let i = 0; i < len; i++) {
      let c = text.charCodeAt(start + i);
      if (c >= 65 && c <= 90) c |= 32;
      if (term.charCodeAt(i) !== c) return false;
    }
    return true;
  }

  /** The id of `term` (already lowercase), adding it when new. */
  intern(term: string): number {
    const h = hashTerm(term);
    const slot = this.#slotOf(term, h);
    const entry = this.#slots[slot * 2]!;
    return entry !== 0 ? entry - 1 : this.#insert(term, h, slot);
  }

  /** The id of `term`, or -1. */
  lookup(term: string): number {
    return this.#slots[this.#slotOf(term, hashTerm(term)) * 2]! - 1;
  }

  /** The slot holding `term` (hash `h`), or the empty slot where it would go. */
  #slotOf(term: string, h: number): number {
    const mask = this.#mask;
    let slot = h & mask;
    for (;;) {
      const entry = this.#slots[slot * 2]!;
      if (entry === 0) return slot;
      if (this.#slots[slot * 2 + 1] === h && this.terms[entry - 1] === term) return slot;
      slot = (slot + 1) & mask;
    }
  }

  #insert(term: string, h: number, slot: number): number {
    const id = this.terms.length;
    this.terms.push(term);
    this.#hashes.push(h);
    this.#slots[slot * 2] = id + 1;
    this.#slots[slot * 2 + 1] = h;
    if (this.terms.length * 2 > this.#mask + 1) this.#rehash();
    return id;
  }

  #rehash(): void {
    const size = (this.#mask + 1) * 2;
    const slots = new Int32Array(size * 2);
    const mask = size - 1;
    const hashes = this.#hashes.data;
    for (let id = 0; id < this.terms.length; id++) {
      let slot = hashes[id]! & mask;
      while (slots[slot * 2] !== 0) slot = (slot + 1) & mask;
      slots[slot * 2] = id + 1;
      slots[slot * 2 + 1] = hashes[id]!;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}

/** FNV-1a over UTF-16 code units, as a signed 32-bit integer. @internal */
export function hashTerm(term: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < term.length; i++) h = Math.imul(h ^ term.charCodeAt(i), FNV_PRIME);
  return h | 0;
}
