import { ShelfError } from '../errors/index.ts';
import { ByteReader, ByteWriter } from './varint.ts';

/**
 * Delta + varint coding of sorted doc-id lists, the unit every persisted postings list,
 * trigram list and tombstone set uses. Byte layout of one list:
 *
 * | field | encoding |
 * | --- | --- |
 * | count | varint |
 * | first id | varint (absolute) |
 * | each next id | varint of `id[i] - id[i-1]` (≥ 1, since ids are strictly increasing) |
 *
 * An empty list is the single byte `0x00`.
 */

/** Appends `ids[0..count)` (strictly increasing, unsigned 32-bit) as a delta-varint list. */
export function writePostings(writer: ByteWriter, ids: ArrayLike<number>, count = ids.length): void {
  writer.writeVarint(count);
  writeGaps(writer, ids, 0, count);
}

/** Appends the ids without the count prefix (first absolute, then gaps). @internal */
export function writeGaps(writer: ByteWriter, ids: ArrayLike<number>, start: number, end: number): void {
  let prev = -1;
  for (let i = start; i < end; i++) {
    const id = ids[i]!;
    if (!(id > prev) || id > 0xffffffff || !Number.isInteger(id)) {
      throw new ShelfError('INVALID_ARGUMENT', `ids[${i}] must be an unsigned 32-bit integer greater than ids[${i - 1}], got ${id}`);
    }
    writer.writeVarint(prev < 0 ? id : id - prev);
    prev = id;
  }
}

/**
 * Encodes a strictly increasing list of unsigned 32-bit ids.
 *
 * @example
 * ```ts
 * decodePostings(encodePostings([3, 7, 8])) // Uint32Array [3, 7, 8]
 * ```
 */
export function encodePostings(ids: ArrayLike<number>): Uint8Array {
  const writer = new ByteWriter(8 + ids.length * 2);
  writePostings(writer, ids);
  return writer.finish();
}

/** Reads one list written by {@link writePostings} from `reader`. */
export function readPostings(reader: ByteReader): Uint32Array {
  const count = reader.varint();
  if (count > reader.end - reader.pos) throw reader.corrupt(`postings list claims ${count} ids`);
  return readGaps(reader, count);
}

/** Reads `count` ids written by {@link writeGaps}. @internal */
export function readGaps(reader: ByteReader, count: number, out = new Uint32Array(count)): Uint32Array {
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const v = reader.varint();
    if (i > 0 && v === 0) throw reader.corrupt('postings ids are not strictly increasing');
    prev = i === 0 ? v : prev + v;
    if (prev > 0xffffffff) throw reader.corrupt('postings id overflows 32 bits');
    out[i] = prev;
  }
  return out;
}

/** Decodes a list made by {@link encodePostings}; bad bytes are `CORRUPT`. */
export function decodePostings(bytes: Uint8Array, what = 'postings'): Uint32Array {
  const reader = new ByteReader(bytes, what);
  const ids = readPostings(reader);
  if (!reader.done) throw reader.corrupt(`${reader.end - reader.pos} trailing bytes`);
  return ids;
}

/**
 * Decodes `count` gap-coded ids starting at `start` without bounds checks: the hot path for
 * lists that were validated when their segment was loaded.
 * @internal
 */
export function decodeGapsUnchecked(bytes: Uint8Array, start: number, count: number, out: Uint32Array): void {
  let pos = start;
  let prev = 0;
  for (let i = 0; i < count; i++) {
    let b = bytes[pos++]!;
    let v = b & 0x7f;
    let shift = 7;
    while (b >= 0x80) {
      b = bytes[pos++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    }
    prev = i === 0 ? v >>> 0 : prev + (v >>> 0);
    out[i] = prev;
  }
}
