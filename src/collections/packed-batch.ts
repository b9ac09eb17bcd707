import { Packr, RESET_BUFFER_MODE } from 'msgpackr';
import { fromColumns, holdsObjects, toColumns } from '../codec/columns.ts';
import { ShelfError } from '../errors/index.ts';
import type { Doc } from './types.ts';

/**
 * A batch of documents as bytes: MessagePack (records) of `{ count, columns }` with the
 * documents column-wise (src/codec/columns.ts): the same payload as a format-2 block of a
 * collection file, before deflate. Streams to the page carry these, so a block read from
 * a file crosses the thread as the bytes it already is and the page rebuilds the objects
 * with a few native string decodes, instead of a structured clone of every object.
 *
 * Kept apart from the file codec so the page imports only msgpackr and the column codec.
 */
const packr = new Packr({ useRecords: true, moreTypes: true });

/**
 * Encodes documents as one batch. The bytes are a fresh copy (safe to transfer), so the
 * packer packs over its own buffer every time (see `pack` in src/codec/frame.ts). Copied
 * with `new Uint8Array`, not `slice`: in Node msgpackr packs into a `Buffer`, whose `slice`
 * is a view of the same memory.
 */
export function encodeDocBatch(docs: readonly Doc[]): Uint8Array {
  return new Uint8Array(packr.pack({ count: docs.length, columns: toColumns(docs) }, RESET_BUFFER_MODE));
}

/** Reads the `{ count, columns }` of a batch or block payload; malformed bytes are `CORRUPT`. */
export function unpackDocBatch(bytes: Uint8Array, label: string): { count: number; columns: unknown } {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    throw new ShelfError('CORRUPT', `${label}: not valid MessagePack: ${(error as Error).message}`, { cause: error });
  }
  return checkDocBatch(value, label);
}

/** Checks the `{ count, columns }` shape of an unpacked batch or format-2 block. */
export function checkDocBatch(value: unknown, label: string): { count: number; columns: unknown } {
  const b = value as { count?: unknown; columns?: unknown } | null;
  if (!b || typeof b !== 'object' || !Number.isInteger(b.count) || (b.count as number) < 0) throw new ShelfError('CORRUPT', `${label}: batch is malformed`);
  return b as { count: number; columns: unknown };
}

/** Rebuilds the documents of a batch; anything inconsistent is `CORRUPT` naming `label`. */
export function decodeDocBatch(bytes: Uint8Array, label: string): Doc[] {
  return docsFromColumns(unpackDocBatch(bytes, label), label);
}

/**
 * {@link decodeDocBatch}, and whether the documents are free of `bytes`: none holds a view
 * into its buffer (see `holdsObjects`), so the buffer may be written over or given away.
 */
export function decodeDocBatchFree(bytes: Uint8Array, label: string): { docs: Doc[]; free: boolean } {
  const batch = unpackDocBatch(bytes, label);
  return { docs: docsFromColumns(batch, label), free: !holdsObjects(batch.columns) };
}

export function docsFromColumns(batch: { count: number; columns: unknown }, label: string): Doc[] {
  let docs: Record<string, unknown>[];
  try {
    docs = fromColumns(batch.columns, batch.count);
  } catch (error) {
    throw new ShelfError('CORRUPT', `${label}: ${(error as Error).message}`, { cause: error });
  }
  for (const d of docs) {
    if (d === null || typeof d !== 'object' || typeof d._id !== 'string') throw new ShelfError('CORRUPT', `${label}: does not hold documents`);
  }
  return docs as Doc[];
}
