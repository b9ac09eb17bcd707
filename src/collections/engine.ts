import { ShelfError } from '../errors/index.ts';
import type { BlobStore } from '../opfs/index.ts';
import { ByteLru } from '../cache/index.ts';
import { hasKeyValue } from '../codec/columns.ts';
import { BufferPool } from '../codec/buffer-pool.ts';
import { readHelperCount } from '../codec/compression-helpers.ts';
import {
  assembleCollectionFile, BLOCK_DOCS, blockDocs, blockDocsAndHashes, blockIdHashes, encodeBlockFrame, encodeCollection, readCollectionBlocks, recycleBlock,
  readCollectionForSave, type RawBlock,
} from './collection-file.ts';
import { DocTable, idHash } from './doc-table.ts';
import { packedSize } from './doc-size.ts';
import { encodeDocBatch } from './packed-batch.ts';
import { compileFilter } from './filter.ts';
import { checkName, collectionFileName, parseCollectionFileName, newDocId } from './naming.ts';
import type { CollectionState, CollectionStats, Doc, Filter } from './types.ts';

/** Options of {@link CollectionEngine.open}. */
export interface CollectionEngineOptions {
  /** Where collection files live (OPFS directory, KV store, memory). */
  readonly storage: BlobStore;
  /** Bytes of loaded documents to keep in memory (default 64 MiB). */
  readonly memoryLimitBytes?: number;
  /** Save dirty collections this often in ms (default 5,000; 0 turns it off). */
  readonly saveIntervalMs?: number;
  /** Documents per block in collection files (default 1,000). */
  readonly blockDocs?: number;
  /**
   * Helper workers that deflate a save's blocks while the next ones are encoded, and
   * inflate a load's blocks ahead of the one being rebuilt (default: one fewer than the
   * machine's cores, at most 3, where `Worker` exists; 0 does all of it on the engine's
   * thread). Streams use at most as many as the machine has cores beyond two (none on 2
   * cores: the page and this thread keep those busy), starting them without waiting: a
   * helper shares a stream's inflating once it is ready. The file is the same either way.
   */
  readonly compressionWorkers?: number;
}

/** Options of {@link CollectionEngine.find}. */
export interface FindOptions {
  readonly limit?: number;
  readonly offset?: number;
}

// Per-document bookkeeping (Map entry, object header) on top of its encoded size.
const DOC_OVERHEAD = 48;
// Changes since the newest file are recorded (for streams of that file, patched) up to this
// share of a collection's documents (at least 64); past it, until a save, they are not.
const CHANGE_RECORD_SHARE = 0.25;
// Read-ahead of a stream from a file: memory per stream stays near this plus one block.
const STREAM_WINDOW_BYTES = 1024 * 1024;
/** Inflated blocks' buffers a load keeps for the next blocks (one at a time is in use without helpers). */
const LOAD_POOL_BUFFERS = 4;
const docBytes = (doc: Doc) => packedSize(doc) + DOC_OVERHEAD;

interface Loaded {
  docs: DocTable;
  bytes: number;
  /** Bumped by every mutation; a save records the version it wrote. */
  version: number;
  savedVersion: number;
  /**
   * Documents changed since the newest file was written or read, by id: the version of the
   * last change, and `movedAt` when that was an insert or a delete (the document is no
   * longer at its place in the file: gone, or at the end of `docs`). Lets a stream send the
   * file's unchanged blocks as they are (see {@link CollectionEngine.packedBatches}).
   * Undefined once too many changed to be worth it (a stream then packs from memory), until
   * a save writes them all.
   */
  changed: Map<string, { version: number; movedAt: number | undefined }> | undefined;
}

interface Entry {
  name: string;
  /** Generations on storage, ascending. The last one is current. */
  generations: number[];
  /** A generation known to read in full: written by this engine, or read by a load or a check (see {@link CollectionEngine.iterate}). */
  checked?: number;
  loaded?: Loaded;
  loading?: Promise<Loaded>;
  /** Serializes saves, loads, drops and renames of this collection (and a stream's check of a file, see {@link CollectionEngine.iterate}). */
  lock: Promise<unknown>;
  /**
   * The id index of one file of this collection, block by block (each document's `idHash`),
   * known from writing or reading that very file: what a full save does not write into the
   * file (400 KB per 100k documents), kept so that the next save and streams of changes
   * find the blocks that hold changed documents without reading every block's ids.
   */
  idIndex?: { readonly file: string; readonly hashes: readonly Uint32Array[] };
}

