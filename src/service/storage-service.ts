import type { SqlJsStatic } from 'sql.js';
import { ShelfError, installErrorTransfer, toShelfError } from '../errors/index.ts';
import {
  createMemoryKv, LogBuffer, logKeys, openIndexedDbKv, TypedKvStore,
  type KvStore, type LogBufferOptions, type LogEntry, type LogLevel,
} from '../kv/index.ts';
import { CollectionEngine, KvBlobStore, type CollectionEngineOptions } from '../collections/index.ts';
import { MemoryBlobStore, MemoryJournalFiles, OpfsBlobStore, OpfsJournalFiles, type BlobStore } from '../opfs/index.ts';
import { openDurableSnapshotStore, type DurableSnapshotOptions, type DurableSnapshotStore } from '../snapshot/index.ts';
import type { ShelfSearchOptions } from './search-service.ts';
import { checkShelfOptions } from './shelf-options.ts';
import { WireSnapshots } from './wire-snapshots.ts';
import { WireCollections } from './wire-collections.ts';
import { Staging } from './staging.ts';
import { WireBytesKv, WireTypedKv } from './wire-kv.ts';

installErrorTransfer();

/** Options of `openShelf()`, as the storage worker receives them. */
export interface ShelfOptions {
  /** The database name; shelves with different names are fully separate. */
  readonly name: string;
  /** Keep everything in memory (nothing persisted); for tests and ephemeral sessions. */
  readonly memory?: boolean;
  /** IndexedDB write durability (default `'default'`, which Chromium treats as relaxed). */
  readonly durability?: IDBTransactionDurability;
  /** Log buffer settings. */
  readonly logs?: LogBufferOptions;
  /** Document collection settings. */
  readonly collections?: ShelfCollectionOptions;
  /** Code snapshot store settings: checkpoint threshold and full-text upkeep timing. */
  readonly snapshots?: Pick<DurableSnapshotOptions, 'checkpointBytes' | 'maintenanceDelayMs' | 'maintenanceMaxDelayMs'>;
  /** Search index settings (the index lives in its own worker). */
  readonly search?: ShelfSearchOptions;
}

/** Where and how document collections are kept. */
export interface ShelfCollectionOptions extends Omit<CollectionEngineOptions, 'storage'> {
  /**
   * `'opfs'` (default where available): files in `codeshelf/{name}/collections/` of the
   * origin's private file system. `'kv'`: blobs in an IndexedDB database of their own,
   * `codeshelf:{name}:collections`, apart from the shelf's key-value data.
   */
  readonly storage?: 'opfs' | 'kv';
}

/** What `open()` reports back. */
export interface ShelfInfo {
  readonly name: string;
  readonly persistent: boolean;
}

/**
 * Everything the storage worker owns, exposed through Comlink. The page never builds one;
 * `openShelf()` talks to it through a proxy whose type is derived from this class.
 * @internal
 */
export class StorageService {
  #kv: KvStore | undefined;
  #typed: TypedKvStore | undefined;
  #logs: LogBuffer | undefined;
  /** Where collections live when kept in IndexedDB (`collections.storage: 'kv'`). */
  #collectionsKv: KvStore | undefined;
  #collections: CollectionEngine | undefined;
  #snapshots: Promise<DurableSnapshotStore> | undefined;
  #options: ShelfOptions | undefined;
  #name = '';
  /**
   * Aborted when close begins: every call is refused from then on, even if that close fails,
   * and transactions still running (their callback on the page) reject with `CLOSED`.
   */
  #closing = new AbortController();
  #closeRun: Promise<void> | undefined;

  #store(): KvStore {
    if (!this.#kv || this.#closing.signal.aborted) throw new ShelfError('CLOSED', this.#name ? `shelf "${this.#name}" is closed` : 'shelf is not open');
    return this.#kv;
  }

