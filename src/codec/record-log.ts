import { Packr, RESET_BUFFER_MODE } from 'msgpackr';
import { ShelfError } from '../errors/index.ts';
import { crc32 } from './crc32.ts';

/**
 * Append-only record logs (journals). Each record is:
 *
 * | size | field |
 * | --- | --- |
 * | 4 | payload length n (uint32 LE) |
 * | 4 | CRC-32 of the payload (uint32 LE) |
 * | n | payload: one msgpackr value |
 *
 * A reader stops at the first record that is short or fails its checksum: that is a torn
 * tail from a write cut short, and everything before it is intact. A reader takes any
 * length a writer can write (the 4-byte length caps a payload at 4 GiB − 1, refused when
 * encoding): a smaller cap would drop a large acknowledged record, and every record after
 * it, as if it were torn. A damaged length cannot make a reader allocate: it only ever
 * looks at the bytes it was given.
 */
export const RECORD_HEADER_BYTES = 8;
/** The largest payload the 4-byte length can state. */
export const MAX_RECORD_BYTES = 0xffff_ffff;

const packr = new Packr({ useRecords: false, moreTypes: true });

/** Encodes one journal record. */
export function encodeRecord(value: unknown): Uint8Array {
  let payload: Uint8Array;
  try {
    // Copied into the record below before anything packs again (see `pack` in frame.ts).
    payload = packr.pack(value, RESET_BUFFER_MODE);
  } catch (error) {
    throw new ShelfError('INVALID_ARGUMENT', `record cannot be encoded: ${(error as Error).message}`, { cause: error });
  }
  if (payload.length > MAX_RECORD_BYTES) throw new ShelfError('INVALID_ARGUMENT', `record is ${payload.length} bytes; a journal record holds at most ${MAX_RECORD_BYTES}`);
  const out = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32(payload), true);
  out.set(payload, RECORD_HEADER_BYTES);
  return out;
}

/** The result of {@link readRecords}. */
export interface RecordScan<T> {
  readonly records: T[];
  /** Bytes of intact records; anything after is a torn tail to truncate. */
  readonly validBytes: number;
  /** True when bytes after `validBytes` were dropped. */
  readonly tornTail: boolean;
}

/**
 * Reads records until the end or the first damaged one, or until `limit` records are read
 * (then `tornTail` only says that more bytes follow). Never throws on bad bytes.
 */
export function readRecords<T = unknown>(bytes: Uint8Array, limit = Infinity): RecordScan<T> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: T[] = [];
  let offset = 0;
  while (records.length < limit && offset + RECORD_HEADER_BYTES <= bytes.length) {
    const length = view.getUint32(offset, true);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > bytes.length) break;
    if (crc32(bytes, offset + RECORD_HEADER_BYTES, end) !== view.getUint32(offset + 4, true)) break;
    try {
      records.push(packr.unpack(bytes.subarray(offset + RECORD_HEADER_BYTES, end)) as T);
    } catch {
      break;
    }
    offset = end;
  }
  return { records, validBytes: offset, tornTail: offset !== bytes.length };
}
