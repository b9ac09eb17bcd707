import { proxy, releaseProxy, transfer, wrap, type Remote } from 'comlink';
import { installErrorTransfer, ShelfError } from '../errors/index.ts';
import type { Doc, Filter } from '../collections/index.ts';
import { decodeDocBatch } from '../collections/packed-batch.ts';
import type { KvTransaction, ScanOptions, TransactionOptions, TypedTransaction } from '../kv/index.ts';
import type { ShelfOptions, StorageService } from '../service/index.ts';
import { BatchReader } from '../service/batch-port.ts';
import { createSearchClient, type ShelfSearch } from './search-client.ts';

installErrorTransfer();

type Api = StorageService;

/** Options of {@link openShelf}. */
export interface OpenShelfOptions extends ShelfOptions {
  /**
   * A worker running `codeshelf/worker`, for bundlers that need to create it themselves.
   * By default codeshelf starts its own module worker.
   */
  readonly worker?: Worker;
  /** Creates a worker running `codeshelf/search-worker` (same reason as `worker`); called on first search and after a watchdog restart. */
  readonly searchWorker?: () => Worker;
}

/** The page-side view of the typed KV store (values encoded by msgpackr in the worker). */
export type ShelfKv<T = unknown> = Omit<Remote<Api['kv']>, 'transaction' | 'get' | 'getMany' | 'set' | 'batch' | 'scan'> & {
  get(key: string): Promise<T | undefined>;
  getMany(keys: readonly string[]): Promise<(T | undefined)[]>;
  set(key: string, value: T): Promise<void>;
  batch(ops: readonly ({ type: 'put'; key: string; value: T } | { type: 'delete'; key: string })[]): Promise<void>;
  scan(options?: ScanOptions): Promise<{ keys: string[]; values: T[] | null; cursor: string | null }>;
  /**
   * Runs `fn` as an optimistic transaction in the worker; `tx` is a proxy, so await its
   * calls. Conflicts reject with `TXN_CONFLICT` and write nothing.
   */
  transaction<R>(fn: (tx: Remote<TypedTransaction<T>>) => Promise<R>, options?: TransactionOptions): Promise<R>;
  /** Iterates a range page by page (one worker round trip per page). */
  iterate(options?: ScanOptions & { pageSize?: number }): AsyncIterableIterator<{ key: string; value: T }>;
};

/** The page-side view of the byte KV store. */
export type ShelfKvBytes = Omit<Remote<Api['kvBytes']>, 'transaction'> & {
  transaction<R>(fn: (tx: Remote<KvTransaction>) => Promise<R>, options?: TransactionOptions): Promise<R>;
  iterate(options?: ScanOptions & { pageSize?: number }): AsyncIterableIterator<{ key: string; value: Uint8Array }>;
};

/** The page-side view of document collections. */
export type ShelfCollections = Omit<Remote<Api['collections']>, 'pushPacked' | 'stopStreams'> & {
  /** Reads a collection batch by batch: the worker sends packed batches ahead of the reader (no round trip per batch). */
  iterate(name: string, options?: { batchSize?: number; filter?: Filter }): AsyncIterableIterator<Doc[]>;
};

/** The page-side view of the code snapshot store. */
export type ShelfSnapshots = Omit<Remote<Api['snapshots']>, 'chunks'> & { readonly chunks: Remote<Api['snapshots']['chunks']> };

/** A handle on an open shelf. Every call runs in the storage worker. */
export interface Shelf {
  readonly name: string;
  /** True when data is persisted (IndexedDB), false for `memory: true`. */
  readonly persistent: boolean;
  readonly kv: ShelfKv;
  readonly kvBytes: ShelfKvBytes;
  readonly logs: Remote<Api['logs']>;
  readonly collections: ShelfCollections;
  /** Repositories, commit snapshots, chunks, dependencies, diffs: sql.js journaled to OPFS. */
  readonly snapshots: ShelfSnapshots;
  /** Code search (keywords, regex, substring) in its own worker, saved to IndexedDB. */
  readonly search: ShelfSearch;
  /**
   * Saves pending logs and dirty collections now. Called for you when the page is hidden
   * or unloaded (`visibilitychange`, `pagehide`).
   */
  flush(): Promise<void>;
  /** Flushes, closes the stores and stops the worker. Later calls fail with `CLOSED`. */
  close(): Promise<void>;
}

