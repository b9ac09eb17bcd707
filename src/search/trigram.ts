import type { IntVector } from './int-vector.ts';

/**
 * Trigram keys. Every run of three UTF-16 code units is folded (ASCII `A`–`Z` to lowercase;
 * other code units unchanged) and packed into an integer: three ASCII code units take 21
 * bits (`a << 14 | b << 7 | c`), anything else is hashed into 2^18 extra buckets above
 * them. Collisions in the hashed range only add candidates, which verification removes.
 */

/** Keys below this are exact ASCII trigrams. */
export const TRIGRAM_ASCII_SPACE = 1 << 21;
const HASHED_MASK = (1 << 18) - 1;
/** Number of distinct trigram keys. */
export const TRIGRAM_SPACE = TRIGRAM_ASCII_SPACE + HASHED_MASK + 1;

/** Folds ASCII upper case to lower case, leaves everything else. */
export function foldCodeUnit(c: number): number {
  return c >= 65 && c <= 90 ? c | 32 : c;
}

function hashedKey(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ c, 0x27d4eb2f);
  h ^= h >>> 15;
  return TRIGRAM_ASCII_SPACE + (h & HASHED_MASK);
}

/** The key of three code units. */
export function trigramKey(a: number, b: number, c: number): number {
  a = foldCodeUnit(a);
  b = foldCodeUnit(b);
  c = foldCodeUnit(c);
  if ((a | b | c) < 128) return (a << 14) | (b << 7) | c;
  return hashedKey(a, b, c);
}

/** The key of a three-code-unit string. */
export function trigramKeyOf(s: string): number {
  return trigramKey(s.charCodeAt(0), s.charCodeAt(1), s.charCodeAt(2));
}

/** One bit per key (~290 KB): the keys of the document being scanned; cleared after each. */
let seenBits: Uint32Array | null = null;

/**
 * Appends the distinct trigram keys of `text` to `out` (unordered) and returns how many.
 * Dedupes with a bitset over the key space (cleared through the keys it collected), so a
 * document costs O(length) and the module holds ~290 KB, not a 9 MB stamp table.
 * @internal
 */
export function collectTrigrams(text: string, out: IntVector): number {
  const n = text.length;
  if (n < 3) return 0;
  seenBits ??= new Uint32Array((TRIGRAM_SPACE + 31) >>> 5);
  const seen = seenBits;
  const before = out.length;
  out.reserve(Math.min(n, 4096));
  let a = foldCodeUnit(text.charCodeAt(0));
  let b = foldCodeUnit(text.charCodeAt(1));
  for (let i = 2; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 32;
    const key = (a | b | c) < 128 ? (a << 14) | (b << 7) | c : hashedKey(a, b, c);
    const word = key >>> 5;
    const bit = 1 << (key & 31);
    if ((seen[word]! & bit) === 0) {
      seen[word] = seen[word]! | bit;
      out.push(key);
    }
    a = b;
    b = c;
  }
  const keys = out.data;
  for (let k = before; k < out.length; k++) seen[keys[k]! >>> 5] = 0;
  return out.length - before;
}
