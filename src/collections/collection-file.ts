import {
  checkFrame, columnBuffers, decodeFramePayloadAsync, encodeFrameAsync, FRAME_HEADER_BYTES, frameBlocks, inflateInOrder, InflateError,
  readFrameInfo, toColumns, unpackCheckedFrame, columnsFormat, type CheckedFrame,
} from '../codec/index.ts';
import type { BufferPool } from '../codec/buffer-pool.ts';
import { holdsObjects, keyStringHashes, keyValues } from '../codec/columns.ts';
import { checkDocBatch, docsFromColumns } from './packed-batch.ts';
import { idHash } from './doc-table.ts';
import { ShelfError } from '../errors/index.ts';
import type { BlobReader, BlobStore } from '../opfs/index.ts';
import type { Doc } from './types.ts';

/**
 * A collection file is a run of codec frames (see src/codec/frame.ts):
 *
 * 1. one `COLH` frame: `{ format, name, count, blocks, generation, savedAt }`;
 * 2. `blocks` × `COLB` frames of up to 1,000 documents each, deflated: in formats 2 to 4
 *    `{ count, columns }` with the documents column-wise (src/codec/columns.ts); a file is
 *    written at the lowest format its blocks allow: 3 when a block has columns format-2
 *    readers refuse (UTF-16 strings for lone surrogates, an own `__proto__` key), 4 when one
 *    has a union column (values of mixed kinds), so older readers say UNSUPPORTED_VERSION
 *    rather than CORRUPT; in format 1 (still read) a msgpackr records array of the
 *    documents.
 *
 * Blocks let a reader stream a collection of any size one block at a time, and let a
 * corrupted block be named precisely. Every frame carries its own CRC-32.
 */
export interface CollectionHeader {
  /** 1: msgpackr record blocks (still read); 2: column blocks; 3 and 4: column blocks that older readers refuse (see columnsFormat). */
  readonly format: 1 | 2 | 3 | 4;
  readonly name: string;
  readonly count: number;
  readonly blocks: number;
  readonly generation: number;
  readonly savedAt: number;
  /**
   * Optional id index: for each block, the `idHash` (doc-table.ts) of each of its documents' `_id`,
   * in order. Lets a save find the blocks a change touches without inflating any
   * (readers that do not know it ignore it; see {@link readCollectionForSave}).
   */
  readonly idHashes?: readonly Uint32Array[];
}

export const BLOCK_DOCS = 1000;

const BLOCK_FRAME = { kind: 'COLB', level: 1 } as const;

/** Encodes documents into one collection file. */
export async function encodeCollectionFile(name: string, docs: readonly Doc[], generation: number, blockDocs = BLOCK_DOCS): Promise<Uint8Array> {
  return (await encodeCollection(name, docs, generation, blockDocs)).bytes;
}

/**
 * {@link encodeCollectionFile}, with blocks framed by helper workers while the next ones
 * are encoded (`helpers`: at most this many, 0 does everything on this thread; see
 * src/codec/compression-helpers.ts): this thread turns each block of documents into
 * columns, and a helper packs, deflates and checksums them, the columns' buffers
 * transferred to it. Also says how many blocks the helpers framed, and, given `hashes`
 * (the `idHash` of each document's id), the file's id index, block by block.
 * @internal
 */
export async function encodeCollection(
  name: string, docs: readonly Doc[], generation: number, blockDocs = BLOCK_DOCS, helpers?: number, hashes?: Uint32Array,
): Promise<{ bytes: Uint8Array; byHelpers: number; idHashes?: Uint32Array[] }> {
  const count = Math.ceil(docs.length / blockDocs);
  let format: 2 | 3 | 4 = 2;
  const { frames: blocks, byHelpers } = await frameBlocks(count, (i) => {
    const slice = docs.slice(i * blockDocs, (i + 1) * blockDocs);
    const columns = toColumns(slice);
    if (format < 4) format = Math.max(format, columnsFormat(columns)) as 2 | 3 | 4;
    const transfer = columnBuffers(columns);
    return { value: { count: slice.length, columns }, transfer: transfer && [...transfer] };
  }, { ...BLOCK_FRAME, ...(helpers === undefined ? {} : { helpers }) });
  const bytes = await assembleCollectionFile(name, generation, format, docs.length, blocks);
  // The id index of the file, cut exactly as the blocks were (not written: see Entry.idIndex in engine.ts).
  if (!hashes || hashes.length !== docs.length) return { bytes, byHelpers };
  return { bytes, byHelpers, idHashes: Array.from({ length: count }, (_, i) => hashes.slice(i * blockDocs, (i + 1) * blockDocs)) };
}

