import { openDB, unwrap } from 'idb';
import { ShelfError, toShelfError } from '../errors/index.ts';
import { BackedKvStore, type KvStoreOptions } from './kv-store.ts';
import type { BatchOp, KvBackend, KvStore, ResolvedRange } from './types.ts';

const STORE = 'kv';
const SCHEMA_VERSION = 1;

/** Options of {@link openIndexedDbKv}. */
export interface IndexedDbKvOptions extends KvStoreOptions {
  /** Database name; the IndexedDB database is called `codeshelf:{name}:kv`. */
  readonly name: string;
  /**
   * What the database holds, its name's last part (default `kv`): a shelf keeps stores of
   * its own, apart from the caller's key-value data, under other parts (`collections`).
   * @internal
   */
  readonly part?: string;
  /**
   * Write durability. `'relaxed'` (the default in Chromium for `'default'`) survives a tab
   * or browser crash; `'strict'` also waits for the OS to flush, at a large cost per commit.
   */
  readonly durability?: IDBTransactionDurability;
}

type RecordsStore = IDBObjectStore & {
  getAllRecords?: (options: { query?: IDBKeyRange | null; count?: number; direction?: IDBCursorDirection }) => IDBRequest<{ key: IDBValidKey; value: unknown }[]>;
};

function toKeyRange(range: ResolvedRange): IDBKeyRange | null {
  const { lower, upper, lowerOpen } = range;
  if (lower !== undefined && upper !== undefined) return IDBKeyRange.bound(lower, upper, lowerOpen, true);
  if (lower !== undefined) return IDBKeyRange.lowerBound(lower, lowerOpen);
  if (upper !== undefined) return IDBKeyRange.upperBound(upper, true);
  return null;
}

function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
  });
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** IndexedDB stores the whole underlying buffer of a view, so store a tight copy. */
function tight(value: Uint8Array): Uint8Array {
  return value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice();
}

const idbCount = (limit: number) => (limit === Infinity ? undefined : limit);

/**
 * The IndexedDB adapter: one object store of string keys and byte values. Hot paths use
 * raw IDB requests (one request per key, one transaction per call) rather than a promise
 * per request; `idb` handles opening, upgrades and blocking.
 * @internal
 */
export class IndexedDbBackend implements KvBackend {
  readonly #db: IDBDatabase;
  readonly #durability: IDBTransactionDurability;
  #readQueue: { keys: readonly string[]; resolve: (v: (Uint8Array | undefined)[]) => void; reject: (e: unknown) => void }[] = [];
  #reading = false;

  constructor(db: IDBDatabase, durability: IDBTransactionDurability) {
    this.#db = db;
    this.#durability = durability;
  }