/** A pull-driven stream over an async generator: one item in flight, cancel ends the generator. */
function toStream<T>(it: AsyncGenerator<T, void, undefined>): ReadableStream<T> {
  return new ReadableStream<T>(
    {
      async pull(controller) {
        try {
          const next = await it.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await it.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}

/**
 * A block of a collection file as a packed batch: its inflated bytes (formats 2 to 4), as
 * they are (whoever transfers them copies a view first: see pushBatches in batch-port.ts).
 */
function blockBytes(block: RawBlock): Uint8Array {
  return block.format === 1 ? encodeDocBatch(blockDocs(block)) : block.payload;
}

/** Whether a block holds a document with one of `ids`, without rebuilding its documents (formats 2 to 4). */
function blockHasId(block: RawBlock, ids: ReadonlySet<string>): boolean {
  if (block.format === 1) return blockDocs(block).some((d) => ids.has(d._id));
  try {
    return hasKeyValue((block.value as { columns: unknown }).columns, block.count, '_id', ids);
  } catch (error) {
    throw new ShelfError('CORRUPT', `${block.label}: block ${block.index}: ${(error as Error).message}`, { cause: error });
  }
}

/** The changes recorded since the newest file, taken at one moment (later changes do not show). */
interface TakenChanges {
  /** Every changed id. */
  readonly ids: ReadonlySet<string>;
  /** Changed documents as they are now; undefined: no longer at their place in the file (deleted, or moved to the end). */
  readonly changed: ReadonlyMap<string, Doc | undefined>;
  /** Documents now at the end (inserted, or deleted and inserted again), in order. */
  readonly tail: readonly Doc[];
}

function takeChanges(loaded: Loaded, record: ReadonlyMap<string, { movedAt: number | undefined }>): TakenChanges {
  const changed = new Map<string, Doc | undefined>();
  let moved = false;
  for (const [id, c] of record) {
    changed.set(id, c.movedAt === undefined ? loaded.docs.get(id) : undefined);
    if (c.movedAt !== undefined && loaded.docs.has(id)) moved = true;
  }
  const tail = moved ? loaded.docs.toArray().filter((d) => record.get(d._id)?.movedAt !== undefined) : [];
  return { ids: new Set(record.keys()), changed, tail };
}

/** A block's documents with the changes applied (changed ones replaced, deleted and moved ones left out). */
function patchDocs(docs: readonly Doc[], changed: ReadonlyMap<string, Doc | undefined>): Doc[] {
  const out: Doc[] = [];
  for (const d of docs) {
    if (!changed.has(d._id)) out.push(d);
    else {
      const now = changed.get(d._id);
      if (now) out.push(now);
    }
  }
  return out;
}

const notFound = (name: string) => new ShelfError('NOT_FOUND', `collection ${JSON.stringify(name)} does not exist`);

/** A failed read of a generation that an older one may stand in for: a save that never finished (torn) or a file gone. */
const isTorn = (error: unknown) => error instanceof ShelfError && (error.code === 'CORRUPT' || error.code === 'NOT_FOUND');

/** Records that the collection's newest file holds it as it was at `version`: later changes are changes against that file. */
function markSaved(loaded: Loaded, version: number): void {
  loaded.savedVersion = version;
  if (loaded.version === version) loaded.changed = new Map();
  else if (loaded.changed) {
    for (const [id, c] of loaded.changed) {
      if (c.version <= version) loaded.changed.delete(id);
      else if (c.movedAt !== undefined && c.movedAt <= version) c.movedAt = undefined;
    }
  }
}

function checkId(id: unknown): asserts id is string {
  if (typeof id !== 'string') throw new ShelfError('INVALID_ARGUMENT', `id must be a string, got ${id === null ? 'null' : typeof id}`);
}

function checkDoc(doc: unknown, argument: string): asserts doc is Record<string, unknown> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ShelfError('INVALID_ARGUMENT', `${argument} must be an object`);
  }
  const id = (doc as { _id?: unknown })._id;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0)) {
    throw new ShelfError('INVALID_ARGUMENT', `${argument}._id must be a non-empty string`);
  }
}

/**
 * Document collections with lazy loading, an LRU bounded in bytes, background saving and
 * streaming, persisted as versioned files of column-wise, deflated msgpackr blocks (see collection-file.ts).
 *
 * Writes change memory at once and reach storage at the next save: every
 * `saveIntervalMs`, on {@link flush}, on {@link close}, and before a dirty collection is
 * evicted. Each save writes a new generation file and only then removes the old one, so a
 * crash mid-save leaves the previous version.
 *
 * @example
 * ```ts
 * const engine = await CollectionEngine.open({ storage: await OpfsBlobStore.open('app/collections') });
 * await engine.create('outlines');
 * await engine.insert('outlines', { _id: 'src/a.ts', symbols: ['main'] });
 * await engine.close();
 * ```
 */
export class CollectionEngine {
  readonly #storage: BlobStore;
  readonly #lru: ByteLru<string, Loaded>;
  readonly #entries = new Map<string, Entry>();
  readonly #blockDocs: number;
  readonly #compressionWorkers: number | undefined;
  /** The highest generation each name has had in this engine (see {@link save}). */
  readonly #lastGeneration = new Map<string, number>();
  readonly #readers = new Map<string, number>();
  /** Names a rename is writing the first file of: taken, not listed yet. */
  readonly #claimed = new Set<string>();
  /** Work that reaches storage (saves, drops, loads, creates, renames), for close to wait for. */
  readonly #running = new Set<Promise<unknown>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Set when close is called: from then on every call is refused. */
  #closed = false;
  #closing: Promise<void> | undefined;
  #backgroundSaveFailures = 0;
  #saves = 0;
  #bytesWritten = 0;
  #loads = 0;
  #recovered = 0;
  #byHelpers = 0;
  #reusedBlocks = 0;
  #reuseFailures = 0;
  /** Last error of a background save (on the interval or before an eviction), if any. */
  lastError: unknown = undefined;
  /** Last error that made a save write every document instead of keeping blocks (see {@link CollectionStats.reuseFailures}). */
  lastReuseError: unknown = undefined;

  private constructor(options: CollectionEngineOptions) {
    const { memoryLimitBytes = 64 * 1024 * 1024, saveIntervalMs = 5000, blockDocs = BLOCK_DOCS, compressionWorkers } = options;
    if (!Number.isFinite(memoryLimitBytes) || memoryLimitBytes <= 0) {
      throw new ShelfError('INVALID_ARGUMENT', `options.memoryLimitBytes must be a positive number, got ${String(memoryLimitBytes)}`);
    }
    if (!Number.isFinite(saveIntervalMs) || saveIntervalMs < 0) {
      throw new ShelfError('INVALID_ARGUMENT', `options.saveIntervalMs must be a non-negative number, got ${String(saveIntervalMs)}`);
    }
    if (!Number.isInteger(blockDocs) || blockDocs < 1) {
      throw new ShelfError('INVALID_ARGUMENT', `options.blockDocs must be a positive integer, got ${String(blockDocs)}`);
    }
    if (compressionWorkers !== undefined && (!Number.isInteger(compressionWorkers) || compressionWorkers < 0)) {
      throw new ShelfError('INVALID_ARGUMENT', `options.compressionWorkers must be a non-negative integer, got ${String(compressionWorkers)}`);
    }
    this.#compressionWorkers = compressionWorkers;
    this.#storage = options.storage;
    this.#lru = new ByteLru(memoryLimitBytes);
    this.#blockDocs = blockDocs;
    if (saveIntervalMs > 0) {
      this.#timer = setInterval(() => void this.#saveInBackground(), saveIntervalMs);
    }
  }

  /** Opens an engine over `storage`, discovering the collections already saved there. */
  static async open(options: CollectionEngineOptions): Promise<CollectionEngine> {
    if (!options?.storage) throw new ShelfError('INVALID_ARGUMENT', 'options.storage is required');
    const engine = new CollectionEngine(options);
    for (const file of await options.storage.list()) {
      const parsed = parseCollectionFileName(file);
      if (!parsed) continue;
      const entry = engine.#entries.get(parsed.name) ?? engine.#newEntry(parsed.name, []);
      entry.generations.push(parsed.generation);
      entry.generations.sort((a, b) => a - b);
      engine.#lastGeneration.set(parsed.name, Math.max(engine.#lastGeneration.get(parsed.name) ?? 0, parsed.generation));
    }
    return engine;
  }

