/**
 * The key-value contract every codeshelf layer builds on. Keys are strings compared by
 * UTF-16 code unit (the order IndexedDB and JavaScript both use); values are bytes.
 * Build structured keys with {@link encodeKey} so that key order equals tuple order.
 */

/** One write in an atomic {@link KvStore.batch}. */
export type BatchOp =
  | { readonly type: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly key: string };

/** A key range: prefix and/or `[start, end)`; all given bounds apply together. */
export interface KeyRange {
  /** Only keys that start with this string. */
  readonly prefix?: string;
  /** Inclusive lower bound. */
  readonly start?: string;
  /** Exclusive upper bound. */
  readonly end?: string;
}

/** Options of an ordered scan. */
export interface ScanOptions extends KeyRange {
  /** Most entries to return in this page (default: all; {@link KvStore.iterate} pages by 1,000). */
  readonly limit?: number;
  /** Descending key order. */
  readonly reverse?: boolean;
  /** Return keys only; `values` is `null`. */
  readonly keysOnly?: boolean;
  /** Resume strictly after this key in scan order: pass the previous page's `cursor`. */
  readonly after?: string;
}

/** One page of a scan. `keys[i]` goes with `values[i]`. */
export interface ScanPage {
  readonly keys: string[];
  readonly values: Uint8Array[] | null;
  /** Pass as `after` to read the next page; `null` when the range is exhausted. */
  readonly cursor: string | null;
}

/** One key and its value. */
export interface KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
}

/** Per-operation counters in {@link KvStats}. */
export interface OpStats {
  count: number;
  errors: number;
  totalMs: number;
  meanMs: number;
}

/** The operation kinds that {@link KvStore.stats} counts. */
export type KvOpKind =
  | 'get'
  | 'getMany'
  | 'set'
  | 'delete'
  | 'has'
  | 'count'
  | 'clear'
  | 'batch'
  | 'scan'
  | 'transaction';

/** Store statistics since it was opened. */
export interface KvStats {
  readonly ops: Record<KvOpKind, OpStats>;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly keysWritten: number;
  readonly conflicts: number;
  readonly keyCount: number;
}

/** Reads and writes inside {@link KvStore.transaction}. */
export interface KvTransaction {
  get(key: string): Promise<Uint8Array | undefined>;
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  has(key: string): Promise<boolean>;
  scan(options?: ScanOptions): Promise<ScanPage>;
  set(key: string, value: Uint8Array): void;
  delete(key: string): void;
}

/** Options of {@link KvStore.transaction}. */
export interface TransactionOptions {
  /** How many times to re-run `fn` after a `TXN_CONFLICT` before giving up (default 0). */
  readonly retries?: number;
}

/**
 * An ordered key-value store with atomic batches, scans, optimistic transactions and stats.
 * Implemented by the IndexedDB and memory adapters; both pass one conformance suite.
 */
export interface KvStore {
  get(key: string): Promise<Uint8Array | undefined>;
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  has(key: string): Promise<boolean>;
  count(range?: KeyRange): Promise<number>;
  clear(): Promise<void>;
  /** Applies all ops atomically: a bad op means nothing is written. Later ops win on equal keys. */
  batch(ops: readonly BatchOp[]): Promise<void>;
  scan(options?: ScanOptions): Promise<ScanPage>;
  /** Iterates a range page by page so memory stays bounded by `pageSize`. */
  iterate(options?: ScanOptions & { pageSize?: number }): AsyncIterableIterator<KvEntry>;
  /**
   * Runs `fn` with a transaction whose reads see committed data and its own writes. Its
   * writes commit atomically when `fn` resolves; if another writer changed anything `fn`
   * read, the commit fails with `TXN_CONFLICT` and nothing is written.
   */
  transaction<T>(fn: (tx: KvTransaction) => T | Promise<T>, options?: TransactionOptions): Promise<T>;
  stats(): Promise<KvStats>;
  close(): Promise<void>;
}

/**
 * What an adapter implements; {@link createKvStore} adds validation, stats, transactions
 * and conflict tracking on top, so both adapters behave the same.
 * @internal
 */
export interface KvBackend {
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  /**
   * Applies ops atomically. Must start the underlying write synchronously, before its first
   * `await`, so that write order equals call order.
   */
  write(ops: readonly BatchOp[]): Promise<void>;
  scan(range: ResolvedRange, limit: number, reverse: boolean, keysOnly: boolean): Promise<{ keys: string[]; values: Uint8Array[] | null }>;
  count(range: ResolvedRange): Promise<number>;
  clear(): Promise<void>;
  close(): void;
}

/** A normalized range: `lower` inclusive unless `lowerOpen`, `upper` always exclusive. @internal */
export interface ResolvedRange {
  readonly lower?: string;
  readonly lowerOpen: boolean;
  readonly upper?: string;
  /** True when the range cannot contain any key. */
  readonly empty: boolean;
}
