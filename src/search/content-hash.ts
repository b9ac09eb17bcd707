/**
 * A fast non-cryptographic 53-bit hash of a string's UTF-16 code units (two interleaved
 * multiply-xor lanes, cyrb53 style), used to recognize text that was seen before. It is
 * not collision-proof against an adversary; callers pair it with the length.
 *
 * @example
 * ```ts
 * contentHash('const x = 1') === contentHash('const x = 1') // true
 * ```
 */
export function contentHash(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A cache key for `text`: its hash plus its length, as one string. */
export function contentKey(text: string): string {
  return `${contentHash(text).toString(36)}:${text.length.toString(36)}`;
}
