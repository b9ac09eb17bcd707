import { LIBDEFLATE_WASM_BASE64 } from './libdeflate-wasm.ts';

/**
 * libdeflate's compressor in WebAssembly (from the `libdeflate` package, embedded by
 * scripts/embed-libdeflate-wasm.mjs). It compresses a whole buffer at once and, on the
 * column blocks of collection files, level 1 deflated 100 blocks (26.8 MB) in 131 ms to
 * 4.46 MB where zlib in WebAssembly took 189 ms to 4.77 MB at its level 1 and 195 ms to
 * 4.21 MB at level 2 (Node 20, medians of 5). Its output is plain raw deflate, so every
 * inflater reads it; the package has no decompressor, so inflating stays with zlib.
 *
 * Being whole-buffer, the module's memory grows to hold the input and its worst-case
 * output, and WebAssembly memory never shrinks: the codec sends it inputs up to
 * {@link LIBDEFLATE_MAX_INPUT} and streams larger ones through zlib.
 */
export const LIBDEFLATE_MAX_INPUT = 8 * 1024 * 1024;

// The Emscripten glue's minified names (checked by the embed script).
interface Exports {
  /** memory */
  c: WebAssembly.Memory;
  /** __wasm_call_ctors */
  d(): void;
  /** libdeflate_alloc_compressor(level) */
  e(level: number): number;
  /** libdeflate_deflate_compress(compressor, in, in_nbytes, out, out_nbytes_avail) */
  f(compressor: number, input: number, inLength: number, output: number, outLength: number): number;
  /** libdeflate_deflate_compress_bound(compressor, in_nbytes) */
  h(compressor: number, inLength: number): number;
  /** malloc */
  n(size: number): number;
  /** free */
  o(pointer: number): void;
}

export class LibDeflate {
  readonly #compressors = new Map<number, number>();
  #input = 0;
  #inputSize = 0;
  #output = 0;
  #outputSize = 0;

  constructor(private readonly x: Exports) {}

  /** Raw deflate of `bytes` (at most {@link LIBDEFLATE_MAX_INPUT}) at `level`, an integer from 0 (stored) to 12. */
  deflateRaw(bytes: Uint8Array, level: number): Uint8Array {
    if (!Number.isInteger(level) || level < 0 || level > 12) throw new RangeError(`libdeflate: level must be an integer from 0 to 12, got ${level}`);
    const x = this.x;
    let compressor = this.#compressors.get(level);
    if (compressor === undefined) {
      compressor = x.e(level);
      if (!compressor) throw new Error(`libdeflate: no compressor for level ${level}`);
      this.#compressors.set(level, compressor);
    }
    const bound = x.h(compressor, bytes.length);
    if (bytes.length > this.#inputSize) {
      const size = Math.max(bytes.length, 64 * 1024);
      this.#input = this.#replace(this.#input, size);
      this.#inputSize = size;
    }
    if (bound > this.#outputSize) {
      const size = Math.max(bound, 64 * 1024);
      this.#output = this.#replace(this.#output, size);
      this.#outputSize = size;
    }
    new Uint8Array(x.c.buffer, this.#input, bytes.length).set(bytes);
    const written = x.f(compressor, this.#input, bytes.length, this.#output, bound);
    if (written <= 0) throw new Error('libdeflate: deflate failed');
    return new Uint8Array(x.c.buffer, this.#output, written).slice();
  }

  /** The module's memory now, in bytes (it grows for large inputs and never shrinks). */
  get memoryBytes(): number {
    return this.x.c.buffer.byteLength;
  }

  /** A buffer of `size` bytes in place of `pointer`'s; the old one is kept if allocation fails. */
  #replace(pointer: number, size: number): number {
    const next = this.x.n(size);
    if (!next) throw new Error(`libdeflate: out of memory for ${size} bytes`);
    if (pointer) this.x.o(pointer);
    return next;
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
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    a: {
      // emscripten_resize_heap, as the package's glue does it: refuse past 2 GiB; else try
      // a fifth more than now, then a tenth, a twentieth, a fortieth (each capped at the
      // request plus 96 MiB), rounded up to 64 KiB pages, never less than the request.
      a(requested: number): number {
        const want = requested >>> 0;
        const max = 2 ** 31;
        if (want > max) return 0;
        const have = memory!.buffer.byteLength;
        for (let cut = 1; cut <= 4; cut *= 2) {
          const over = Math.min(have * (1 + 0.2 / cut), want + 96 * 1024 * 1024);
          const size = Math.min(max, Math.ceil(Math.max(want, over) / 65536) * 65536);
          try {
            memory!.grow((size - memory!.buffer.byteLength + 65535) >>> 16);
            return 1;
          } catch {
            // try a smaller step
          }
        }
        return 0;
      },
      // emscripten_memcpy_big
      b(dest: number, src: number, length: number): void {
        new Uint8Array(memory!.buffer).copyWithin(dest, src, src + length);
      },
    },
  };
  const { instance } = await WebAssembly.instantiate(decodeBase64(LIBDEFLATE_WASM_BASE64), imports);
  const exports = instance.exports as unknown as Exports;
  memory = exports.c;
  exports.d();
  return new LibDeflate(exports);
}
