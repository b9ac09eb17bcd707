import { createSHA256, type IHasher } from 'hash-wasm';
import { ShelfError } from '../errors/index.ts';

/** A synchronous SHA-256 of a text's UTF-8 bytes, as 64 lowercase hex digits. @internal */
export type HashText = (text: string) => string;

let loading: Promise<HashText> | undefined;
let loaded: HashText | undefined;

/**
 * Loads the SHA-256 function of this realm, once (hash-wasm: SHA-256 compiled to
 * WebAssembly, ~2.6× faster than a JavaScript implementation on chunk-sized texts in
 * Chromium). Stores load it when they open, so their writes hash synchronously through
 * {@link hashText} — unlike a `crypto.subtle` round trip, nothing yields between a write's
 * call and its commit, and writes commit in the order they were called. It encodes strings
 * as UTF-8 itself, lone surrogates as U+FFFD like `TextEncoder`. Without WebAssembly it
 * fails with `INTERNAL`; the next call tries again.
 * @internal
 */
export function loadHasher(): Promise<HashText> {
  if (loaded) return Promise.resolve(loaded);
  if (loading) return loading;
  const attempt: Promise<HashText> = createSHA256().then(
    (h: IHasher) => (loaded = (text: string) => h.init().update(text).digest('hex')),
    (error: unknown) => {
      if (loading === attempt) loading = undefined;
      throw new ShelfError('INTERNAL', `SHA-256 (hash-wasm) could not be instantiated; content hashes need WebAssembly: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    },
  );
  loading = attempt;
  return attempt;
}

/** The SHA-256 hex digest of `text`, synchronously; {@link loadHasher} must have resolved. @internal */
export function hashText(text: string): string {
  if (!loaded) throw new ShelfError('INTERNAL', 'hashText() before loadHasher() resolved');
  return loaded(text);
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
