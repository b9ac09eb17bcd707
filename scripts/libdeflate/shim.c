/*
 * What libdeflate needs to run as a freestanding WebAssembly module, and the entry points
 * src/codec/libdeflate.ts calls (built by scripts/build-libdeflate-wasm.mjs).
 *
 * - memcpy, memmove and memset are the bulk-memory instructions; the compiler inlines the
 *   small fixed-size copies libdeflate makes for unaligned loads.
 * - malloc is a bump allocator: the module allocates only its decompressor (in cs_init)
 *   and one compressor per level used (in cs_deflate_bound), and keeps them for its life.
 * - The caller's input and output go in one scratch region after everything allocated,
 *   grown as needed (memory never shrinks, so the caller caps its inputs).
 */
#include <stddef.h>
#include "libdeflate.h"

void *memcpy(void *d, const void *s, size_t n) { __builtin_memcpy(d, s, n); return d; }
void *memmove(void *d, const void *s, size_t n) { __builtin_memmove(d, s, n); return d; }
void *memset(void *d, int c, size_t n) { __builtin_memset(d, c, n); return d; }
void abort(void) { __builtin_trap(); }

extern unsigned char __heap_base;
static size_t top;

/* Grows memory until [0, end) is in it; 0 when it cannot. */
static int reach(size_t end) {
  size_t have = __builtin_wasm_memory_size(0) * 65536;
  if (end <= have) return 1;
  return __builtin_wasm_memory_grow(0, (end - have + 65535) / 65536) != (size_t)-1;
}

static size_t heap_top(void) {
  if (!top) top = ((size_t)&__heap_base + 15) & ~(size_t)15;
  return top;
}

void *malloc(size_t n) {
  size_t start = heap_top();
  if (n > (size_t)-1 - start - 15 || !reach(start + n)) return 0;
  top = (start + n + 15) & ~(size_t)15;
  return (void *)start;
}

void free(void *p) { (void)p; }

static struct libdeflate_decompressor *decompressor;
static struct libdeflate_compressor *compressors[13];

/* Allocates the decompressor; 1 on success. */
int cs_init(void) {
  if (!decompressor) decompressor = libdeflate_alloc_decompressor();
  return decompressor != 0;
}

/* The scratch region, at least n bytes long; 0 when memory cannot grow to hold it. */
unsigned char *cs_scratch(size_t n) {
  size_t start = heap_top();
  if (n > (size_t)-1 - start || !reach(start + n)) return 0;
  return (unsigned char *)start;
}

/* The most raw deflate of n bytes at level can take (allocating that level's compressor); 0 when it cannot be had. */
size_t cs_deflate_bound(int level, size_t n) {
  if (level < 0 || level > 12) return 0;
  if (!compressors[level]) compressors[level] = libdeflate_alloc_compressor(level);
  if (!compressors[level]) return 0;
  return libdeflate_deflate_compress_bound(compressors[level], n);
}

/* Raw deflate of in[0..n) into out (avail bytes) at level: the bytes written, 0 on failure. */
size_t cs_deflate(int level, const void *in, size_t n, void *out, size_t avail) {
  if (level < 0 || level > 12 || !compressors[level]) return 0;
  return libdeflate_deflate_compress(compressors[level], in, n, out, avail);
}

/*
 * Inflates raw deflate in[0..n) to exactly out_n bytes at out: 0 on success, else
 * 1 bad data, 2 fewer bytes than out_n, 3 more, 4 bytes after the end of the stream,
 * 5 no decompressor.
 */
int cs_inflate(const void *in, size_t n, void *out, size_t out_n) {
  size_t in_used = 0, out_used = 0;
  enum libdeflate_result r;
  if (!decompressor) return 5;
  r = libdeflate_deflate_decompress_ex(decompressor, in, n, out, out_n, &in_used, &out_used);
  if (r == LIBDEFLATE_BAD_DATA) return 1;
  if (r == LIBDEFLATE_INSUFFICIENT_SPACE) return 3;
  if (r != LIBDEFLATE_SUCCESS) return 1;
  if (out_used != out_n) return 2;
  if (in_used != n) return 4;
  return 0;
}
