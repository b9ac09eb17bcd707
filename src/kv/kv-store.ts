import { ShelfError, toShelfError } from '../errors/index.ts';
import { ConflictTracker } from './conflict-tracker.ts';
import { resolveRange } from './range.ts';
import { StatsRecorder } from './stats.ts';
import { BufferedTransaction } from './transaction.ts';
import type {
  BatchOp, KeyRange, KvBackend, KvEntry, KvStats, KvStore, KvTransaction, ResolvedRange,
  ScanOptions, ScanPage, TransactionOptions,
} from './types.ts';
import { checkBatch, checkKey, checkKeys, checkScanOptions, checkValue, DEFAULT_LIMITS, type KvLimits } from './validate.ts';

/** Options shared by every adapter. */
export interface KvStoreOptions {
  /** Size limits enforced at the API edge. */
  readonly limits?: Partial<KvLimits>;
}

const DEFAULT_PAGE = 1000;

function byteSum(values: readonly (Uint8Array | undefined)[] | null): number {
  if (!values) return 0;
  let n = 0;
  for (const v of values) if (v) n += v.byteLength;
  return n;
}

/**
 * Puts validation, stats, optimistic transactions and paging on top of a raw
 * {@link KvBackend}, so every adapter behaves the same.
 * @internal
 */
export class BackedKvStore implements KvStore {
  readonly #backend: KvBackend;
  readonly #stats = new StatsRecorder();
  readonly #tracker = new ConflictTracker();
  readonly #name: string;
  readonly limits: KvLimits;
  #closed = false;
  /** Writes issued and not yet settled. */
  readonly #inFlight = new Set<Promise<void>>();