/**
 * A collection file from its block frames (each a whole `COLB` frame, new or copied from an
 * older file of the same collection), in order: the header, then the frames. `format` must
 * be one every block allows (see {@link columnsFormat}); `count` is the documents in all;
 * `idHashes`, when given, the id index (see {@link CollectionHeader.idHashes}).
 * @internal
 */
export async function assembleCollectionFile(
  name: string, generation: number, format: 2 | 3 | 4, count: number, blocks: readonly Uint8Array[], idHashes?: readonly Uint32Array[],
): Promise<Uint8Array> {
  const header: CollectionHeader = { format, name, count, blocks: blocks.length, generation, savedAt: Date.now(), ...(idHashes ? { idHashes } : {}) };
  const head = await encodeFrameAsync(header, { kind: 'COLH', compress: false });
  const out = new Uint8Array(head.length + blocks.reduce((n, b) => n + b.length, 0));
  out.set(head, 0);
  let offset = head.length;
  for (const b of blocks) {
    out.set(b, offset);
    offset += b.length;
  }
  return out;
}

/** One block of documents as a `COLB` frame, on this thread, and the collection format it needs. @internal */
export async function encodeBlockFrame(docs: readonly Doc[]): Promise<{ frame: Uint8Array; format: 2 | 3 | 4 }> {
  const columns = toColumns(docs);
  return { frame: await encodeFrameAsync({ count: docs.length, columns }, BLOCK_FRAME), format: columnsFormat(columns) };
}

/** One decoded block and the bytes it took before compression (for memory accounting). */
export interface DecodedBlock {
  readonly docs: Doc[];
  readonly rawBytes: number;
}

function checkHeader(value: unknown, label: string): CollectionHeader {
  const h = value as Partial<CollectionHeader> | null;
  if (!h || typeof h !== 'object' || typeof h.name !== 'string' || !Number.isInteger(h.count) || !Number.isInteger(h.blocks)) {
    throw new ShelfError('CORRUPT', `${label}: header is malformed`);
  }
  if (h.format !== 1 && h.format !== 2 && h.format !== 3 && h.format !== 4) throw new ShelfError('UNSUPPORTED_VERSION', `${label}: collection format ${String(h.format)} is not supported`);
  return h as CollectionHeader;
}

function checkBlock(block: unknown, format: 1 | 2 | 3 | 4, label: string, index: number): Doc[] {
  if (format !== 1) return docsFromColumns(checkDocBatch(block, `${label}: block ${index}`), `${label}: block ${index}`);
  const value = block;
  if (!Array.isArray(value) || value.some((d) => d === null || typeof d !== 'object' || typeof (d as Doc)._id !== 'string')) {
    throw new ShelfError('CORRUPT', `${label}: block ${index} does not hold documents`);
  }
  return value as Doc[];
}

/**
 * Serves byte ranges of a blob from a read-ahead window, so a run of small frame reads
 * costs one storage read per window rather than two per frame. With `prefetch`, once a
 * read reaches the second half of the window the next window is read in the background,
 * so the caller's work on this one overlaps the storage read (at most two windows held).
 * Given a `direct` reader of the blob (see {@link BlobStore.openReader}), ranges are read
 * from it as asked instead: such a read costs no round trip, so there is nothing to batch
 * or to read ahead. {@link close} lets go of it.
 */
