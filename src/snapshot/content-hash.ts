const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * SHA-256 of the UTF-8 encoding of `text`, as 64 lowercase hex digits. Uses WebCrypto
 * (`crypto.subtle`), present in workers, browsers and Node 20.
 *
 * Hashes are computed before a write transaction starts: the digest is asynchronous and a
 * sql.js transaction must not span an `await`.
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  let out = '';
  for (const byte of digest) out += HEX[byte];
  return out;
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
