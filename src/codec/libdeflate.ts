import { LIBDEFLATE_WASM_BASE64 } from './libdeflate-wasm.ts';

/**
 * libdeflate in WebAssembly: its whole-buffer compressor and decompressor, built from
 * libdeflate's source by scripts/build-libdeflate-wasm.mjs (45 KB, no imports) and embedded
 * as base64. On the column blocks of collection files (100 blocks, 26.8 MB; Node 20,
 * medians of 7) it deflates at level 1 in 118 ms to 4.46 MB, where zlib in WebAssembly took
 * 189 ms to 4.77 MB at its level 1, and inflates them in 22 ms against zlib's 50–54 ms (and
 * Node's native zlib's 26–31 ms). Its output is plain raw deflate that every inflater reads.
 *
 * Being whole-buffer, the module holds an input and its output at once in its memory, which
 * grows to fit and never shrinks: the codec gives it inputs and outputs up to
 * {@link LIBDEFLATE_MAX_INPUT} and streams larger ones through zlib.
 */
export const LIBDEFLATE_MAX_INPUT = 8 * 1024 * 1024;

/** The module's exports (scripts/libdeflate/shim.c). */
interface Exports {
  memory: WebAssembly.Memory;
  /** Allocates the decompressor: 1 on success. */
  cs_init(): number;
  /** The scratch region, at least `size` bytes; 0 when memory cannot grow to hold it. */
  cs_scratch(size: number): number;
  /** The most a raw deflate of `length` bytes at `level` can take (allocating that level's compressor); 0 when it cannot. */
  cs_deflate_bound(level: number, length: number): number;
  /** Raw deflate into `output`: the bytes written, 0 on failure. */
  cs_deflate(level: number, input: number, length: number, output: number, available: number): number;
  /** Inflates to exactly `outLength` bytes: 0, or why not (see `INFLATE_ERRORS`). */
  cs_inflate(input: number, length: number, output: number, outLength: number): number;
}

const INFLATE_ERRORS: Record<number, (rawLength: number) => string> = {
  1: () => 'the deflate stream is damaged or truncated',
  2: (n) => `the deflate stream inflates to fewer than the expected ${n} bytes`,
  3: (n) => `the deflate stream inflates past the expected ${n} bytes`,
  4: () => 'bytes follow the end of the deflate stream',
  5: () => 'no decompressor',
};

/** The module's memory could not grow to hold an input and its output: not a fault of the data (callers fall back to zlib). */
export class LibDeflateMemoryError extends Error {
  constructor(size: number) {
    super(`libdeflate: out of memory for ${size} bytes`);
    this.name = 'LibDeflateMemoryError';
  }
}

export class LibDeflate {
  constructor(private readonly x: Exports) {}

  /** Raw deflate of `bytes` (at most {@link LIBDEFLATE_MAX_INPUT}) at `level`, an integer from 0 (stored) to 12. */
  deflateRaw(bytes: Uint8Array, level: number): Uint8Array {
    if (!Number.isInteger(level) || level < 0 || level > 12) throw new RangeError(`libdeflate: level must be an integer from 0 to 12, got ${level}`);
    const x = this.x;
    const bound = x.cs_deflate_bound(level, bytes.length);
    if (!bound) throw new Error(`libdeflate: no compressor for level ${level}`);
    const input = this.#scratch(bytes.length + bound);
    const output = input + bytes.length;
    new Uint8Array(x.memory.buffer, input, bytes.length).set(bytes);
    const written = x.cs_deflate(level, input, bytes.length, output, bound);
    if (written <= 0) throw new Error('libdeflate: deflate failed');
    return new Uint8Array(x.memory.buffer, output, written).slice();
  }

  /**
   * Inflates raw deflate that must come to exactly `rawLength` bytes (at most
   * {@link LIBDEFLATE_MAX_INPUT}, from at most as many); throws otherwise, and when bytes
   * follow the end of the stream. The result is a new buffer, or the start of `into` when
   * that is given and large enough.
   */
  inflateRaw(bytes: Uint8Array, rawLength: number, into?: ArrayBuffer): Uint8Array {
    if (!Number.isInteger(rawLength) || rawLength < 0) throw new RangeError(`libdeflate: rawLength must be a non-negative integer, got ${rawLength}`);
    const x = this.x;
    const input = this.#scratch(bytes.length + rawLength);
    const output = input + bytes.length;
    new Uint8Array(x.memory.buffer, input, bytes.length).set(bytes);
    const result = x.cs_inflate(input, bytes.length, output, rawLength);
    if (result !== 0) throw new Error(`libdeflate: ${INFLATE_ERRORS[result]?.(rawLength) ?? `inflate failed (${result})`}`);
    const inflated = new Uint8Array(x.memory.buffer, output, rawLength);
    if (into && into.byteLength >= rawLength) {
      const out = new Uint8Array(into, 0, rawLength);
      out.set(inflated);
      return out;
    }
    return inflated.slice();
  }

  /** The module's memory now, in bytes (it grows for large inputs and never shrinks). */
  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  #scratch(size: number): number {
    const at = this.x.cs_scratch(size);
    if (!at) throw new LibDeflateMemoryError(size);
    return at;
  }
}

/** The bytes of a base64 string (the embedded modules). */
export function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Compiles the module; rejects where WebAssembly is missing or refused. */
export async function instantiateLibDeflate(): Promise<LibDeflate> {
  const { instance } = await WebAssembly.instantiate(decodeBase64(LIBDEFLATE_WASM_BASE64), {});
  const exports = instance.exports as unknown as Exports;
  if (!exports.cs_init()) throw new Error('libdeflate: out of memory for its decompressor');
  return new LibDeflate(exports);
}