class WindowReader {
  #start = 0;
  #bytes: Uint8Array = new Uint8Array(0);
  #ahead: { at: number; bytes: Promise<Uint8Array> } | undefined;
  constructor(
    private readonly store: BlobStore,
    private readonly file: string,
    private readonly windowBytes: number,
    private readonly size: number,
    private readonly prefetch = false,
    private readonly direct?: BlobReader,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.direct) return this.direct.read(offset, length);
    const end = offset + length;
    if (offset < this.#start || end > this.#start + this.#bytes.length) await this.#move(offset, length);
    const windowEnd = this.#start + this.#bytes.length;
    if (this.prefetch && !this.#ahead && windowEnd < this.size && end - this.#start > this.#bytes.length / 2) {
      const bytes = this.store.read(this.file, windowEnd, Math.min(this.windowBytes, this.size - windowEnd));
      bytes.catch(() => undefined); // an error is thrown when the bytes are needed
      this.#ahead = { at: windowEnd, bytes };
    }
    return this.#bytes.subarray(offset - this.#start, end - this.#start);
  }

  /** Waits for a read ahead still under way (its result or error is dropped) and closes the direct reader. */
  async close(): Promise<void> {
    const ahead = this.#ahead;
    this.#ahead = undefined;
    try {
      await ahead?.bytes.catch(() => undefined);
    } finally {
      this.direct?.close();
    }
  }

  /** Makes the window hold [offset, offset + length), from the prefetched bytes where they fit. */
  async #move(offset: number, length: number): Promise<void> {
    const ahead = this.#ahead;
    this.#ahead = undefined;
    const end = offset + length;
    const windowEnd = this.#start + this.#bytes.length;
    if (ahead && offset >= this.#start && offset <= ahead.at && ahead.at === windowEnd) {
      const next = await ahead.bytes;
      if (end <= ahead.at + next.length) {
        if (offset === ahead.at) this.#bytes = next;
        else {
          // A frame across the two windows: the current window's tail, then the next one.
          const joined = new Uint8Array(ahead.at - offset + next.length);
          joined.set(this.#bytes.subarray(offset - this.#start));
          joined.set(next, ahead.at - offset);
          this.#bytes = joined;
        }
        this.#start = offset;
        return;
      }
    }
    this.#bytes = await this.store.read(this.file, offset, Math.max(length, this.windowBytes));
    this.#start = offset;
  }
}

/** One block of a collection file as stored: its format, its unpacked value and the inflated MessagePack. */
export interface RawBlock {
  readonly format: 1 | 2 | 3 | 4;
  readonly index: number;
  /** The block's whole frame as stored in the file (checked), for a save that keeps it as it is. */
  readonly frame: Uint8Array;
  /** Formats 2 to 4: `{ count, columns }` (columns not yet rebuilt); format 1: the documents. */
  readonly value: unknown;
  readonly payload: Uint8Array;
  /** Documents in the block (checked against the header's count at the end). */
  readonly count: number;
  readonly label: string;
}

/** A collection file opened for reading: its checked header, then its frames one by one. */
async function openCollectionFile(store: BlobStore, file: string, collection: string, windowBytes: number) {
  const label = `collection ${JSON.stringify(collection)} (${file})`;
  let direct: BlobReader | undefined;
  try {
    direct = await store.openReader?.(file);
  } catch (error) {
    if (error instanceof ShelfError && error.code === 'NOT_FOUND') throw new ShelfError('NOT_FOUND', `${label}: file is missing`, { cause: error });
    throw error;
  }
  const size = direct ? direct.size : await store.size(file);
  if (size === undefined) throw new ShelfError('NOT_FOUND', `${label}: file is missing`);
  const reader = new WindowReader(store, file, Math.min(windowBytes, size), size, windowBytes !== Infinity, direct);
  try {
    return await openedFile(reader, label, size, collection);
  } catch (error) {
    await reader.close();
    throw error;
  }
}