  constructor(backend: KvBackend, name: string, options: KvStoreOptions = {}) {
    this.#backend = backend;
    this.#name = name;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  #assertOpen(): void {
    if (this.#closed) throw new ShelfError('CLOSED', `kv store "${this.#name}" is closed`);
  }

  async #run<T>(kind: Parameters<StatsRecorder['measure']>[0], run: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    try {
      return await this.#stats.measure(kind, run);
    } catch (error) {
      throw toShelfError(error, `kv ${kind} on "${this.#name}"`);
    }
  }

  #wrap<T>(promise: Promise<T>, what: string): Promise<T> {
    return promise.catch((error: unknown) => {
      throw toShelfError(error, `kv ${what} on "${this.#name}"`);
    });
  }

  /**
   * Issues a write and records it for conflict detection in the same synchronous turn.
   * Never throws: a backend that fails at once (IndexedDB refuses a transaction on a closed
   * connection) rejects like one that fails later. Counted once it succeeded; `close()`
   * waits for it.
   */
  #write(ops: readonly BatchOp[]): Promise<void> {
    this.#tracker.record(ops.map((op) => op.key));
    let done: Promise<void>;
    try {
      done = this.#backend.write(ops);
    } catch (error) {
      return Promise.reject(error);
    }
    const counted = done.then(() => {
      for (const op of ops) if (op.type === 'put') this.#stats.bytesWritten += op.value.byteLength;
      this.#stats.keysWritten += ops.length;
    });
    this.#inFlight.add(counted);
    const settle = () => this.#inFlight.delete(counted);
    counted.then(settle, settle);
    return counted;
  }

  async #readMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const values = await this.#backend.getMany(keys);
    this.#stats.bytesRead += byteSum(values);
    return values;
  }

  async #scanRange(range: ResolvedRange, limit: number, reverse: boolean, keysOnly: boolean) {
    if (range.empty || limit === 0) return { keys: [], values: keysOnly ? null : [] };
    const page = await this.#backend.scan(range, limit, reverse, keysOnly);
    this.#stats.bytesRead += byteSum(page.values);
    return page;
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#run('get', async () => {
      checkKey(key, this.limits);
      return (await this.#readMany([key]))[0];
    });
  }

  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return this.#run('getMany', async () => {
      checkKeys(keys, this.limits);
      return keys.length ? this.#readMany(keys) : [];
    });
  }

  has(key: string): Promise<boolean> {
    return this.#run('has', async () => {
      checkKey(key, this.limits);
      const [value] = await this.#backend.getMany([key]);
      return value !== undefined;
    });
  }

  set(key: string, value: Uint8Array): Promise<void> {
    return this.#run('set', () => {
      checkKey(key, this.limits);
      checkValue(value, this.limits);
      return this.#write([{ type: 'put', key, value }]);
    });
  }

  delete(key: string): Promise<void> {
    return this.#run('delete', () => {
      checkKey(key, this.limits);
      return this.#write([{ type: 'delete', key }]);
    });
  }

  batch(ops: readonly BatchOp[]): Promise<void> {
    return this.#run('batch', async () => {
      checkBatch(ops, this.limits);
      if (ops.length) await this.#write(ops);
    });
  }

  count(range: KeyRange = {}): Promise<number> {
    return this.#run('count', async () => {
      checkScanOptions(range);
      const resolved = resolveRange(range);
      return resolved.empty ? 0 : this.#backend.count(resolved);
    });
  }

  clear(): Promise<void> {
    return this.#run('clear', () => {
      this.#tracker.record('all');
      return this.#backend.clear();
    });
  }

  scan(options: ScanOptions = {}): Promise<ScanPage> {
    return this.#run('scan', async () => {
      checkScanOptions(options);
      const range = resolveRange(options);
      const limit = options.limit ?? Infinity;
      const keysOnly = options.keysOnly ?? false;
      // One extra row tells whether another page exists, so `cursor` is exact.
      const page = await this.#scanRange(range, limit === Infinity ? Infinity : limit + 1, options.reverse ?? false, keysOnly);
      const more = page.keys.length > limit;
      if (more) {
        page.keys.length = limit;
        if (page.values) page.values.length = limit;
      }
      return { keys: page.keys, values: page.values, cursor: more ? page.keys[limit - 1]! : null };
    });
  }

  async *iterate(options: ScanOptions & { pageSize?: number } = {}): AsyncIterableIterator<KvEntry> {
    const { pageSize = DEFAULT_PAGE, limit = Infinity, ...rest } = options;
    if (!Number.isInteger(pageSize) || pageSize < 1) {
      throw new ShelfError('INVALID_ARGUMENT', `options.pageSize must be a positive integer, got ${String(pageSize)}`);
    }
    let remaining = limit;
    let after = rest.after;
    while (remaining > 0) {
      const page = await this.scan({ ...rest, keysOnly: false, limit: Math.min(pageSize, remaining), ...(after === undefined ? {} : { after }) });
      for (let i = 0; i < page.keys.length; i++) yield { key: page.keys[i]!, value: page.values![i]! };
      remaining -= page.keys.length;
      if (page.cursor === null) return;
      after = page.cursor;
    }
  }

  async transaction<T>(fn: (tx: KvTransaction) => T | Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const retries = options.retries ?? 0;
    if (typeof fn !== 'function') throw new ShelfError('INVALID_ARGUMENT', `fn must be a function, got ${typeof fn}`);
    if (!Number.isInteger(retries) || retries < 0) {
      throw new ShelfError('INVALID_ARGUMENT', `options.retries must be a non-negative integer, got ${String(retries)}`);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        this.#assertOpen();
        // Not #run: an error thrown by `fn` itself must reach the caller unchanged.
        return await this.#stats.measure('transaction', () => this.#attempt(fn));
      } catch (error) {
        if (attempt >= retries || !(error instanceof ShelfError) || error.code !== 'TXN_CONFLICT') throw error;
      }
    }
  }

  async #attempt<T>(fn: (tx: KvTransaction) => T | Promise<T>): Promise<T> {
    const { id, startSeq } = this.#tracker.begin();
    const tx = new BufferedTransaction({
      limits: this.limits,
      // Closed mid-transaction: CLOSED, not what an emptied backend would answer.
      readMany: async (keys) => {
        this.#assertOpen();
        return this.#wrap(this.#readMany(keys), 'transaction read');
      },
      scanRange: async (range, limit, reverse, keysOnly) => {
        this.#assertOpen();
        return this.#wrap(this.#scanRange(range, limit, reverse, keysOnly), 'transaction scan');
      },
    });
    try {
      const result = await fn(tx);
      const ops = tx.finish();
      this.#assertOpen();
      // Validate and write in one synchronous turn: no other write can slip in between.
      const conflict = this.#tracker.findConflict(startSeq, tx.readKeys, tx.ranges);
      if (conflict !== null) {
        this.#stats.conflicts++;
        throw new ShelfError('TXN_CONFLICT', `transaction on "${this.#name}" conflicts with a concurrent write to ${conflict === '*' ? 'the store (clear)' : JSON.stringify(conflict)}`);
      }
      if (ops.length) await this.#wrap(this.#write(ops), 'transaction commit');
      return result;
    } finally {
      tx.finish();
      this.#tracker.end(id);
    }
  }

  async stats(): Promise<KvStats> {
    this.#assertOpen();
    const keyCount = await this.#backend.count(resolveRange({}));
    return {
      ops: this.#stats.snapshot(),
      bytesRead: this.#stats.bytesRead,
      bytesWritten: this.#stats.bytesWritten,
      keysWritten: this.#stats.keysWritten,
      conflicts: this.#stats.conflicts,
      keyCount,
    };
  }

  /** Refuses new calls at once, waits for writes already issued to settle, then closes the backend. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    this.#backend.close();
  }
}
