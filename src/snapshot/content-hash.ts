import { createSHA256, type IHasher } from 'hash-wasm';

/** A synchronous SHA-256 of a text's UTF-8 bytes, as 64 lowercase hex digits. @internal */
export type HashText = (text: string) => string;

let hasher: Promise<HashText> | undefined;

/**
 * The SHA-256 function of this realm, instantiated once (hash-wasm: SHA-256 compiled to
 * WebAssembly, ~2.6× faster than a JavaScript implementation on chunk-sized texts in
 * Chromium, and synchronous — unlike a `crypto.subtle` round trip — so a write hashes its
 * chunks without yielding, and writes commit in the order they were called). It encodes
 * strings as UTF-8 itself, lone surrogates as U+FFFD like `TextEncoder`.
 * @internal
 */
export function loadHasher(): Promise<HashText> {
  hasher ??= createSHA256().then((h: IHasher) => (text: string) => h.init().update(text).digest('hex'));
  // A failed instantiation (no WebAssembly) is retried by the next caller.
  hasher.catch(() => {
    hasher = undefined;
  });
  return hasher;
}

/**
 * SHA-256 of the UTF-8 encoding of `text`, as 64 lowercase hex digits — the `contentHash`
 * of a chunk. Same digest as `crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))`.
 *
 * Hashes are computed before a write transaction starts and bound as parameters, so a
 * replayed journal never hashes anything.
 */
export async function sha256Hex(text: string): Promise<string> {
  return (await loadHasher())(text);
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
