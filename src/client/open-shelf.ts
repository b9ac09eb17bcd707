import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import { installErrorTransfer, ShelfError } from '../errors/index.ts';
import type { Doc, Filter, FindOptions } from '../collections/index.ts';
import type { KvTransaction, ScanOptions, TransactionOptions, TypedTransaction } from '../kv/index.ts';
import type { ShelfOptions, StorageService } from '../service/index.ts';
import { checkShelfOptions } from '../service/shelf-options.ts';
import { createCollectionReads, type CollectionReadOptions } from './collection-reads.ts';
import { mapPageError, toPageError } from './page-errors.ts';
import { SLICE_FROM, sendSliced, type SliceStaging } from './sliced-send.ts';
import { createSearchClient, type ShelfSearch } from './search-client.ts';
import { failWith, workerFailure } from './worker-calls.ts';

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

/** What the client itself calls in the worker for large writes and reads (sliced-send.ts, collection-reads.ts): not for the page's callers. */
type Internal = 'insertManyStaged' | 'batchStaged' | 'findToPage';

/** The page-side view of the typed KV store (values encoded by msgpackr in the worker). */
export type ShelfKv<T = unknown> = Omit<Remote<Api['kv']>, 'transaction' | 'get' | 'getMany' | 'set' | 'batch' | 'scan' | Internal> & {
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
export type ShelfKvBytes = Omit<Remote<Api['kvBytes']>, 'transaction' | Internal> & {
  transaction<R>(fn: (tx: Remote<KvTransaction>) => Promise<R>, options?: TransactionOptions): Promise<R>;
  iterate(options?: ScanOptions & { pageSize?: number }): AsyncIterableIterator<{ key: string; value: Uint8Array }>;
};

/** The page-side view of document collections. */
export type ShelfCollections = Omit<Remote<Api['collections']>, 'pushPacked' | 'stopStreams' | Internal> & {
  /** Reads a collection batch by batch: the worker sends packed batches ahead of the reader (no round trip per batch). */
  iterate(name: string, options?: CollectionReadOptions): AsyncIterableIterator<Doc[]>;
  /**
   * The same batches as a `ReadableStream`. Bad options and an unknown collection reject
   * here; later errors (a damaged block) error the stream with a ShelfError; closing the
   * shelf errors it with `CLOSED`.
   */
  stream(name: string, options?: CollectionReadOptions): Promise<ReadableStream<Doc[]>>;
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
  /**
   * Flushes, closes the stores and stops the workers; every other call fails with `CLOSED`
   * from now on, and transactions and streams still open end with `CLOSED`. If the final
   * save fails, this rejects with its error and the storage worker keeps what it could not
   * save: calling `close()` again retries.
   */
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

/**
 * Forwards every call to `remote` unless the shelf is closed; `extras` take precedence.
 * Every answer goes through `track` (so closing the shelf fails calls the worker will never
 * answer) and every error reaches the page as a ShelfError (an argument that cannot be
 * sent to the worker: `INVALID_ARGUMENT` naming it).
 */
function guard<T extends object>(
  remote: T, where: string,
  shelf: { isClosed: () => boolean; name: string; track: <R>(p: Promise<R>) => Promise<R>; inOrder: <R>(post: () => Promise<R>) => Promise<R> },
  extras: object,
): T {
  return new Proxy(extras as T, {
    get(target, prop) {
      if (prop in target) return (target as Record<PropertyKey, unknown>)[prop];
      if (prop === 'then' || typeof prop === 'symbol') return undefined;
      return (...args: unknown[]) => {
        if (shelf.isClosed()) return Promise.reject(new ShelfError('CLOSED', `shelf "${shelf.name}" is closed`));
        const call = shelf.inOrder(() => (remote as Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>)[prop]!(...args));
        return shelf.track(mapPageError(call, `${where}.${prop}`, args));
      };
    },
  });
}

function createWorker(name: string): Worker {
  return new Worker(new URL('../../workers/storage.worker.ts', import.meta.url), { type: 'module', name: `codeshelf:${name}` });
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
  try {
    // Before anything starts: a bad option (one the search worker or the snapshot store
    // would only read later) fails here, not on first use or at close.
    checkShelfOptions(options === undefined ? (undefined as never) : shelfOptions);
    if (searchWorker !== undefined && typeof searchWorker !== 'function') {
      throw new ShelfError('INVALID_ARGUMENT', `options.searchWorker must be a function that creates a Worker, got ${typeof searchWorker}`);
    }
  } catch (error) {
    given?.terminate();
    throw error;
  }
  const name = shelfOptions.name;
  const worker = given ?? createWorker(name);
  const remote = wrap<Api>(worker);
  let info;
  try {
    info = await Promise.race([mapPageError(remote.open(shelfOptions), 'openShelf', [shelfOptions], ['options']), workerFailure(worker, 'storage')]);
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
  const closedError = () => new ShelfError('CLOSED', `shelf "${name}" is closed`);

  // Calls the storage worker has not answered yet: failed with CLOSED once it is
  // terminated, since no answer will ever come (a transaction whose callback was still
  // running, a call racing close).
  const unanswered = new Set<(error: ShelfError) => void>();
  const track = <T>(call: Promise<T>): Promise<T> => failWith(unanswered, call);
  // Calls reach the storage worker in the order the page makes them, as one message each
  // would: while a write goes in slices (sliced-send.ts), later calls wait until its last
  // message (the write itself) is posted. Undefined when no write is being sent.
  let sending: Promise<void> | undefined;
  const inOrder = <T>(post: () => Promise<T>): Promise<T> => (sending ? sending.then(post) : post());
  const shelf = { isClosed, name, track, inOrder };

  const inTransaction = <F extends (tx: never) => Promise<unknown>>(where: string, run: (fn: F, o?: TransactionOptions) => Promise<unknown>) =>
    async (fn: F, txOptions?: TransactionOptions) => {
      if (closed) throw closedError();
      if (typeof fn !== 'function') throw new ShelfError('INVALID_ARGUMENT', `fn must be a function, got ${typeof fn}`);
      const callback = async (tx: object) => {
        // The transaction seen by the callback: refused with CLOSED once the shelf closes.
        const result = await (fn as unknown as (tx: object) => Promise<unknown>)(guard(tx, 'tx', shelf, {}));
        // Finished after close() began: the worker may have stopped waiting for it; either
        // way it must not commit now.
        if (closed) throw closedError();
        return result;
      };
      // Errors thrown by `fn` itself come back as they were; only a failed send is mapped.
      return track(mapPageError(inOrder(() => run(proxy(callback) as unknown as F, txOptions)), `${where}.transaction`, [txOptions], ['options'], true));
    };

  // A large array argument goes to the worker in slices (sliced-send.ts); smaller ones as
  // any call does.
  const staging: SliceStaging = { stage: (token, slice) => remote.stage(token, slice), unstage: (token) => remote.unstage(token) };
  const sliced = <R>(where: string, args: unknown[], names: string[], items: unknown, commit: (token: number) => Promise<R>, whole: () => Promise<R>): Promise<R> => {
    if (closed) return Promise.reject(closedError());
    if (!Array.isArray(items) || items.length <= SLICE_FROM) return track(mapPageError(inOrder(whole), where, args, names));
    let all: unknown[];
    try {
      all = items.slice(); // the array as it is now: later changes to it do not count
    } catch (error) {
      return Promise.reject(toPageError(error, where, args, names)); // an item's getter threw
    }
    // Later calls wait until this write is posted; it waits for a write sent before it.
    const before = sending;
    let release!: () => void;
    const posted = new Promise<void>((resolve) => (release = resolve));
    const chain = before ? before.then(() => posted) : posted;
    sending = chain;
    void chain.then(() => {
      if (sending === chain) sending = undefined;
    });
    const run = async () => {
      if (before) await before;
      return sendSliced(all, staging, (token) => mapPageError(commit(token), where, args, names), where, args, names, () => terminated, release);
    };
    return track(run());
  };
  const slicedBatch = (where: string, remoteStore: { batchStaged(token: number): Promise<void>; batch(ops: never): Promise<void> }) =>
    (ops: readonly unknown[]) => sliced(where, [ops], ['ops'], ops, (token) => remoteStore.batchStaged(token), () => remoteStore.batch(ops as never));

  const kv = guard(remoteKv, 'kv', shelf, {
    batch: slicedBatch('kv.batch', remoteKv as never),
    transaction: inTransaction('kv', (fn, o) => remoteKv.transaction(fn as never, o)),
    iterate: (o: ScanOptions & { pageSize?: number } = {}) => pages(kv as unknown as Pager, o),
  }) as unknown as ShelfKv;
  const kvBytes = guard(remoteBytes, 'kvBytes', shelf, {
    batch: slicedBatch('kvBytes.batch', remoteBytes as never),
    transaction: inTransaction('kvBytes', (fn, o) => remoteBytes.transaction(fn as never, o)),
    iterate: (o: ScanOptions & { pageSize?: number } = {}) => pages(kvBytes as unknown as Pager, o),
  }) as unknown as ShelfKvBytes;
  const logs = guard(remoteLogs, 'logs', shelf, {});
  const reads = createCollectionReads({ remote: remoteCollections, name, isClosed, track, inOrder });
  const collections = guard(remoteCollections, 'collections', shelf, {
    insertMany: (collection: string, docs: readonly unknown[]) =>
      sliced('collections.insertMany', [collection, docs], ['name', 'docs'], docs,
        (token) => remoteCollections.insertManyStaged(collection, token), () => remoteCollections.insertMany(collection, docs as never)),
    find: (collection: string, filter?: Filter, o?: FindOptions) => reads.find(collection, filter, o),
    findAll: (collection: string) => reads.find(collection, undefined, undefined, true),
    iterate: reads.iterate,
    stream: reads.stream,
  }) as unknown as ShelfCollections;

  const snapshots = guard(remoteSnapshots, 'snapshots', shelf, {
    chunks: guard(remoteSnapshots.chunks as unknown as object, 'snapshots.chunks', shelf, {}),
    // The analyze callback runs on the page: hand it over as a proxy.
    createIncrementalSnapshot: (...args: Parameters<ShelfSnapshots['createIncrementalSnapshot']>) => {
      if (closed) return Promise.reject(closedError());
      const [repo, base, next, paths, analyze, o] = args;
      const call = inOrder(() => remoteSnapshots.createIncrementalSnapshot(repo, base, next, paths, typeof analyze === 'function' ? proxy(analyze) : analyze, o));
      return track(mapPageError(call, 'snapshots.createIncrementalSnapshot', [repo, base, next, paths, undefined, o], ['repo', 'base', 'next', 'paths', 'analyze', 'options'], true));
    },
  }) as unknown as ShelfSnapshots;

  const search = createSearchClient({ name, memory: shelfOptions.memory ?? false, search: shelfOptions.search ?? {}, isClosed, ...(searchWorker ? { createWorker: searchWorker } : {}) });

  const flush = () => (closed ? Promise.resolve() : track(mapPageError(inOrder(() => remote.flush()), 'flush')));
  // The page may be discarded after these events: save what is pending (best effort).
  const onHide = () => {
    if (typeof document === 'undefined' || document.visibilityState === 'hidden') void flush().catch(() => undefined);
  };
  if (typeof addEventListener === 'function') {
    addEventListener('pagehide', onHide);
    addEventListener('visibilitychange', onHide);
  }

  let closing: Promise<void> | undefined;
  let terminated = false;
  const finishClose = async () => {
    if (!closed) {
      closed = true;
      reads.end(closedError());
      if (typeof removeEventListener === 'function') {
        removeEventListener('pagehide', onHide);
        removeEventListener('visibilitychange', onHide);
      }
    }
    // Both closes run to their end before either worker is terminated: a failed search
    // close must not cut the storage worker's final flush short.
    // After every write the page made before closing, one sent in slices included.
    const [stored, searched] = await Promise.allSettled([mapPageError(inOrder(() => remote.close()), 'close'), search.close()]);
    search.dispose();
    if (stored.status === 'fulfilled') {
      terminated = true;
      remote[releaseProxy]();
      worker.terminate();
      for (const fail of [...unanswered]) fail(closedError());
      unanswered.clear();
    }
    // Otherwise the storage worker stays up with what it could not save: close() retries.
    if (stored.status === 'rejected') throw stored.reason;
    if (searched.status === 'rejected') throw searched.reason;
  };

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
    close() {
      if (terminated) return Promise.resolve();
      closing ??= finishClose().finally(() => {
        closing = undefined;
      });
      return closing;
    },
  };
}