  #newEntry(name: string, generations: number[]): Entry {
    const entry: Entry = { name, generations, lock: Promise.resolve() };
    this.#entries.set(name, entry);
    return entry;
  }

  /** Whether `entry` is still the collection listed under its name (not dropped, nor renamed away). */
  #isCurrent(entry: Entry): boolean {
    return this.#entries.get(entry.name) === entry;
  }

  /** Unlists a collection and lets go of its documents in the LRU. */
  #forget(entry: Entry): void {
    if (!this.#isCurrent(entry)) return;
    this.#entries.delete(entry.name);
    this.#lru.delete(entry.name);
  }

  /** `INVALID_ARGUMENT` when `name` is listed, or a rename is writing its first file. */
  #assertFree(name: string, argument: string): void {
    if (this.#entries.has(name) || this.#claimed.has(name)) {
      throw new ShelfError('INVALID_ARGUMENT', `${argument}: collection ${JSON.stringify(name)} already exists`);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ShelfError('CLOSED', 'collection engine is closed');
  }

  #entry(name: string): Entry {
    this.#assertOpen();
    checkName(name);
    const entry = this.#entries.get(name);
    if (!entry) throw notFound(name);
    return entry;
  }

  /** Counts `work` as under way until it settles: {@link close} waits for it. */
  #track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(() => undefined, () => undefined);
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
    return work;
  }

  #locked<T>(entry: Entry, run: () => Promise<T>): Promise<T> {
    const result = this.#track(entry.lock.catch(() => undefined).then(run));
    entry.lock = result.catch(() => undefined);
    return result;
  }

  /** Names of all collections, sorted. */
  list(): string[] {
    this.#assertOpen();
    return [...this.#entries.keys()].sort();
  }

  /** The lifecycle state of a collection. */
  state(name: string): CollectionState {
    const entry = this.#entry(name);
    if (entry.loading) return 'loading';
    if (!entry.loaded) return 'unloaded';
    return entry.loaded.version === entry.loaded.savedVersion ? 'loaded' : 'dirty';
  }

  /**
   * Creates an empty collection and saves it at once. `INVALID_ARGUMENT` if it exists, or a
   * create or rename is making it. It is listed from the call on, in state `loading` until
   * its file is written: calls sent right behind the create (pipelined, not awaited) wait
   * for it and then run, as they do behind a load. A create that fails unlists it, and
   * those calls fail with its error: nothing was acknowledged into it.
   */
  async create(name: string): Promise<void> {
    this.#assertOpen();
    checkName(name);
    this.#assertFree(name, 'name');
    const entry = this.#newEntry(name, []);
    // Under the entry's lock, so a drop called meanwhile removes the file after it is written.
    entry.loading = this.#locked(entry, async () => {
      const generation = await this.#writeFirstFile(name, []);
      entry.generations = [generation];
      entry.checked = generation;
      if (!this.#isCurrent(entry)) throw notFound(name); // dropped meanwhile: the drop removes the file
      const loaded: Loaded = { docs: new DocTable(), bytes: 0, version: 0, savedVersion: 0, changed: new Map() };
      entry.loaded = loaded;
      this.#lru.set(name, loaded, 0);
      return loaded;
    })
      .catch((error: unknown) => {
        this.#forget(entry);
        throw error;
      })
      .finally(() => {
        entry.loading = undefined;
      });
    await entry.loading;
  }

  /**
   * Deletes a collection and its files: its generations, and every other file of its name
   * that storage lists up to the newest generation the name had at the call (a file a
   * failed save left and could not remove would bring the collection back; later ones
   * belong to a collection created again under the name since).
   */
  async drop(name: string): Promise<void> {
    const entry = this.#entry(name);
    const upTo = this.#lastGeneration.get(name) ?? 0;
    this.#forget(entry);
    await this.#locked(entry, () => this.#removeFiles(entry, upTo));
  }

  /**
   * Removes the files of `entry`: first those of its name up to generation `upTo` that storage
   * lists and it does not know, then its generations, oldest first, so that one that fails
   * to go leaves the current file in place.
   */
  async #removeFiles(entry: Entry, upTo: number): Promise<void> {
    const known = entry.generations.map((g) => collectionFileName(entry.name, g));
    const strays: string[] = [];
    for (const file of await this.#storage.list()) {
      const parsed = parseCollectionFileName(file);
      if (parsed?.name === entry.name && parsed.generation <= upTo && !known.includes(file)) strays.push(file);
    }
    for (const file of strays) await this.#removeFile(file);
    for (const g of [...entry.generations]) {
      await this.#removeFile(collectionFileName(entry.name, g));
      entry.generations = entry.generations.filter((x) => x !== g);
    }
  }

  /**
   * Renames a collection: the new name's file is written, the old name's files are
   * removed, then, in one step, the collection is listed under the new name and no longer
   * under the old one (`NOT_FOUND` from then on). Writes to the old name meanwhile are
   * carried over (the new name is dirty until its next save). The new name is taken from
   * the call on: creating it or renaming to it is `INVALID_ARGUMENT`, as when it exists,
   * and it is neither listed nor writable before the rename is done. A rename that fails
   * leaves both names as they were; one whose collection is dropped meanwhile is
   * `NOT_FOUND` and leaves nothing of it (the drop wins).
   */
  async rename(from: string, to: string): Promise<void> {
    const entry = this.#entry(from);
    checkName(to, 'to');
    this.#assertFree(to, 'to');
    this.#claimed.add(to);
    try {
      await this.#track(this.#moveTo(entry, to));
    } finally {
      this.#claimed.delete(to);
    }
  }

  /** The work of {@link rename}, holding the old name's lock: no save, load or file removal of it runs meanwhile. */
  async #moveTo(entry: Entry, to: string): Promise<void> {
    await this.#load(entry); // shares a load under way (the lock would wait for it anyway)
    await this.#locked(entry, async () => {
      if (!this.#isCurrent(entry)) throw notFound(entry.name);
      // Evicted since (then unchanged since its newest file): read again, not kept loaded.
      const loaded = entry.loaded ?? (await this.#readNewestGeneration(entry));
      const version = loaded.version;
      const generation = await this.#writeFirstFile(to, loaded.docs.toArray());
      try {
        // Checked before the old name's files are listed, and again after: a collection
        // created under the old name after a drop has later generations, and its files stay.
        if (!this.#isCurrent(entry)) throw notFound(entry.name);
        await this.#removeFiles(entry, this.#lastGeneration.get(entry.name) ?? 0);
        if (!this.#isCurrent(entry)) throw notFound(entry.name);
      } catch (error) {
        await this.#storage.remove(collectionFileName(to, generation)).catch(() => undefined);
        throw error;
      }
      this.#forget(entry);
      const target = this.#newEntry(to, [generation]);
      target.checked = generation;
      // The same documents, with the writes made since the new file was taken: those keep it dirty.
      if (entry.loaded === loaded) {
        markSaved(loaded, version);
        target.loaded = loaded;
        this.#lru.set(to, loaded, loaded.bytes);
      }
      entry.loaded = undefined;
    });
  }

  /** Loads a collection if needed; concurrent first accesses share one load. */
  async #load(entry: Entry): Promise<Loaded> {
    if (entry.loaded) {
      this.#lru.get(entry.name);
      return entry.loaded;
    }
    if (!entry.loading) {
      this.#lru.misses++;
      // Kept in the same step that ends the load: a second load must never start between
      // (it would replace this result and the writes made to it). Not kept for a collection
      // dropped meanwhile: nothing would ever let go of it.
      entry.loading = this.#locked(entry, async () => {
        if (!this.#isCurrent(entry)) throw notFound(entry.name);
        return this.#readNewestGeneration(entry);
      })
        .then((loaded) => {
          this.#loads++;
          if (this.#isCurrent(entry)) {
            entry.loaded = loaded;
            this.#lru.set(entry.name, loaded, loaded.bytes);
          }
          return loaded;
        })
        .finally(() => {
          entry.loading = undefined;
        });
      const loaded = await entry.loading;
      await this.#enforceLimit(entry.name);
      return loaded;
    }
    return entry.loading;
  }

  /**
   * Runs a write on the collection's loaded documents, started in the same step as the
   * check that they are still the loaded ones: the LRU may have evicted them while the
   * write waited, and a write to documents no longer kept would be acknowledged and lost
   * (they are loaded again). `write` must change them before its first `await`. A
   * collection dropped or renamed meanwhile is `NOT_FOUND`; once close has begun, `CLOSED`
   * (its saves may already have taken the documents).
   */
  async #writeLoaded<T>(entry: Entry, write: (loaded: Loaded) => Promise<T>): Promise<T> {
    for (;;) {
      const loaded = await this.#load(entry);
      this.#assertOpen();
      if (!this.#isCurrent(entry)) throw notFound(entry.name);
      if (entry.loaded === loaded) return write(loaded);
    }
  }

  /** The documents of the newest generation that reads (see {@link #newestThatReads}). */
  #readNewestGeneration(entry: Entry): Promise<Loaded> {
    return this.#newestThatReads(entry, async (file) => {
      const docs: Doc[] = [];
      const hashes: Uint32Array[] = [];
      let bytes = 0;
      // Each block is inflated into the buffer of one rebuilt before it (see buffer-pool.ts).
      const pool = new BufferPool(LOAD_POOL_BUFFERS);
      for await (const block of readCollectionBlocks(this.#storage, file, entry.name, Infinity, readHelperCount(this.#compressionWorkers), pool)) {
        const read = blockDocsAndHashes(block);
        for (const doc of read.docs) docs.push(doc);
        hashes.push(read.hashes);
        bytes += block.payload.length + DOC_OVERHEAD * read.docs.length;
        recycleBlock(block, pool);
      }
      const all = new Uint32Array(docs.length);
      let at = 0;
      for (const h of hashes) {
        all.set(h, at);
        at += h.length;
      }
      const table = DocTable.from(docs, all, `collection ${JSON.stringify(entry.name)} (${file})`);
      entry.idIndex = { file, hashes };
      return { docs: table, bytes, version: 0, savedVersion: 0, changed: new Map() };
    });
  }

  /**
   * Runs `read` on the newest generation of a collection that reads, newest first (the
   * caller holds the lock). A newer one that fails with `CORRUPT` or `NOT_FOUND` while an
   * older one reads is a save that never finished: it is removed. With a single file, or
   * none that reads, there is nothing to fall back to and the first error is thrown: damage
   * is reported, never silently dropped.
   */
  async #newestThatReads<T>(entry: Entry, read: (file: string) => Promise<T>): Promise<T> {
    const generations = [...entry.generations].reverse();
    let firstError: unknown;
    for (const g of generations) {
      let result: T;
      try {
        result = await read(collectionFileName(entry.name, g));
      } catch (error) {
        firstError ??= error;
        if (!isTorn(error)) throw error;
        continue;
      }
      if (g !== generations[0]) {
        this.#recovered++;
        for (const bad of entry.generations.filter((x) => x > g)) await this.#removeFile(collectionFileName(entry.name, bad));
        entry.generations = entry.generations.filter((x) => x <= g);
      }
      entry.checked = g;
      return result;
    }
    if (!generations.length) throw new ShelfError('CORRUPT', `collection ${JSON.stringify(entry.name)} has no file`);
    throw firstError;
  }

  /**
   * Evicts least recently used collections (saving dirty ones first) until under the limit.
   * A save that fails here does not fail the call that went over the limit (its write is
   * done and must resolve): it is counted and kept like a failed interval save, and the
   * collection stays loaded and dirty for a later save.
   */
  async #enforceLimit(keep?: string): Promise<void> {
    for (const name of this.#lru.victims((k) => k === keep)) {
      if (this.#closed) return; // close saves what is dirty, and evicts nothing
      const entry = this.#entries.get(name);
      if (!entry?.loaded) continue;
      if (entry.loaded.version !== entry.loaded.savedVersion && !(await this.#saveQuietly(entry))) continue;
      // Re-dirtied while saving: keep it for now; the next write or save round retries.
      if (!entry.loaded || entry.loaded.version !== entry.loaded.savedVersion) continue;
      this.#lru.evict(name);
      entry.loaded = undefined;
    }
  }

  /** A save nobody waits for (interval, eviction): a failure is counted (`stats().backgroundSaveFailures`) and kept in `lastError`. Whether it saved. */
  async #saveQuietly(entry: Entry): Promise<boolean> {
    try {
      await this.#save(entry);
      return true;
    } catch (error) {
      this.#backgroundSaveFailures++;
      this.lastError = error;
      return false;
    }
  }

  /** Records that `ids` change at the next version; `moved`: inserted or deleted (see {@link Loaded.changed}). */
  #mark(loaded: Loaded, ids: readonly string[] | ReadonlySet<string>, moved: boolean): void {
    const changed = loaded.changed;
    if (!changed) return;
    const count = Array.isArray(ids) ? ids.length : (ids as ReadonlySet<string>).size;
    if (changed.size + count > Math.max(64, loaded.docs.size * CHANGE_RECORD_SHARE)) {
      loaded.changed = undefined;
      return;
    }
    const version = loaded.version + 1;
    for (const id of ids) changed.set(id, { version, movedAt: moved ? version : changed.get(id)?.movedAt });
  }

  #touch(name: string, loaded: Loaded, deltaBytes: number): Promise<void> {
    loaded.version++;
    loaded.bytes = Math.max(0, loaded.bytes + deltaBytes);
    this.#lru.resize(name, loaded.bytes);
    return this.#enforceLimit(name);
  }

  /** Inserts one document; returns its `_id` (generated when missing). Existing id → `INVALID_ARGUMENT`. */
  async insert(name: string, doc: Omit<Doc, '_id'> & { _id?: string }): Promise<string> {
    return (await this.insertMany(name, [doc]))[0]!;
  }

  /** Inserts documents all or nothing: one bad document means none is inserted. */
  async insertMany(name: string, docs: readonly (Omit<Doc, '_id'> & { _id?: string })[]): Promise<string[]> {
    const entry = this.#entry(name);
    if (!Array.isArray(docs)) throw new ShelfError('INVALID_ARGUMENT', 'docs must be an array');
    if (docs.length === 0) return [];
    return this.#writeLoaded(entry, async (loaded) => {
      const seen = new Set<string>();
      const prepared = docs.map((d, i) => {
        checkDoc(d, `docs[${i}]`);
        const doc = { ...d, _id: d._id ?? newDocId() } as Doc;
        if (loaded.docs.has(doc._id) || seen.has(doc._id)) {
          throw new ShelfError('INVALID_ARGUMENT', `docs[${i}]._id ${JSON.stringify(doc._id)} already exists in ${JSON.stringify(name)}`);
        }
        seen.add(doc._id);
        let size: number;
        try {
          size = docBytes(doc);
        } catch (error) {
          throw new ShelfError('INVALID_ARGUMENT', `docs[${i}] cannot be encoded: ${(error as Error).message}`, { cause: error });
        }
        return { doc, size };
      });
      let delta = 0;
      for (const { doc, size } of prepared) {
        loaded.docs.set(doc);
        delta += size;
      }
      this.#mark(loaded, seen, true);
      await this.#touch(name, loaded, delta);
      return prepared.map((p) => p.doc._id);
    });
  }

  async get(name: string, id: string): Promise<Doc | undefined> {
    checkId(id);
    const loaded = await this.#load(this.#entry(name));
    return loaded.docs.get(id);
  }

  /** Shallow-merges `patch` into a document. Missing id → `NOT_FOUND`. */
  async update(name: string, id: string, patch: Record<string, unknown>): Promise<Doc> {
    checkId(id);
    checkDoc(patch, 'patch');
    if (patch._id !== undefined && patch._id !== id) throw new ShelfError('INVALID_ARGUMENT', 'patch._id cannot change a document id');
    return this.#swap(name, id, (old) => ({ ...old, ...patch, _id: id }));
  }

  /** Replaces a document's content, keeping its id. Missing id → `NOT_FOUND`. */
  async replace(name: string, id: string, doc: Record<string, unknown>): Promise<Doc> {
    checkId(id);
    checkDoc(doc, 'doc');
    return this.#swap(name, id, () => ({ ...doc, _id: id }));
  }

  async #swap(name: string, id: string, make: (old: Doc) => Doc): Promise<Doc> {
    return this.#writeLoaded(this.#entry(name), async (loaded) => {
      const old = loaded.docs.get(id);
      if (!old) throw new ShelfError('NOT_FOUND', `document ${JSON.stringify(id)} not in collection ${JSON.stringify(name)}`);
      const next = make(old);
      const size = docBytes(next);
      loaded.docs.set(next);
      this.#mark(loaded, [id], false);
      await this.#touch(name, loaded, size - docBytes(old));
      return next;
    });
  }

  /** Deletes a document; returns whether it existed. */
  async delete(name: string, id: string): Promise<boolean> {
    checkId(id);
    return this.#writeLoaded(this.#entry(name), async (loaded) => {
      const old = loaded.docs.get(id);
      if (!old) return false;
      loaded.docs.delete(id);
      this.#mark(loaded, [id], true);
      await this.#touch(name, loaded, -docBytes(old));
      return true;
    });
  }

  /** Documents matching `filter` (see {@link compileFilter}), in insertion order, `offset` skipped, at most `limit` (0: none). */
  async find(name: string, filter?: Filter, options: FindOptions = {}): Promise<Doc[]> {
    const test = compileFilter(filter);
    const { limit = Infinity, offset = 0 } = options;
    if (limit !== Infinity && (!Number.isInteger(limit) || limit < 0)) {
      throw new ShelfError('INVALID_ARGUMENT', `options.limit must be a non-negative integer, got ${String(limit)}`);
    }
    if (!Number.isInteger(offset) || offset < 0) throw new ShelfError('INVALID_ARGUMENT', `options.offset must be a non-negative integer, got ${String(offset)}`);
    const loaded = await this.#load(this.#entry(name));
    const out: Doc[] = [];
    let skipped = 0;
    for (const doc of loaded.docs.values()) {
      if (out.length >= limit) break;
      if (!test(doc)) continue;
      if (skipped++ < offset) continue;
      out.push(doc);
    }
    return out;
  }

  async count(name: string, filter?: Filter): Promise<number> {
    const loaded = await this.#load(this.#entry(name));
    if (!filter) return loaded.docs.size;
    const test = compileFilter(filter);
    let n = 0;
    for (const doc of loaded.docs.values()) if (test(doc)) n++;
    return n;
  }

  findAll(name: string): Promise<Doc[]> {
    return this.find(name);
  }

  /**
   * Reads a collection in batches with bounded memory. A loaded collection is read from
   * memory; an unloaded one block by block from its file, without loading it (its file is
   * kept until the stream ends even if a save supersedes it). Where a crash left a newer
   * file beside the last complete save, that file is read through once before any of it is
   * sent, and a torn one is removed and the save before streamed, as a load falls back
   * (see {@link #checkNewest}).
   */
  async *iterate(name: string, options: { batchSize?: number; filter?: Filter } = {}): AsyncGenerator<Doc[], void, undefined> {
    const entry = this.#entry(name);
    const { batchSize = 1000 } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ShelfError('INVALID_ARGUMENT', 'options.batchSize must be a positive integer');
    const test = compileFilter(options.filter);
    let batch: Doc[] = [];
    if (entry.loaded || entry.loading) {
      const loaded = await this.#load(entry);
      // Taken now (references only), so the stream holds the documents as they were when it
      // started, whatever is written while it is read.
      for (const doc of loaded.docs.toArray()) {
        if (!test(doc)) continue;
        batch.push(doc);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    } else {
      for await (const block of this.#fileBlocks(name, entry)) {
        for (const doc of blockDocs(block)) {
          if (!test(doc)) continue;
          batch.push(doc);
          if (batch.length >= batchSize) {
            yield batch;
            batch = [];
          }
        }
      }
    }
    if (batch.length) yield batch;
  }

  /**
   * Blocks of the current file, read through a bounded window without loading the
   * collection; the file is kept until the reader ends even if a save supersedes it.
   */
  async *#fileBlocks(name: string, entry: Entry, pool?: BufferPool, onFile?: (file: string) => void): AsyncGenerator<RawBlock, void, undefined> {
    await this.#checkNewest(entry);
    const file = this.#currentFile(name, entry);
    if (file === undefined) return;
    onFile?.(file);
    yield* this.#reading(file, entry, name, () => readCollectionBlocks(this.#storage, file, name, STREAM_WINDOW_BYTES, readHelperCount(this.#compressionWorkers), pool));
  }

  /**
   * Before a stream reads the newest of several files of a collection: reads it through
   * once (every frame checked and inflated, no document rebuilt) and falls back as a load
   * does (see {@link #newestThatReads}). Several files are left by a crash mid-save (a torn
   * newer one beside the last complete save) or a superseded file that could not be
   * removed; streaming a torn one failed partway, after sending some of its blocks, where a
   * load used the save before. Done once per file: one this engine wrote or read already
   * reads. A lone file is not checked: there is nothing to fall back to, and damage fails
   * the stream when the damaged block is due, after the blocks before it.
   */
  async #checkNewest(entry: Entry): Promise<void> {
    const unchecked = () => entry.generations.length > 1 && entry.checked !== entry.generations[entry.generations.length - 1];
    if (!unchecked()) return;
    await this.#locked(entry, async () => {
      if (!unchecked()) return;
      await this.#newestThatReads(entry, async (file) => {
        for await (const block of readCollectionBlocks(this.#storage, file, entry.name, STREAM_WINDOW_BYTES, this.#compressionWorkers)) void block;
      });
    });
  }

  /** The file of the newest generation of a collection, if it has one. */
  #currentFile(name: string, entry: Entry): string | undefined {
    const generation = entry.generations[entry.generations.length - 1];
    return generation === undefined ? undefined : collectionFileName(name, generation);
  }

  /** Runs a reader of `file`, which is kept until the reader ends even if a save supersedes it (then removed). */
  async *#reading<T>(file: string, entry: Entry, name: string, read: () => AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
    this.#readers.set(file, (this.#readers.get(file) ?? 0) + 1);
    try {
      yield* read();
    } finally {
      const left = (this.#readers.get(file) ?? 1) - 1;
      if (left) this.#readers.set(file, left);
      else {
        this.#readers.delete(file);
        if (!entry.generations.some((g) => collectionFileName(name, g) === file) || this.#entries.get(name) !== entry) await this.#removeFile(file);
      }
    }
  }

  /**
   * {@link iterate} as packed batches (see packed-batch.ts) for a reader on another thread,
   * the documents in the same order. Unfiltered, from the newest file where it can:
   * - an unloaded collection, or a loaded one unchanged since its last load or save: the
   *   file's blocks go out as the bytes they inflate to, nothing packed or rebuilt here;
   * - a loaded one with a few changes since (few enough to touch at most a quarter of its
   *   blocks): blocks holding none of the changed documents go out the same way; the
   *   others are packed again with the changes applied, and inserted documents follow.
   * Otherwise documents are packed from memory in batches of up to 1,000. Either way the
   * stream holds the documents as they were when it started. The reader re-slices to its
   * own batch size.
   */
  async *packedBatches(name: string, options: { batchSize?: number; filter?: Filter; pool?: BufferPool } = {}): AsyncGenerator<Uint8Array, void, undefined> {
    const entry = this.#entry(name);
    const { pool } = options;
    const { batchSize = 1000 } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ShelfError('INVALID_ARGUMENT', 'options.batchSize must be a positive integer');
    const loaded = entry.loading ? undefined : entry.loaded;
    const fromFile = options.filter === undefined && entry.generations.length > 0 && !entry.loading;
    if (fromFile && !loaded) {
      for await (const block of this.#fileBlocks(name, entry, pool)) yield blockBytes(block);
      return;
    }
    // Each changed document may touch a block that is then decoded and packed again: worth
    // it while at most a quarter of the blocks can be touched.
    if (fromFile && loaded && loaded.changed && loaded.changed.size <= Math.max(16, loaded.docs.size / this.#blockDocs / 4)) {
      this.#lru.get(name); // a use like any read of a loaded collection
      yield* this.#patchedFileBatches(name, entry, loaded, loaded.changed, pool);
      return;
    }
    for await (const batch of this.iterate(name, { batchSize: BLOCK_DOCS, ...(options.filter ? { filter: options.filter } : {}) })) yield encodeDocBatch(batch);
  }

  /** The newest file's blocks with the changes since it applied (see {@link packedBatches}). */
  async *#patchedFileBatches(
    name: string, entry: Entry, loaded: Loaded, record: ReadonlyMap<string, { movedAt: number | undefined }>, pool?: BufferPool,
  ): AsyncGenerator<Uint8Array, void, undefined> {
    for await (const piece of this.#patchedPieces(name, entry, loaded, record, BLOCK_DOCS, pool)) {
      yield 'block' in piece ? blockBytes(piece.block) : encodeDocBatch(piece.docs);
    }
  }

  /**
   * The collection as the newest file plus the changes recorded since (`record`), in the
   * loaded documents' order, as pieces: a file block none of the changes touch (to send or
   * keep as it is), or documents to encode (a touched block with its changes applied, then
   * the inserted documents in runs of `tailDocs`). The state is taken when the generator
   * first runs (call `next()` right away): later changes do not show. Reading the file's
   * blocks and checking their ids costs inflating them, not rebuilding their documents.
   */
  async *#patchedPieces(
    name: string, entry: Entry, loaded: Loaded, record: ReadonlyMap<string, { movedAt: number | undefined }>, tailDocs: number, pool?: BufferPool,
  ): AsyncGenerator<{ block: RawBlock } | { docs: Doc[] }, void, undefined> {
    const { ids, changed, tail } = takeChanges(loaded, record);
    // With the file's id index in memory (Entry.idIndex), a block none of whose hashes is a
    // changed id's is sent without reading its ids; a hash that matches is checked by id.
    const wanted = new Set<number>();
    for (const id of ids) wanted.add(idHash(id));
    let known: readonly Uint32Array[] | undefined;
    const onFile = (file: string) => {
      known = entry.idIndex?.file === file ? entry.idIndex.hashes : undefined;
    };
    for await (const block of this.#fileBlocks(name, entry, pool, onFile)) {
      const hashes = known?.[block.index];
      const maybe = !hashes || hashes.length !== block.count || hashes.some((h) => wanted.has(h));
      if (!maybe || !blockHasId(block, ids)) {
        yield { block };
        continue;
      }
      const docs = patchDocs(blockDocs(block), changed);
      if (docs.length) yield { docs };
    }
    for (let i = 0; i < tail.length; i += tailDocs) yield { docs: tail.slice(i, i + tailDocs) };
  }

  /**
   * The next file of a collection loaded from (or last saved to) its newest file, with few
   * changes since (`record`, taken when this is called): that file's blocks the changes do
   * not touch are copied as they are, touched ones are encoded again with the changes,
   * inserted documents go into new blocks at the end. Which blocks are touched comes from
   * the old file's id index when it has one (untouched blocks are then only checked, not
   * inflated), else from each block's `_id` column; the new file always gets an index.
   * Kept blocks keep the old file's format, so the new one is at least that (the next
   * full save writes the lowest its blocks allow). An untouched block is trusted to the
   * index entirely (its documents are not counted): only saves of this engine write
   * indexes, each from the documents or the block's own `_id` column. Returns `undefined`
   * when that is not worth it or not possible — the old file is of format 1, the result
   * would hold more than fresh + max(2, fresh / 4) blocks, fresh being what a full save
   * would write (deleted and inserted documents leave short blocks; a full save packs
   * them again), or a kept block holds more than `blockDocs` documents — and throws what
   * reading the old file throws (a damaged file is `CORRUPT`).
   */
  async #patchedFile(name: string, entry: Entry, loaded: Loaded, record: ReadonlyMap<string, { movedAt: number | undefined }>, generation: number) {
    const { ids, changed, tail } = takeChanges(loaded, record);
    const wanted = new Set<number>();
    for (const id of ids) wanted.add(idHash(id));
    const touched = (hashes: Uint32Array) => {
      for (let i = 0; i < hashes.length; i++) if (wanted.has(hashes[i]!)) return true;
      return false;
    };
    const frames: Uint8Array[] = [];
    const idHashes: Uint32Array[] = [];
    let format: 2 | 3 | 4 = 2;
    let count = 0;
    let reused = 0;
    let largestKept = 0;
    const keep = (frame: Uint8Array, hashes: Uint32Array, blockFormat: 2 | 3 | 4) => {
      largestKept = Math.max(largestKept, hashes.length);
      frames.push(frame);
      idHashes.push(hashes);
      count += hashes.length;
      format = Math.max(format, blockFormat) as 2 | 3 | 4;
      reused++;
    };
    const encode = async (docs: readonly Doc[]) => {
      const encoded = await encodeBlockFrame(docs);
      frames.push(encoded.frame);
      idHashes.push(Uint32Array.from(docs, (d) => idHash(d._id)));
      count += docs.length;
      format = Math.max(format, encoded.format) as 2 | 3 | 4;
    };
    const file = this.#currentFile(name, entry);
    if (!file) return undefined;
    // The old file is read in one piece: the kept frames are views into it, and the new
    // file is as large, so a read-ahead window would not hold less (and took 5 reads
    // instead of 1: 149 against 103 ms a save in a harness, 100k documents, 10 changes).
    const known = entry.idIndex?.file === file ? entry.idIndex.hashes : undefined;
    const read = () => readCollectionForSave(this.#storage, file, name, touched, Infinity, this.#compressionWorkers, known);
    for await (const piece of this.#reading(file, entry, name, read)) {
      if (piece.kept) {
        keep(piece.frame, piece.idHashes, piece.format);
        continue;
      }
      const { block } = piece;
      if (block.format === 1) return undefined; // one header cannot describe both kinds of block
      if (!blockHasId(block, ids)) keep(block.frame, blockIdHashes(block), block.format);
      else {
        const docs = patchDocs(blockDocs(block), changed);
        if (docs.length) await encode(docs);
      }
    }
    for (let i = 0; i < tail.length; i += this.#blockDocs) await encode(tail.slice(i, i + this.#blockDocs));
    const fresh = Math.ceil(count / this.#blockDocs);
    if (frames.length > fresh + Math.max(2, fresh / 4)) return undefined;
    // Blocks larger than this engine makes (a file written with a larger `blockDocs`): a
    // full save cuts them to size, where keeping them would keep them that size for good.
    if (largestKept > this.#blockDocs) return undefined;
    return { bytes: await assembleCollectionFile(name, generation, format, count, frames, idHashes), reused, count, idHashes };
  }

  /** The same as {@link iterate}, as a `ReadableStream` of batches (streams to the page go through packedBatches instead). */
  stream(name: string, options: { batchSize?: number; filter?: Filter } = {}): ReadableStream<Doc[]> {
    this.#entry(name);
    return toStream(this.iterate(name, options));
  }

  /**
   * Saves one collection if it is dirty: a new generation file, then the old one removed.
   * A save that fails leaves the collection as it was, on storage and in memory (dirty).
   */
  save(name: string): Promise<void> {
    return this.#save(this.#entry(name));
  }

  #save(entry: Entry): Promise<void> {
    const name = entry.name;
    return this.#locked(entry, async () => {
      const loaded = entry.loaded;
      if (!loaded || loaded.version === loaded.savedVersion) return;
      // Dropped (or renamed away) while this save waited: writing would bring it back after a crash.
      if (!this.#isCurrent(entry)) return;
      const version = loaded.version;
      // The documents this save writes, whichever way it goes: as they are now (writes
      // made while it runs replace objects in the Map; these stay as they were).
      const { docs, hashes } = loaded.docs.snapshot();
      const generation = this.#nextGeneration(name);
      // A few changes since the newest file: keep the blocks they do not touch (taken now,
      // in this step, like the documents of a full save below).
      const record = loaded.changed;
      let patched: { bytes: Uint8Array; reused: number; count: number; idHashes: Uint32Array[] } | undefined;
      if (record && entry.generations.length > 0 && record.size <= Math.max(16, loaded.docs.size / this.#blockDocs / 4)) {
        try {
          patched = await this.#patchedFile(name, entry, loaded, record, generation);
        } catch (error) {
          // The old file could not be read (damaged, gone, a storage error): memory holds
          // every document, so save them all; only what fails that way too fails the save.
          // Counted and kept, so a broken path shows as more than slower saves.
          this.#reuseFailures++;
          this.lastReuseError = error;
        }
        // Cannot differ unless the file and the record of changes disagree: then trust memory.
        if (patched && patched.count !== docs.length) patched = undefined;
      }
      let bytes: Uint8Array;
      let byHelpers = 0;
      let idHashes: Uint32Array[] | undefined;
      if (patched) {
        ({ bytes, idHashes } = patched);
        this.#reusedBlocks += patched.reused;
      } else {
        ({ bytes, byHelpers, idHashes } = await encodeCollection(name, docs, generation, this.#blockDocs, this.#compressionWorkers, hashes));
      }
      // Dropped while the file was made: writing would bring it back after a crash.
      if (!this.#isCurrent(entry)) return;
      const written = collectionFileName(name, generation);
      await this.#writeNew(written, bytes);
      entry.idIndex = idHashes ? { file: written, hashes: idHashes } : undefined;
      const old = entry.generations;
      entry.generations = [generation];
      entry.checked = generation;
      // Changes up to `version` are in the new file; later ones are changes against it.
      markSaved(loaded, version);
      this.#countSave(bytes.length, byHelpers);
      // The save is done (the new file is durable and current): a superseded file that cannot
      // be removed now is kept on the list and removed by a later save or drop.
      const kept: number[] = [];
      for (const g of old) {
        try {
          await this.#removeFile(collectionFileName(name, g));
        } catch {
          kept.push(g);
        }
      }
      if (kept.length) entry.generations = [...kept, ...entry.generations];
    });
  }

  /** Writes a collection's first file, under a name not listed yet (a create's, a rename's); returns its generation. */
  async #writeFirstFile(name: string, docs: readonly Doc[]): Promise<number> {
    const generation = this.#nextGeneration(name);
    const { bytes, byHelpers } = await encodeCollection(name, docs, generation, this.#blockDocs, this.#compressionWorkers);
    await this.#writeNew(collectionFileName(name, generation), bytes);
    this.#countSave(bytes.length, byHelpers);
    return generation;
  }

  /**
   * The next generation of `name`: never a number this name had before in this engine
   * (every file it knows, from the listing at open or a save, is counted): a collection
   * dropped while its save still ran, then created again, must not get (and later lose)
   * that save's file, and a file a stream still reads, removed by name when the stream
   * ends, is never written over.
   */
  #nextGeneration(name: string): number {
    const generation = (this.#lastGeneration.get(name) ?? 0) + 1;
    this.#lastGeneration.set(name, generation);
    return generation;
  }

  /**
   * Writes a file nothing refers to yet. One whose write fails is removed (best effort): a
   * write can fail after bytes reached storage (OPFS writes in place, and a quota or flush
   * error can leave part of a file), and such a file, unknown to its collection, came back
   * as a torn generation, or as the collection itself after a drop.
   */
  async #writeNew(file: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.#storage.write(file, bytes);
    } catch (error) {
      await this.#storage.remove(file).catch(() => undefined);
      throw error;
    }
  }

  #countSave(bytes: number, byHelpers: number): void {
    this.#saves++;
    this.#bytesWritten += bytes;
    this.#byHelpers += byHelpers;
  }

  async #removeFile(file: string): Promise<void> {
    if (this.#readers.has(file)) return; // the last reader removes it
    await this.#storage.remove(file);
  }

  /** Saves every dirty collection; once all have ended, rejects with the first failure, if any. */
  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#saveDirty();
  }

  #dirtyEntries(): Entry[] {
    return [...this.#entries.values()].filter((e) => e.loaded && e.loaded.version !== e.loaded.savedVersion);
  }

  async #saveDirty(): Promise<void> {
    const results = await Promise.allSettled(this.#dirtyEntries().map((e) => this.#save(e)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The interval's round of saves: failures are counted and kept, as for eviction saves. */
  async #saveInBackground(): Promise<void> {
    if (this.#closed) return;
    await Promise.all(this.#dirtyEntries().map((e) => this.#saveQuietly(e)));
  }

  stats(): CollectionStats {
    return {
      memoryUsed: this.#lru.bytes,
      memoryLimit: this.#lru.limitBytes,
      loadedCollections: this.#lru.size,
      totalCollections: this.#entries.size,
      cacheHits: this.#lru.hits,
      cacheMisses: this.#lru.misses,
      evictions: this.#lru.evictions,
      saves: this.#saves,
      bytesWritten: this.#bytesWritten,
      loads: this.#loads,
      recoveredSaves: this.#recovered,
      blocksCompressedByHelpers: this.#byHelpers,
      blocksReused: this.#reusedBlocks,
      reuseFailures: this.#reuseFailures,
      backgroundSaveFailures: this.#backgroundSaveFailures,
    };
  }

  /**
   * Closes the engine: from the call on, every call is refused with `CLOSED` (a write that
   * was waiting for its collection to load too: the saves below may have taken its
   * documents already) and background saving stops; the work under way (saves, loads,
   * creates, drops, renames) ends, then every dirty collection is saved. If a save fails,
   * close rejects with its error once the others have ended: what was saved before (and by
   * the others) stays on storage, the failed collection's unsaved changes stay in memory
   * only, and calling close again tries to save them again. Once close has resolved,
   * calling it again resolves at once.
   */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#closing ??= this.#finish().catch((error: unknown) => {
      this.#closing = undefined;
      throw error;
    });
    return this.#closing;
  }

  /** Waits for the work under way (a rename carries writes over, leaving its collection dirty), then saves what is dirty. */
  async #finish(): Promise<void> {
    while (this.#running.size) await Promise.all(this.#running);
    await this.#saveDirty();
  }
}
