import { ShelfError, installErrorTransfer } from '../errors/index.ts';
import {
  createMemoryKv, LogBuffer, logKeys, openIndexedDbKv, TypedKvStore,
  type KvStore, type LogBufferOptions, type LogEntry, type LogLevel,
} from '../kv/index.ts';
import { CollectionEngine, KvBlobStore, type CollectionEngineOptions } from '../collections/index.ts';
import { MemoryBlobStore, MemoryJournalFiles, OpfsBlobStore, OpfsJournalFiles, type BlobStore } from '../opfs/index.ts';
import { openDurableSnapshotStore, type DurableSnapshotOptions, type DurableSnapshotStore } from '../snapshot/index.ts';
import type { ShelfSearchOptions } from './search-service.ts';
import { WireSnapshots } from './wire-snapshots.ts';
import { WireCollections } from './wire-collections.ts';
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
   * origin's private file system. `'kv'`: blobs in the shelf's IndexedDB store.
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
  #collections: CollectionEngine | undefined;
  #snapshots: Promise<DurableSnapshotStore> | undefined;
  #options: ShelfOptions | undefined;
  #name = '';

  #store(): KvStore {
    if (!this.#kv) throw new ShelfError('CLOSED', this.#name ? `shelf "${this.#name}" is closed` : 'shelf is not open');
    return this.#kv;
  }

  #typedStore(): TypedKvStore {
    this.#store();
    return this.#typed!;
  }

  /** Byte-level KV access. */
  readonly kvBytes = new WireBytesKv(() => this.#store());
  /** KV access with values encoded by msgpackr in the worker. */
  readonly kv = new WireTypedKv(() => this.#typedStore());

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
  readonly collections = new WireCollections(() => this.#collectionEngine());

  /** The code snapshot store (sql.js, journaled to OPFS); opened on first use. */
  readonly snapshots = new WireSnapshots(() => this.#snapshotStore());

  #snapshotStore(): Promise<DurableSnapshotStore> {
    this.#store();
    this.#snapshots ??= (async () => {
      const { name, memory, snapshots = {} } = this.#options!;
      const files = memory ? new MemoryJournalFiles() : await OpfsJournalFiles.open(`codeshelf/${encodeURIComponent(name)}/snapshots`);
      const { loadBrowserSqlJs } = await import('./sqljs-loader.ts');
      return openDurableSnapshotStore({ files, sqlJs: loadBrowserSqlJs(), ...snapshots });
    })().catch((error: unknown) => {
      this.#snapshots = undefined;
      throw error;
    });
    return this.#snapshots;
  }

  #logBuffer(): LogBuffer {
    this.#store();
    return this.#logs!;
  }

  async open(options: ShelfOptions): Promise<ShelfInfo> {
    if (this.#kv) throw new ShelfError('INVALID_ARGUMENT', `this worker already serves shelf "${this.#name}"`);
    const { name, memory = false, durability, logs, collections = {} } = options ?? ({} as ShelfOptions);
    if (typeof name !== 'string' || !name) {
      throw new ShelfError('INVALID_ARGUMENT', `options.name must be a non-empty string, got ${JSON.stringify(name)}`);
    }
    this.#kv = memory ? createMemoryKv({ name }) : await openIndexedDbKv({ name, ...(durability ? { durability } : {}) });
    this.#typed = new TypedKvStore(this.#kv);
    this.#logs = new LogBuffer(this.#typed as TypedKvStore<LogEntry>, logs);
    const { storage: where, ...engineOptions } = collections;
    let blobs: BlobStore;
    if (memory) blobs = new MemoryBlobStore();
    else if (where === 'kv' || (where === undefined && !navigator.storage?.getDirectory)) blobs = new KvBlobStore(this.#kv, 'collections:');
    else blobs = await OpfsBlobStore.open(`codeshelf/${encodeURIComponent(name)}/collections`);
    this.#collections = await CollectionEngine.open({ storage: blobs, ...engineOptions });
    this.#options = options;
    this.#name = name;
    return { name, persistent: !memory };
  }

  /** Saves what is pending (logs, dirty collections) without closing: for `pagehide`. */
  async flush(): Promise<void> {
    await Promise.all([this.#logBuffer().flush(), this.#collectionEngine().flush()]);
  }

  /** Flushes buffered logs and collections and closes every store. Later calls fail with `CLOSED`. */
  async close(): Promise<void> {
    const kv = this.#kv;
    if (!kv) return;
    try {
      await this.#logs?.stop();
      await this.collections.stopStreams();
      await this.#collections?.close();
      if (this.#snapshots) await (await this.#snapshots.catch(() => undefined))?.close();
    } finally {
      this.#snapshots = undefined;
      this.#collections = undefined;
      this.#kv = undefined;
      this.#typed = undefined;
      this.#logs = undefined;
      await kv.close();
    }
  }
}
