import { proxy, transfer } from 'comlink';
import { ShelfError } from '../errors/index.ts';
import type {
  BatchOp, KeyRange, KvStats, KvStore, ScanOptions, ScanPage, TransactionOptions,
  TypedBatchOp, TypedKvStore, TypedScanPage, TypedTransaction, KvTransaction,
} from '../kv/index.ts';
import type { Staging } from './staging.ts';

/** Gives the buffers of `values` to the receiver instead of copying them. */
function transferValues<T>(result: T, values: readonly (Uint8Array | undefined)[] | null): T {
  // Comlink keys transfer lists by object in a WeakMap: primitives cannot carry one.
  if (!values || result === null || typeof result !== 'object') return result;
  const buffers = new Set<ArrayBuffer>();
  for (const v of values) if (v && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) buffers.add(v.buffer as ArrayBuffer);
  return buffers.size ? transfer(result, [...buffers]) : result;
}

/**
 * `work` (a transaction callback running on the page), or `CLOSED` as soon as `closing`
 * aborts: the shelf closing must not wait for a callback that may never return, nor let it
 * commit afterwards. The transaction then ends with nothing written; a later call of the
 * callback on its `tx` fails with `CLOSED` (the transaction has finished).
 */
function untilClosing<T>(work: Promise<T>, closing: AbortSignal): Promise<T> {
  const closed = () => new ShelfError('CLOSED', 'the shelf closed while this transaction was running; nothing was committed');
  if (closing.aborted) {
    work.catch(() => undefined);
    return Promise.reject(closed());
  }
  return new Promise<T>((resolve, reject) => {
    const onClose = () => reject(closed());
    closing.addEventListener('abort', onClose, { once: true });
    work.then(resolve, reject).finally(() => closing.removeEventListener('abort', onClose));
  });
}

/**
 * The byte KV store as the storage worker exposes it: results move as transferables and a
 * transaction hands the page a proxy of its transaction.
 * @internal
 */
export class WireBytesKv {
  readonly #kv: () => KvStore;
  readonly #closing: () => AbortSignal;
  readonly #staging: Staging;
  constructor(kv: () => KvStore, closing: () => AbortSignal, staging: Staging) {
    this.#kv = kv;
    this.#closing = closing;
    this.#staging = staging;
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    const v = await this.#kv().get(key);
    return transferValues(v, [v]);
  }
  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const values = await this.#kv().getMany(keys);
    return transferValues(values, values);
  }
  set(key: string, value: Uint8Array): Promise<void> {
    return this.#kv().set(key, value);
  }
  delete(key: string): Promise<void> {
    return this.#kv().delete(key);
  }
  has(key: string): Promise<boolean> {
    return this.#kv().has(key);
  }
  count(range?: KeyRange): Promise<number> {
    return this.#kv().count(range);
  }
  clear(): Promise<void> {
    return this.#kv().clear();
  }
  batch(ops: readonly BatchOp[]): Promise<void> {
    return this.#kv().batch(ops);
  }
  /** `batch` of the operations staged under `token`. @internal */
  batchStaged(token: number): Promise<void> {
    const ops = this.#staging.take(token);
    return this.#kv().batch(ops as BatchOp[]);
  }
  async scan(options?: ScanOptions): Promise<ScanPage> {
    const page = await this.#kv().scan(options);
    return transferValues(page, page.values);
  }
  transaction<T>(fn: (tx: KvTransaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const kv = this.#kv();
    const closing = this.#closing();
    return kv.transaction((tx) => untilClosing(Promise.resolve(fn(proxy(tx))), closing), options);
  }
  stats(): Promise<KvStats> {
    return this.#kv().stats();
  }
}

/**
 * The msgpackr-typed KV store as the storage worker exposes it: the page sends and receives
 * plain values; encoding and decoding happen in the worker.
 * @internal
 */
export class WireTypedKv<T = unknown> {
  readonly #kv: () => TypedKvStore<T>;
  readonly #closing: () => AbortSignal;
  readonly #staging: Staging;
  constructor(kv: () => TypedKvStore<T>, closing: () => AbortSignal, staging: Staging) {
    this.#kv = kv;
    this.#closing = closing;
    this.#staging = staging;
  }
  get(key: string): Promise<T | undefined> {
    return this.#kv().get(key);
  }
  getMany(keys: readonly string[]): Promise<(T | undefined)[]> {
    return this.#kv().getMany(keys);
  }
  set(key: string, value: T): Promise<void> {
    return this.#kv().set(key, value);
  }
  delete(key: string): Promise<void> {
    return this.#kv().delete(key);
  }
  has(key: string): Promise<boolean> {
    return this.#kv().has(key);
  }
  count(range?: KeyRange): Promise<number> {
    return this.#kv().count(range);
  }
  clear(): Promise<void> {
    return this.#kv().clear();
  }
  batch(ops: readonly TypedBatchOp<T>[]): Promise<void> {
    return this.#kv().batch(ops);
  }
  /** `batch` of the operations staged under `token`. @internal */
  batchStaged(token: number): Promise<void> {
    const ops = this.#staging.take(token);
    return this.#kv().batch(ops as TypedBatchOp<T>[]);
  }
  scan(options?: ScanOptions): Promise<TypedScanPage<T>> {
    return this.#kv().scan(options);
  }
  transaction<R>(fn: (tx: TypedTransaction<T>) => Promise<R>, options?: TransactionOptions): Promise<R> {
    const kv = this.#kv();
    const closing = this.#closing();
    return kv.transaction((tx) => untilClosing(Promise.resolve(fn(proxy(tx))), closing), options);
  }
  stats(): Promise<KvStats> {
    return this.#kv().stats();
  }
}
