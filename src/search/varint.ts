import { ShelfError } from '../errors/index.ts';

/**
 * Unsigned LEB128 varints (7 bits per byte, low bits first, high bit set on every byte but
 * the last) and a growable byte writer. Values are unsigned 32-bit integers.
 * @internal
 */
export class ByteWriter {
  #buf: Uint8Array;
  /** Bytes written so far. */
  length = 0;

  constructor(capacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, capacity));
  }

  /** Appends `value` (0 ≤ value < 2^32) as a varint. */
  writeVarint(value: number): void {
    if (this.length + 5 > this.#buf.length) this.#grow(this.length + 5);
    const buf = this.#buf;
    let v = value >>> 0;
    let p = this.length;
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.length = p;
  }

  /** Appends raw bytes. */
  writeBytes(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.#buf.length) this.#grow(this.length + bytes.length);
    this.#buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** A copy of the bytes written, sized exactly. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }

  #grow(min: number): void {
    let size = this.#buf.length * 2;
    while (size < min) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
  }
}

/**
 * Sequential varint reader with bounds checks: reading past `end` throws `CORRUPT` naming
 * `what`, so a damaged blob never yields garbage offsets.
 * @internal
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
  readonly what: string;

  constructor(bytes: Uint8Array, what: string, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.what = what;
  }

  /** Reads one varint. */
  varint(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    let value = 0;
    let shift = 0;
    for (;;) {
      if (pos >= this.end || shift > 28) throw this.corrupt('truncated or overlong varint');
      const b = bytes[pos++]!;
      value |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    this.pos = pos;
    return value >>> 0;
  }

  /** Reads `length` raw bytes as a view. */
  take(length: number): Uint8Array {
    if (this.pos + length > this.end) throw this.corrupt(`wants ${length} bytes, ${this.end - this.pos} left`);
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** True when every byte was consumed. */
  get done(): boolean {
    return this.pos === this.end;
  }

  /** A `CORRUPT` error naming the blob. */
  corrupt(why: string): ShelfError {
    return new ShelfError('CORRUPT', `${this.what}: ${why} at byte ${this.pos}`);
  }
}

/** Bytes a varint of `value` takes. @internal */
export function varintSize(value: number): number {
  let v = value >>> 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}
