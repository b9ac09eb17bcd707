/**
 * A growable `Int32Array`: amortized O(1) `push` with no per-element object, so hot loops
 * (tokenizing, postings construction) allocate only when the buffer doubles.
 * @internal
 */
export class IntVector {
  #data: Int32Array;
  /** Number of elements in use. */
  length = 0;

  constructor(capacity = 64) {
    this.#data = new Int32Array(Math.max(4, capacity));
  }

  /** The backing array; only the first {@link length} entries are meaningful. */
  get data(): Int32Array {
    return this.#data;
  }

  /** Appends one value. */
  push(value: number): void {
    if (this.length === this.#data.length) this.#grow(this.length + 1);
    this.#data[this.length++] = value;
  }

  /** Makes room for `extra` more values without changing `length`. */
  reserve(extra: number): void {
    if (this.length + extra > this.#data.length) this.#grow(this.length + extra);
  }

  /** Drops everything (keeps the buffer). */
  clear(): void {
    this.length = 0;
  }

  /** A copy of the used part. */
  toArray(): Int32Array {
    return this.#data.slice(0, this.length);
  }

  /** Bytes held by the backing buffer. */
  get byteLength(): number {
    return this.#data.byteLength;
  }

  #grow(min: number): void {
    let size = this.#data.length * 2;
    while (size < min) size *= 2;
    const next = new Int32Array(size);
    next.set(this.#data.subarray(0, this.length));
    this.#data = next;
  }
}
