import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

const encoder = new TextEncoder();

/**
 * SHA-256 of the UTF-8 encoding of `text`, synchronously (@noble/hashes: audited, and for
 * the many small chunk texts of a file faster than a `crypto.subtle` round trip each).
 * @internal
 */
export function sha256HexSync(text: string): string {
  return bytesToHex(sha256(encoder.encode(text)));
}

/**
 * SHA-256 of the UTF-8 encoding of `text`, as 64 lowercase hex digits — the `contentHash`
 * of a chunk. Same digest as `crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))`.
 *
 * Hashes are computed before a write transaction starts and bound as parameters, so a
 * replayed journal never hashes anything.
 */
export async function sha256Hex(text: string): Promise<string> {
  return sha256HexSync(text);
}

/** UTF-8 byte length of `text` without allocating its encoding. @internal */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
