import { IntVector } from './int-vector.ts';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

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
  #slots: Int32Array = new Int32Array(1024);
  #mask = 1023;
  readonly #hashes = new IntVector(512);

  /** Number of distinct terms. */
  get size(): number {
    return this.terms.length;
  }

  /** Approximate bytes held. */
  get byteLength(): number {
    let chars = 0;
    for (const t of this.terms) chars += t.length;
    return this.#slots.byteLength + this.#hashes.byteLength + chars * 2 + this.terms.length * 16;
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
    const mask = this.#mask;
    let slot = h & mask;
    for (;;) {
      const entry = this.#slots[slot]!;
      if (entry === 0) break;
      const id = entry - 1;
      if (this.#hashes.data[id] === h) {
        const term = this.terms[id]!;
        if (term.length === len) {
          let same = true;
          for (let i = 0; i < len; i++) {
            let c = text.charCodeAt(start + i);
            if (c >= 65 && c <= 90) c |= 32;
            if (term.charCodeAt(i) !== c) {
              same = false;
              break;
            }
          }
          if (same) return id;
        }
      }
      slot = (slot + 1) & mask;
    }
    return this.#insert(text.slice(start, end).toLowerCase(), h, slot);
  }

  /** The id of `term` (already lowercase), adding it when new. */
  intern(term: string): number {
    const h = hashTerm(term);
    const slot = this.#slotOf(term, h);
    const entry = this.#slots[slot]!;
    return entry !== 0 ? entry - 1 : this.#insert(term, h, slot);
  }

  /** The id of `term`, or -1. */
  lookup(term: string): number {
    return this.#slots[this.#slotOf(term, hashTerm(term))]! - 1;
  }

  /** The slot holding `term` (hash `h`), or the empty slot where it would go. */
  #slotOf(term: string, h: number): number {
    const mask = this.#mask;
    let slot = h & mask;
    for (;;) {
      const entry = this.#slots[slot]!;
      if (entry === 0) return slot;
      const id = entry - 1;
      if (this.#hashes.data[id] === h && this.terms[id] === term) return slot;
      slot = (slot + 1) & mask;
    }
  }

  #insert(term: string, h: number, slot: number): number {
    const id = this.terms.length;
    this.terms.push(term);
    this.#hashes.push(h);
    this.#slots[slot] = id + 1;
    if (this.terms.length * 2 > this.#slots.length) this.#rehash();
    return id;
  }

  #rehash(): void {
    const size = this.#slots.length * 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    const hashes = this.#hashes.data;
    for (let id = 0; id < this.terms.length; id++) {
      let slot = hashes[id]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
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