interface Pager {
  scan(options: ScanOptions): Promise<{ keys: string[]; values: unknown[] | null; cursor: string | null }>;
}

async function* pages<V>(remote: Pager, options: ScanOptions & { pageSize?: number }) {
  const { pageSize = 1000, limit = Infinity, ...rest } = options;
  let remaining = limit;
  let after = rest.after;
  while (remaining > 0) {
    const page = await remote.scan({ ...rest, keysOnly: false, limit: Math.min(pageSize, remaining), ...(after === undefined ? {} : { after }) });
    for (let i = 0; i < page.keys.length; i++) yield { key: page.keys[i]!, value: page.values![i] as V };
    remaining -= page.keys.length;
    if (page.cursor === null) return;
    after = page.cursor;
  }
}

/** Forwards every call to `remote` unless the shelf is closed; `extras` take precedence. */
function guard<T extends object>(remote: T, isClosed: () => boolean, name: string, extras: object): T {
  return new Proxy(extras as T, {
    get(target, prop) {
      if (prop in target) return (target as Record<PropertyKey, unknown>)[prop];
      if (prop === 'then') return undefined;
      return (...args: unknown[]) => {
        if (isClosed()) return Promise.reject(new ShelfError('CLOSED', `shelf "${name}" is closed`));
        return (remote as Record<PropertyKey, (...a: unknown[]) => unknown>)[prop as string]!(...args);
      };
    },
  });
}

function createWorker(name: string): Worker {
  return new Worker(new URL('../../workers/storage.worker.ts', import.meta.url), { type: 'module', name: `codeshelf:${name}` });
}

/** Rejects when the worker fails to load, so `openShelf` never hangs on a broken worker. */
function workerFailure(worker: Worker): Promise<never> {
  return new Promise((_, reject) => {
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      reject(new ShelfError('INTERNAL', `storage worker failed to start: ${event.message || 'unknown error'}`));
    }, { once: true });
  });
}

/**
 * Starts the storage worker for `name` and returns a typed handle on it.
 *
 * @example
 * ```ts
 * import { openShelf } from 'codeshelf';
 * const shelf = await openShelf({ name: 'my-project' });
 * await shelf.kv.set('settings:theme', { dark: true });
 * console.log(await shelf.kv.get('settings:theme'));
 * await shelf.close();
 * ```
 */