/** The header of a collection file being read by `reader`, and how to read the frames after it. */
async function openedFile(reader: WindowReader, label: string, size: number, collection: string) {
  let offset = 0;
  /** The next frame's bytes (header and payload), not yet checked. */
  const frameAt = async () => {
    if (offset + FRAME_HEADER_BYTES > size) throw new ShelfError('CORRUPT', `${label}: truncated at byte ${offset} of ${size}`);
    const info = readFrameInfo(await reader.read(offset, FRAME_HEADER_BYTES), { name: label });
    if (offset + info.totalBytes > size) throw new ShelfError('CORRUPT', `${label}: truncated frame at byte ${offset}`);
    const bytes = await reader.read(offset, info.totalBytes);
    offset += info.totalBytes;
    return bytes;
  };
  const header = checkHeader((await decodeFramePayloadAsync(await frameAt(), { kind: 'COLH', name: label })).value, label);
  if (header.name !== collection) throw new ShelfError('CORRUPT', `${label}: file belongs to collection ${JSON.stringify(header.name)}`);
  /** Throws unless every byte was read. */
  const tail = () => {
    if (offset !== size) throw new ShelfError('CORRUPT', `${label}: ${size - offset} unexpected bytes after the last block`);
  };
  return { label, header, frameAt, tail, reader };
}

type OpenedFile = Awaited<ReturnType<typeof openCollectionFile>>;

/**
 * Reads a collection file block by block without rebuilding documents. With `windowBytes`
 * set (streaming), memory stays bounded whatever the collection's size: two read-ahead
 * windows (the next one is read while this one is worked on) plus one block, or plus up to
 * 16 blocks while compression helpers share the inflating (a stream starts them but does
 * not wait for them). Without it (loading, where every
 * document will be held anyway) the file is read in one go, every frame's checksum is
 * checked first, and helper workers inflate blocks ahead of the one being yielded
 * (`helpers`: at most this many, 0 for none; see src/codec/compression-helpers.ts). Either
 * way a damaged block fails when it is due, after the blocks before it. With `pool`, blocks
 * inflated on this thread go into its buffers (see src/codec/buffer-pool.ts).
 */
export async function* readCollectionBlocks(
  store: BlobStore,
  file: string,
  collection: string,
  windowBytes = Infinity,
  helpers?: number,
  pool?: BufferPool,
): AsyncGenerator<RawBlock, void, undefined> {
  yield* openedBlocks(await openCollectionFile(store, file, collection, windowBytes), windowBytes !== Infinity, helpers, pool);
}

/** The blocks of a collection file opened by {@link openCollectionFile} (see {@link readCollectionBlocks}). */
async function* openedBlocks(opened: OpenedFile, streaming: boolean, helpers: number | undefined, pool?: BufferPool): AsyncGenerator<RawBlock, void, undefined> {
  const { label, header, frameAt, tail, reader } = opened;
  let count = 0;
  const ctx = { kind: 'COLB', name: label };
  // Loading (whole file): every frame is checked before any is inflated, and helpers inflate
  // blocks ahead of the one being rebuilt. Streaming: frames are read as the window moves;
  // helpers take part once running: a stream starts them without waiting the 40–66 ms
  // they take (its first blocks are inflated here meanwhile).
  let frames: CheckedFrame[] | AsyncGenerator<CheckedFrame, void, undefined>;
  if (!streaming) {
    frames = [];
    // Every byte is read here: the reader (a held handle) is let go at once, also when the
    // file is truncated or damaged (a handle left open would keep the file from being
    // removed: the fall-back from a torn save, a drop).
    try {
      for (let i = 0; i < header.blocks; i++) frames.push(checkFrame(await frameAt(), ctx));
      tail();
    } finally {
      await reader.close();
    }
  } else {
    frames = (async function* () {
      for (let i = 0; i < header.blocks; i++) yield checkFrame(await frameAt(), ctx);
      tail();
    })();
  }
  const inflated = inflateInOrder(frames, { expected: header.blocks, waitForHelpers: !streaming, ...(helpers === undefined ? {} : { helpers }), ...(pool ? { pool } : {}) });
  try {
    for (let i = 0; ; i++) {
      let next: IteratorResult<{ frame: CheckedFrame; payload: Uint8Array }>;
      try {
        next = await inflated.next();
      } catch (error) {
        if (error instanceof InflateError) throw new ShelfError('CORRUPT', `${label}: block ${i}: ${error.message}`, { cause: error });
        throw error;
      }
      if (next.done) break;
      const { frame } = next.value;
      let { payload } = next.value;
      let value = unpackCheckedFrame(frame, payload, ctx);
      // Binary values unpack as views of the payload (in a browser, msgpackr packs every
      // Uint8Array as one): a block whose documents may keep such a view moves out of a
      // pooled buffer into bytes of its own (the pool's buffer, larger and used again,
      // would be kept alive by them), and is unpacked again from those.
      if (pool && pool.issued(payload.buffer) && (header.format === 1 || holdsObjects((value as { columns?: unknown }).columns))) {
        const own = payload.slice();
        pool.give(payload.buffer);
        payload = own;
        value = unpackCheckedFrame(frame, payload, ctx);
      }
      const n = header.format !== 1 ? checkDocBatch(value, `${label}: block ${i}`).count : checkBlock(value, 1, label, i).length;
      count += n;
      yield { format: header.format, index: i, frame: frame.bytes, value, payload, count: n, label };
    }
  } finally {
    // Also when a block is damaged or the reader stops early: the helpers' jobs are dropped,
    // and no read of the file is left running once the reader is done with it.
    try {
      await inflated.return(undefined);
    } finally {
      await reader.close();
    }
  }
  if (count !== header.count) throw new ShelfError('CORRUPT', `${label}: holds ${count} documents, header says ${header.count}`);
}

