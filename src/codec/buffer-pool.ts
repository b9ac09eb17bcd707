/**
 * Buffers for inflated blocks that come back once their reader is done with them.
 *
 * A stream to the page inflates every block into a fresh `ArrayBuffer` and transfers it;
 * in Chromium, writing into fresh memory cost as much as inflating it (a storage worker,
 * 100 blocks of 0.27 MB: libdeflate 18 ms, copying the results into fresh buffers 15 ms
 * more, into buffers used before 1 ms). The page hands each batch's buffer back once it has
 * rebuilt the documents and none of them holds a view into it (see `holdsObjects` in
 * columns.ts), and the next blocks are inflated into those.
 *
 * A buffer handed out ({@link BufferPool.take} or {@link BufferPool.fresh}) is the
 * caller's alone: it may be transferred whole, though the block fills only its start.
 * @internal
 */
export class BufferPool {
  readonly #free: ArrayBuffer[] = [];
  readonly #issued = new WeakSet<ArrayBuffer>();
  #bytes = 0;

  constructor(
    /** Buffers kept at most. */
    private readonly maxBuffers = 16,
    /** Bytes kept at most, all buffers together. */
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  /** A kept buffer of at least `size` bytes (the smallest), or undefined. */
  take(size: number): ArrayBuffer | undefined {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const n = this.#free[i]!.byteLength;
      if (n >= size && (best < 0 || n < this.#free[best]!.byteLength)) best = i;
    }
    if (best < 0) return undefined;
    const buffer = this.#free.splice(best, 1)[0]!;
    this.#bytes -= buffer.byteLength;
    this.#issued.add(buffer);
    return buffer;
  }

  /** A new buffer for `size` bytes with room to spare (a later, slightly larger block fits it too). */
  fresh(size: number): ArrayBuffer {
    const buffer = new ArrayBuffer(Math.ceil((size * 1.25 + 1) / 65536) * 65536);
    this.#issued.add(buffer);
    return buffer;
  }

  /** Whether `buffer` was handed out by this pool (and not given back since). */
  issued(buffer: ArrayBufferLike): boolean {
    return buffer instanceof ArrayBuffer && this.#issued.has(buffer);
  }

  /** Keeps `buffer` for a later {@link take}, if there is room; buffers of other kinds, detached or too large are dropped. */
  give(buffer: unknown): void {
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0 || buffer.byteLength > this.maxBytes / 2) return;
    if (this.#free.includes(buffer)) return;
    this.#issued.delete(buffer);
    if (this.#free.length >= this.maxBuffers || this.#bytes + buffer.byteLength > this.maxBytes) return;
    this.#free.push(buffer);
    this.#bytes += buffer.byteLength;
  }

  /** Buffers kept now. */
  get size(): number {
    return this.#free.length;
  }
}