export async function openShelf(options: OpenShelfOptions): Promise<Shelf> {
  const { worker: given, searchWorker, ...shelfOptions } = options ?? ({} as OpenShelfOptions);
  const name = shelfOptions.name;
  if (typeof name !== 'string' || !name) {
    throw new ShelfError('INVALID_ARGUMENT', `options.name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  const worker = given ?? createWorker(name);
  const remote = wrap<Api>(worker);
  let info;
  try {
    info = await Promise.race([remote.open(shelfOptions), workerFailure(worker)]);
  } catch (error) {
    remote[releaseProxy]();
    worker.terminate();
    throw error;
  }
  // Comlink types nested properties as promises; at run time they are proxies too.
  const remoteKv = remote.kv as unknown as Remote<Api['kv']>;
  const remoteBytes = remote.kvBytes as unknown as Remote<Api['kvBytes']>;
  const remoteLogs = remote.logs as unknown as Remote<Api['logs']>;
  const remoteCollections = remote.collections as unknown as Remote<Api['collections']>;
  const remoteSnapshots = remote.snapshots as unknown as Remote<Api['snapshots']>;
  let closed = false;
  const isClosed = () => closed;
  const inTransaction = <F extends (tx: never) => Promise<unknown>>(run: (fn: F, o?: TransactionOptions) => Promise<unknown>) =>
    async (fn: F, txOptions?: TransactionOptions) => {
      if (closed) throw new ShelfError('CLOSED', `shelf "${name}" is closed`);
      if (typeof fn !== 'function') throw new ShelfError('INVALID_ARGUMENT', `fn must be a function, got ${typeof fn}`);
      return run(proxy(fn) as F, txOptions);
    };

  const kv = guard(remoteKv, isClosed, name, {
    transaction: inTransaction((fn, o) => remoteKv.transaction(fn as never, o)),
    iterate: (o: ScanOptions & { pageSize?: number } = {}) => pages(kv as unknown as Pager, o),
  }) as unknown as ShelfKv;
  const kvBytes = guard(remoteBytes, isClosed, name, {
    transaction: inTransaction((fn, o) => remoteBytes.transaction(fn as never, o)),
    iterate: (o: ScanOptions & { pageSize?: number } = {}) => pages(kvBytes as unknown as Pager, o),
  }) as unknown as ShelfKvBytes;
  const logs = guard(remoteLogs, isClosed, name, {});
  // Readers of collection streams, failed with CLOSED when the shelf closes under them.
  const readers = new Set<BatchReader>();
  const collections = guard(remoteCollections, isClosed, name, {
    // Batches arrive as column-packed bytes over a port with credits (service/batch-port.ts)
    // and are rebuilt here: a few native string decodes per batch instead of a structured
    // clone of every object, then re-sliced to the requested batch size.
    async *iterate(collection: string, o: { batchSize?: number; filter?: Filter } = {}) {
      const batchSize = o.batchSize ?? 1000;
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new ShelfError('INVALID_ARGUMENT', 'options.batchSize must be a positive integer');
      if (closed) throw new ShelfError('CLOSED', `shelf "${name}" is closed`);
      const { port1, port2 } = new MessageChannel();
      const reader = new BatchReader(port1);
      readers.add(reader);
      const label = `collection ${JSON.stringify(collection)} stream`;
      let buffer: Doc[] = [];
      let at = 0;
      try {
        await remoteCollections.pushPacked(transfer(port2, [port2]), collection, o);
        for (let bytes = await reader.next(); bytes; bytes = await reader.next()) {
          const docs = decodeDocBatch(bytes, label);
          buffer = at < buffer.length ? buffer.slice(at).concat(docs) : docs;
          at = 0;
          if (buffer.length === batchSize) {
            yield buffer;
            buffer = [];
            continue;
          }
          for (; buffer.length - at >= batchSize; at += batchSize) yield buffer.slice(at, at + batchSize);
        }
        if (at < buffer.length) yield at ? buffer.slice(at) : buffer;
      } finally {
        // A consumer that stops early (or an error) stops the worker's side too.
        reader.cancel();
        readers.delete(reader);
      }
    },
  }) as unknown as ShelfCollections;

  const snapshots = guard(remoteSnapshots, isClosed, name, {
    chunks: guard(remoteSnapshots.chunks as unknown as object, isClosed, name, {}),
    // The analyze callback runs on the page: hand it over as a proxy.
    createIncrementalSnapshot: (...args: Parameters<ShelfSnapshots['createIncrementalSnapshot']>) => {
      if (closed) return Promise.reject(new ShelfError('CLOSED', `shelf "${name}" is closed`));
      const [repo, base, next, paths, analyze, o] = args;
      return remoteSnapshots.createIncrementalSnapshot(repo, base, next, paths, typeof analyze === 'function' ? proxy(analyze) : analyze, o);
    },
  }) as unknown as ShelfSnapshots;

  const search = createSearchClient({ name, memory: shelfOptions.memory ?? false, search: shelfOptions.search ?? {}, isClosed, ...(searchWorker ? { createWorker: searchWorker } : {}) });

  const flush = () => (closed ? Promise.resolve() : remote.flush());
  // The page may be discarded after these events: save what is pending (best effort).
  const onHide = () => {
    if (typeof document === 'undefined' || document.visibilityState === 'hidden') void flush().catch(() => undefined);
  };
  if (typeof addEventListener === 'function') {
    addEventListener('pagehide', onHide);
    addEventListener('visibilitychange', onHide);
  }

  return {
    name: info.name,
    persistent: info.persistent,
    kv,
    kvBytes,
    logs,
    collections,
    snapshots,
    search,
    flush,
    async close() {
      if (closed) return;
      closed = true;
      for (const reader of readers) reader.abort(new ShelfError('CLOSED', `shelf "${name}" is closed`));
      if (typeof removeEventListener === 'function') {
        removeEventListener('pagehide', onHide);
        removeEventListener('visibilitychange', onHide);
      }
      try {
        await Promise.all([remote.close(), search.close()]);
      } finally {
        remote[releaseProxy]();
        worker.terminate();
      }
    },
  };
}