/**
 * The id hashes of a block's documents straight from the bytes of its `_id` column, when
 * that is a plain string column of one group of documents (as blocks of documents of one
 * shape are); else undefined.
 */
function columnIdHashes(block: RawBlock): Uint32Array | undefined {
  if (block.format === 1) return undefined;
  const value = block.value as { count?: unknown; columns?: unknown } | null;
  if (value === null || typeof value !== 'object' || value.count !== block.count) return undefined;
  return keyStringHashes(value.columns, block.count, '_id');
}

/** A block's documents rebuilt and the `idHash` of each one's id, in order. */
export function blockDocsAndHashes(block: RawBlock): { docs: Doc[]; hashes: Uint32Array } {
  const docs = blockDocs(block);
  const fromBytes = columnIdHashes(block);
  if (fromBytes && fromBytes.length === docs.length) return { docs, hashes: fromBytes };
  const hashes = new Uint32Array(docs.length);
  for (let i = 0; i < docs.length; i++) hashes[i] = idHash(docs[i]!._id);
  return { docs, hashes };
}

/**
 * Gives the buffer a block was inflated into back to `pool` once its documents are rebuilt:
 * only one the pool handed out (never the file's own bytes, which a block stored without
 * deflate is a view of). No rebuilt document holds a view into such a buffer: a block
 * whose documents may was moved to bytes of its own when it was read. The block must not
 * be used afterwards.
 */
export function recycleBlock(block: RawBlock, pool: BufferPool): void {
  if (pool.issued(block.payload.buffer)) pool.give(block.payload.buffer);
}

/** The id hashes of the documents of a block read by {@link readCollectionBlocks} (only its `_id` column is read). */
export function blockIdHashes(block: RawBlock): Uint32Array {
  const fromBytes = columnIdHashes(block);
  if (fromBytes) return fromBytes;
  const ids = block.format === 1 ? blockDocs(block).map((d) => d._id) : keyValues((block.value as { columns: unknown }).columns, block.count, '_id');
  const out = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id !== 'string') throw new ShelfError('CORRUPT', `${block.label}: block ${block.index} holds a document without a string _id`);
    out[i] = idHash(id);
  }
  return out;
}

/** The header's id index when it fits the file (one hash array per block, as many hashes as documents), else undefined. */
function idIndex(header: CollectionHeader): readonly Uint32Array[] | undefined {
  const index = header.idHashes;
  if (!Array.isArray(index) || index.length !== header.blocks) return undefined;
  let total = 0;
  for (const hashes of index) {
    if (!(hashes instanceof Uint32Array)) return undefined;
    total += hashes.length;
  }
  return total === header.count ? index : undefined;
}

