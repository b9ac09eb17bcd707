/**
 * Code units below this are stored as one byte; this one and above as three: `ESCAPE`, then
 * the unit minus `ESCAPE` in two bytes, big-endian. The code is prefix-free and keeps the
 * order of code units, so comparing encoded bytes compares terms as `<` does, and a term
 * starts with a prefix exactly when its bytes start with the prefix's bytes.
 */
const ESCAPE = 0xf8;
const NEEDS_ESCAPE = /[\u00f8-\uffff]/;
/** Most code units passed to one `String.fromCharCode` call, which has an argument limit. */
const CHUNK = 4096;

/** `text` with every code unit ≥ {@link ESCAPE} spelled as three units below 256. */
function escapeTerm(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c < ESCAPE ? text[i]! : String.fromCharCode(ESCAPE, (c - ESCAPE) >>> 8, (c - ESCAPE) & 0xff);
  }
  return out;
}

/**
 * A segment body's sorted, duplicate-free terms, packed into one byte array with the start
 * of each term. Half a million terms held as separate strings cost about 40 bytes each in
 * V8 (string header and array slot) for terms of 10 code units on average; here a term costs
 * a 4-byte offset and one byte per code unit (three for units from U+00F8 up, which are rare
 * in code). Bytes rather than one joined string: V8 stores a string with two bytes per unit
 * as soon as one unit needs it, or one of the joined strings was sliced from such a text.
 * Lookups compare bytes in place and allocate nothing (unless the term looked up has units
 * from U+00F8 up); {@link termAt} and {@link toArray} allocate, for merges and encoding.
 * @internal
 */
export class TermTable {
  /** The terms' code units, encoded as described at {@link ESCAPE}, back to back. */
  readonly bytes: Uint8Array;
  /** Term `i` is `bytes[starts[i]..starts[i + 1])` (`size + 1` entries). */
  readonly starts: Uint32Array;

  /** `terms` must be sorted (by UTF-16 code units, as `<` compares) and free of duplicates. */
  constructor(terms: readonly string[]) {
    let total = 0;
    for (const term of terms) {
      total += term.length;
      for (let k = 0; k < term.length; k++) if (term.charCodeAt(k) >= ESCAPE) total += 2;
    }
    const bytes = new Uint8Array(total);
    const starts = new Uint32Array(terms.length + 1);
    let at = 0;
    for (let i = 0; i < terms.length; i++) {
      starts[i] = at;
      const term = terms[i]!;
      for (let k = 0; k < term.length; k++) {
        const c = term.charCodeAt(k);
        if (c < ESCAPE) bytes[at++] = c;
        else {
          bytes[at++] = ESCAPE;
          bytes[at++] = (c - ESCAPE) >>> 8;
          bytes[at++] = (c - ESCAPE) & 0xff;
        }
      }
    }
    starts[terms.length] = at;
    this.bytes = bytes;
    this.starts = starts;
  }

  /** Number of terms. */
  get size(): number {
    return this.starts.length - 1;
  }

  /** Bytes held. */
  get byteLength(): number {
    return this.bytes.byteLength + this.starts.byteLength;
  }

  /** Term `i` (allocates a string). */
  termAt(i: number): string {
    const bytes = this.bytes;
    const to = this.starts[i + 1]!;
    const units: number[] = [];
    for (let k = this.starts[i]!; k < to; k++) {
      const b = bytes[k]!;
      if (b < ESCAPE) units.push(b);
      else {
        units.push(ESCAPE + ((bytes[k + 1]! << 8) | bytes[k + 2]!));
        k += 2;
      }
    }
    if (units.length <= CHUNK) return String.fromCharCode(...units);
    let out = '';
    for (let k = 0; k < units.length; k += CHUNK) out += String.fromCharCode(...units.slice(k, k + CHUNK));
    return out;
  }

  /** Every term, in order (allocates them). */
  toArray(): string[] {
    const out = new Array<string>(this.size);
    for (let i = 0; i < out.length; i++) out[i] = this.termAt(i);
    return out;
  }

  /** Index of `term`, or -1. */
  findTerm(term: string): number {
    const key = escapeTerm(term);
    const i = this.#lowerBound(key);
    return i < this.size && this.#compare(i, key) === 0 ? i : -1;
  }

  /** `[from, to)`: the indexes of the terms starting with `prefix`, a contiguous range. */
  prefixRange(prefix: string): [number, number] {
    const key = escapeTerm(prefix);
    const from = this.#lowerBound(key);
    let lo = from;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#startsWith(mid, key)) lo = mid + 1;
      else hi = mid;
    }
    return [from, lo];
  }

  /** First index whose term is not less than the escaped `key`. */
  #lowerBound(key: string): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#compare(mid, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Negative, zero or positive as term `i` sorts before, equal to or after the escaped `key`. */
  #compare(i: number, key: string): number {
    const bytes = this.bytes;
    const start = this.starts[i]!;
    const length = this.starts[i + 1]! - start;
    const common = Math.min(length, key.length);
    for (let k = 0; k < common; k++) {
      const d = bytes[start + k]! - key.charCodeAt(k);
      if (d !== 0) return d;
    }
    return length - key.length;
  }

  /** Whether term `i` starts with the escaped `key`. */
  #startsWith(i: number, key: string): boolean {
    const bytes = this.bytes;
    const start = this.starts[i]!;
    if (this.starts[i + 1]! - start < key.length) return false;
    for (let k = 0; k < key.length; k++) if (bytes[start + k] !== key.charCodeAt(k)) return false;
    return true;
  }
}