  #tx(mode: IDBTransactionMode): IDBTransaction {
    return this.#db.transaction(STORE, mode, mode === 'readwrite' ? { durability: this.#durability } : undefined);
  }

  /**
   * Reads are coalesced: while one read transaction is in flight, reads that arrive queue
   * up and then share the next transaction. A lone read starts at once (no added latency);
   * under load, many point reads cost one transaction instead of one each.
   */
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return new Promise((resolve, reject) => {
      this.#readQueue.push({ keys, resolve, reject });
      if (!this.#reading) this.#drainReads();
    });
  }

  #drainReads(): void {
    const batch = this.#readQueue;
    this.#readQueue = [];
    if (!batch.length) {
      this.#reading = false;
      return;
    }
    this.#reading = true;
    let tx: IDBTransaction;
    try {
      tx = this.#tx('readonly');
    } catch (error) {
      for (const read of batch) read.reject(error);
      this.#drainReads();
      return;
    }
    const store = tx.objectStore(STORE);
    const results = batch.map((read) => {
      const out: (Uint8Array | undefined)[] = new Array(read.keys.length);
      read.keys.forEach((key, i) => {
        store.get(key).onsuccess = function (this: IDBRequest) {
          out[i] = this.result as Uint8Array | undefined;
        };
      });
      return out;
    });
    tx.oncomplete = () => {
      batch.forEach((read, i) => read.resolve(results[i]!));
      this.#drainReads();
    };
    tx.onabort = () => {
      const error = tx.error ?? new DOMException('transaction aborted', 'AbortError');
      for (const read of batch) read.reject(error);
      this.#drainReads();
    };
  }

  write(ops: readonly BatchOp[]): Promise<void> {
    const tx = this.#tx('readwrite');
    const done = transactionDone(tx);
    const store = tx.objectStore(STORE);
    try {
      for (const op of ops) {
        if (op.type === 'put') store.put(tight(op.value), op.key);
        else store.delete(op.key);
      }
    } catch (error) {
      tx.abort();
      done.catch(() => undefined);
      return Promise.reject(error);
    }
    return done;
  }

  async scan(range: ResolvedRange, limit: number, reverse: boolean, keysOnly: boolean) {
    const tx = this.#tx('readonly');
    const store = tx.objectStore(STORE) as RecordsStore;
    const query = toKeyRange(range);
    const count = idbCount(limit);
    // A read-only result is final when its request succeeds: no need to wait for the
    // transaction's complete event (one task hop less per scan).
    if (keysOnly && !reverse) return { keys: (await request(store.getAllKeys(query, count))) as string[], values: null };
    if (!keysOnly && typeof store.getAllRecords === 'function') {
      // One request for keys and values together (IndexedDB 3.0), in either direction.
      const records = await request(store.getAllRecords({ query, count, direction: reverse ? 'prev' : 'next' }));
      return { keys: records.map((r) => r.key as string), values: records.map((r) => r.value as Uint8Array) };
    }
    if (!reverse) {
      const k = request(store.getAllKeys(query, count));
      const v = request(store.getAll(query, count));
      return { keys: (await k) as string[], values: (await v) as Uint8Array[] };
    }
    const keys: string[] = [];
    const values: Uint8Array[] | null = keysOnly ? null : [];
    await new Promise<void>((resolve, reject) => {
      const req = keysOnly ? store.openKeyCursor(query, 'prev') : store.openCursor(query, 'prev');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const cursor = req.result;
        if (!cursor || keys.length >= limit) return resolve();
        keys.push(cursor.key as string);
        if (values) values.push((cursor as IDBCursorWithValue).value as Uint8Array);
        cursor.continue();
      };
    });
    return { keys, values };
  }

  async count(range: ResolvedRange): Promise<number> {
    const tx = this.#tx('readonly');
    return request(tx.objectStore(STORE).count(toKeyRange(range) ?? undefined));
  }

  clear(): Promise<void> {
    const tx = this.#tx('readwrite');
    const done = transactionDone(tx);
    tx.objectStore(STORE).clear();
    return done;
  }

  close(): void {
    this.#db.close();
  }
}

/**
 * Opens (creating if needed) a {@link KvStore} persisted in IndexedDB. Call it inside the
 * storage worker; the page reaches it through `openShelf()`.
 *
 * @example
 * ```ts
 * const kv = await openIndexedDbKv({ name: 'my-project' });
 * await kv.batch([{ type: 'put', key: 'a', value: new Uint8Array([1]) }]);
 * ```
 */
export async function openIndexedDbKv(options: IndexedDbKvOptions): Promise<KvStore> {
  const { name, durability = 'default', part = 'kv' } = options ?? ({} as IndexedDbKvOptions);
  if (typeof name !== 'string' || name.length === 0) {
    throw new ShelfError('INVALID_ARGUMENT', `options.name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (typeof indexedDB === 'undefined') {
    throw new ShelfError('INVALID_ARGUMENT', 'IndexedDB is not available in this runtime; use createMemoryKv()');
  }
  let db: IDBDatabase;
  try {
    const wrapped = await openDB(`codeshelf:${name}:${part}`, SCHEMA_VERSION, {
      upgrade(database) {
        if (!database.objectStoreNames.contains(STORE)) database.createObjectStore(STORE);
      },
    });
    db = unwrap(wrapped);
  } catch (error) {
    throw toShelfError(error, `opening kv store "${name}"`);
  }
  // Another connection wants to upgrade or delete this database: step aside.
  db.onversionchange = () => db.close();
  return new BackedKvStore(new IndexedDbBackend(db, durability), name, options);
}