  #typedStore(): TypedKvStore {
    this.#store();
    return this.#typed!;
  }

  /** Slices of large writes the page sends apart (see staging.ts): the wires' `*Staged` calls take them. */
  readonly #staging = new Staging();

  /** A slice of a large write's array, kept under `token` until the write takes it (see staging.ts). @internal */
  stage(token: number, items: unknown[]): void {
    this.#staging.add(token, items);
  }

  /** Forgets the slices staged under `token` (a write that could not be sent). @internal */
  unstage(token: number): void {
    this.#staging.drop(token);
  }

  /** Byte-level KV access. */
  readonly kvBytes = new WireBytesKv(() => this.#store(), () => this.#closing.signal, this.#staging);
  /** KV access with values encoded by msgpackr in the worker. */
  readonly kv = new WireTypedKv(() => this.#typedStore(), () => this.#closing.signal, this.#staging);

  /** Buffered logging into `log:{level}:{id}` keys. */
  readonly logs = {
    add: (entries: LogEntry | readonly LogEntry[]): string[] => {
      return this.#logBuffer().addMany(Array.isArray(entries) ? entries : [entries as LogEntry]);
    },
    flush: (): Promise<void> => this.#logBuffer().flush(),
    list: async (options: { level?: LogLevel; limit?: number; reverse?: boolean } = {}): Promise<LogEntry[]> => {
      const page = await (this.#typedStore() as TypedKvStore<LogEntry>).scan({
        prefix: logKeys.prefix(options.level ? { level: options.level } : {}),
        limit: options.limit ?? 100,
        reverse: options.reverse ?? false,
      });
      return page.values ?? [];
    },
  };

  #collectionEngine(): CollectionEngine {
    this.#store();
    return this.#collections!;
  }

  /** Document collections: lazy loading, LRU bounded in bytes, background saving, streams. */
  readonly collections = new WireCollections(() => this.#collectionEngine(), this.#staging);

  /** The code snapshot store (sql.js, journaled to OPFS); opened on first use. */
  readonly snapshots = new WireSnapshots(() => this.#snapshotStore());

  #snapshotStore(): Promise<DurableSnapshotStore> {
    this.#store();
    this.#snapshots ??= (async () => {
      const { name, memory, snapshots = {} } = this.#options!;
      const files = memory ? new MemoryJournalFiles() : await OpfsJournalFiles.open(shelfPath(name, 'snapshots'));
      let sqlJs: SqlJsStatic;
      try {
        sqlJs = await (await import('./sqljs-loader.ts')).loadBrowserSqlJs();
      } catch (error) {
        // A bundler that did not ship the WASM, a blocked fetch, a CSP refusing WebAssembly.
        throw new ShelfError('INTERNAL', `the snapshot store needs sql.js, which failed to load: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      }
      return openDurableSnapshotStore({ files, sqlJs, ...snapshots });
    })().catch((error: unknown) => {
      this.#snapshots = undefined;
      throw toShelfError(error, 'opening the snapshot store');
    });
    return this.#snapshots;
  }

  #logBuffer(): LogBuffer {
    this.#store();
    return this.#logs!;
  }

  async open(options: ShelfOptions): Promise<ShelfInfo> {
    if (this.#kv) throw new ShelfError('INVALID_ARGUMENT', `this worker already serves shelf "${this.#name}"`);
    checkShelfOptions(options);
    const { name, memory = false, durability, logs, collections = {} } = options;
    const kv = memory ? createMemoryKv({ name }) : await openIndexedDbKv({ name, ...(durability ? { durability } : {}) });
    try {
      const typed = new TypedKvStore(kv);
      const logBuffer = new LogBuffer(typed as TypedKvStore<LogEntry>, logs);
      const { storage: where, ...engineOptions } = collections;
      let blobs: BlobStore;
      let collectionsKv: KvStore | undefined;
      try {
        if (memory) blobs = new MemoryBlobStore();
        else if (where === 'kv' || (where === undefined && !navigator.storage?.getDirectory)) {
          // A database of their own, apart from the caller's keys (kv.clear() must not take them).
          collectionsKv = await openIndexedDbKv({ name, part: 'collections', ...(durability ? { durability } : {}) });
          await moveLegacyCollections(kv, collectionsKv);
          blobs = new KvBlobStore(collectionsKv, COLLECTION_PREFIX);
        } else blobs = await OpfsBlobStore.open(shelfPath(name, 'collections'));
        this.#collections = await CollectionEngine.open({ storage: blobs, ...engineOptions });
      } catch (error) {
        await logBuffer.stop().catch(() => undefined);
        await collectionsKv?.close();
        throw error;
      }
      this.#collectionsKv = collectionsKv;
      this.#kv = kv;
      this.#typed = typed;
      this.#logs = logBuffer;
    } catch (error) {
      // Nothing stays open: the worker may be asked to open again.
      await kv.close();
      throw toShelfError(error, `opening shelf "${name}"`);
    }
    this.#options = options;
    this.#name = name;
    this.#closing = new AbortController();
    return { name, persistent: !memory };
  }

  /** Saves what is pending (logs, dirty collections) without closing: for `pagehide`. */
  async flush(): Promise<void> {
    await Promise.all([this.#logBuffer().flush(), this.#collectionEngine().flush()]);
  }

  /**
   * Flushes buffered logs and collections and closes every store. From the call on, every
   * other call fails with `CLOSED` and transactions still running reject with `CLOSED`
   * (nothing of theirs is committed). Every part is closed even if another fails (logs,
   * collections and snapshots side by side; the KV store, which the first two write to,
   * last), and the first failure is reported once all have ended. A part that failed stays
   * as it was, holding what it could not save, and calling `close` again retries it; the
   * snapshot store is not retried: its commits are in its journal once they resolve, and
   * only the closing checkpoint can have failed. Concurrent calls share one attempt.
   */
  close(): Promise<void> {
    if (!this.#kv) return Promise.resolve();
    this.#closeRun ??= this.#close().finally(() => {
      this.#closeRun = undefined;
    });
    return this.#closeRun;
  }

  async #close(): Promise<void> {
    this.#closing.abort();
    const snapshots = this.#snapshots;
    this.#snapshots = undefined;
    const logs = this.#logs;
    const engine = this.#collections;
    const results = await Promise.allSettled([
      logs?.stop(),
      (async () => {
        await this.collections.stopStreams();
        await engine?.close();
      })(),
      snapshots ? snapshots.then((store) => store.close(), () => undefined) : undefined,
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw toShelfError(failed.reason, `closing shelf "${this.#name}"`);
    const kv = this.#kv!;
    const collectionsKv = this.#collectionsKv;
    this.#collections = undefined;
    this.#collectionsKv = undefined;
    this.#kv = undefined;
    this.#typed = undefined;
    this.#logs = undefined;
    await Promise.all([kv.close(), collectionsKv?.close()]);
    // Calls that settled while closing have their answers posted by now (they only wait
    // for microtasks), so they reach the page before this close does: the page terminates
    // the worker on it and fails whatever is still unanswered with CLOSED.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Key prefix of collection files in their KV database (as in the shelf's own KV store before). */
const COLLECTION_PREFIX = 'collections:';

/**
 * A shelf's directory in OPFS: `codeshelf/{name}/{part}`, the name URI-encoded. `.` and `..`
 * cannot name a directory there and `encodeURIComponent` leaves them as they are: they are
 * spelled `%2E` and `%2E%2E` (which no encoded name can otherwise be).
 */
function shelfPath(name: string, part: string): string {
  const dir = name === '.' ? '%2E' : name === '..' ? '%2E%2E' : encodeURIComponent(name);
  return `codeshelf/${dir}/${part}`;
}

/** A key the collection engine's blob store wrote under {@link COLLECTION_PREFIX}: a collection file's size record or one of its chunks. */
const LEGACY_COLLECTION_KEY = /^collections:[^\u0000]*\.csc\u0000(?:size|\d{8})$/;

/**
 * Collections kept in IndexedDB used to share the shelf's own KV store, under
 * `collections:`: `kv.clear()` deleted them and `kv.scan()` met their raw chunks. Moves
 * them to their own database before the engine opens: only keys of collection files (a
 * caller's own `collections:…` keys stay where they are), each page copied before it is
 * deleted, so a crash in between leaves a copy that the next open moves again (the engine
 * has written nothing to the new database meanwhile).
 */
async function moveLegacyCollections(from: KvStore, to: KvStore): Promise<void> {
  let after: string | undefined;
  for (;;) {
    // Keys only: a caller's own `collections:…` values are never read.
    const page = await from.scan({ prefix: COLLECTION_PREFIX, limit: 64, keysOnly: true, ...(after === undefined ? {} : { after }) });
    const keys = page.keys.filter((key) => LEGACY_COLLECTION_KEY.test(key));
    const values = keys.length > 0 ? await from.getMany(keys) : [];
    const puts = keys.flatMap((key, i) => (values[i] === undefined ? [] : [{ type: 'put' as const, key, value: values[i]! }]));
    if (puts.length > 0) {
      await to.batch(puts);
      await from.batch(puts.map(({ key }) => ({ type: 'delete' as const, key })));
    }
    if (page.cursor === null) return;
    after = page.cursor;
  }
}