/** A block of a collection file as {@link readCollectionForSave} gives it. */
export type SaveBlock =
  /** Holds none of the ids asked about, by the file's id index: checked, not inflated. */
  | { readonly kept: true; readonly format: 2 | 3 | 4; readonly frame: Uint8Array; readonly idHashes: Uint32Array }
  /** Read in full (inflated): it may hold one of them, or the file has no id index. */
  | { readonly kept: false; readonly block: RawBlock };

/**
 * Reads a collection file for a save that keeps the blocks it can. With an id index in the
 * header, or `known` (the index of this very file, kept in memory by the engine that wrote
 * or read it), a block whose hashes `touched` rejects is only checked (its checksum) and given
 * as its frame, and the others are inflated here; without one, every block is read as
 * {@link readCollectionBlocks} reads it (helpers inflating ahead). Format-1 files have no
 * index. Damage is `CORRUPT`, as for any read, when the block is due.
 */
export async function* readCollectionForSave(
  store: BlobStore, file: string, collection: string, touched: (idHashes: Uint32Array) => boolean, windowBytes: number, helpers?: number,
  known?: readonly Uint32Array[],
): AsyncGenerator<SaveBlock, void, undefined> {
  const opened = await openCollectionFile(store, file, collection, windowBytes);
  const index = opened.header.format === 1 ? undefined : idIndex(opened.header) ?? (known && idIndex({ ...opened.header, idHashes: known }));
  if (!index) {
    // Read as a stream reads (frames checked as they come, helpers used if running, not
    // waited for), even from one whole-file read: a save should not wait for helpers to start.
    for await (const block of openedBlocks(opened, true, helpers)) yield { kept: false, block };
    return;
  }
  const { label, header, frameAt, tail, reader } = opened;
  const format = header.format as 2 | 3 | 4;
  const ctx = { kind: 'COLB', name: label };
  try {
    for (let i = 0; i < header.blocks; i++) {
      const bytes = await frameAt();
      if (!touched(index[i]!)) {
        checkFrame(bytes, ctx);
        yield { kept: true, format, frame: bytes, idHashes: index[i]! };
        continue;
      }
      const { value, payload } = await decodeFramePayloadAsync(bytes, ctx); // checks the frame too
      const n = checkDocBatch(value, `${label}: block ${i}`).count;
      if (n !== index[i]!.length) throw new ShelfError('CORRUPT', `${label}: block ${i} holds ${n} documents, the id index says ${index[i]!.length}`);
      yield { kept: false, block: { format, index: i, frame: bytes, value, payload, count: n, label } };
    }
    tail();
  } finally {
    await reader.close();
  }
}

/** The documents of a block read by {@link readCollectionBlocks}. */
export function blockDocs(block: RawBlock): Doc[] {
  return checkBlock(block.value, block.format, block.label, block.index);
}

/** Reads a collection file block by block, documents rebuilt (see {@link readCollectionBlocks}). */
export async function* readCollectionFile(
  store: BlobStore,
  file: string,
  collection: string,
  windowBytes = Infinity,
  helpers?: number,
): AsyncGenerator<DecodedBlock, void, undefined> {
  for await (const block of readCollectionBlocks(store, file, collection, windowBytes, helpers)) {
    // Formats 2 to 4: fromColumns checks the block's count; format 1: the count is the array's length.
    yield { docs: blockDocs(block), rawBytes: block.payload.length };
  }
}

/** Decodes a whole collection file held in memory (used by tests and fuzzing). */
export async function decodeCollectionBytes(bytes: Uint8Array, collection: string): Promise<Doc[]> {
  const one: BlobStore = {
    list: async () => ['f'],
    size: async () => bytes.length,
    read: async (_n, offset = 0, length = bytes.length) => bytes.subarray(offset, offset + length),
    write: async () => undefined,
    remove: async () => undefined,
  };
  const docs: Doc[] = [];
  for await (const block of readCollectionFile(one, 'bytes', collection)) docs.push(...block.docs);
  return docs;
}
