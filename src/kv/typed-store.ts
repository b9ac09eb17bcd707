import { Packr } from 'msgpackr';
import { ShelfError } from '../errors/index.ts';
import type { KeyRange, KvStats, KvStore, KvTransaction, ScanOptions, TransactionOptions } from './types.ts';

/** One write of {@link TypedKvStore.batch}. */
export type TypedBatchOp<T> =
  | { readonly type: 'put'; readonly key: string; readonly value: T }
  | { readonly type: 'delete'; readonly key: string };

/** A page of a typed scan. */
export interface TypedScanPage<T> {
  readonly keys: string[];
  readonly values: T[] | null;
  readonly cursor: string | null;
}

/** The typed view of a {@link KvTransaction}. */
export interface TypedTransaction<T> {
  get(key: string): Promise<T | undefined>;
  getMany(keys: readonly string[]): Promise<(T | undefined)[]>;
  has(key: string): Promise<boolean>;
  scan(options?: ScanOptions): Promise<TypedScanPage<T>>;
  set(key: string, value: T): void;
  delete(key: string): void;
}

// Plain MessagePack (no shared record structures): every value decodes on its own.
const defaultPackr = new Packr({ useRecords: false, moreTypes: true });

/**
 * Values of any structured type over a byte {@link KvStore}, encoded with msgpackr.
 *
 * @example
 * ```ts
 * const files = new TypedKvStore<{ path: string; size: number }>(kv);
 * await files.set('file:a.ts', { path: 'a.ts', size: 120 });
 * ```
 */
export class TypedKvStore<T = unknown> {
  readonly #kv: KvStore;
  readonly #packr: Packr;

  constructor(kv: KvStore, options: { packr?: Packr } = {}) {
    this.#kv = kv;
    this.#packr = options.packr ?? defaultPackr;
  }

  /** The byte store underneath. */
  get bytes(): KvStore {
    return this.#kv;
  }

  encode(value: T, argument = 'value'): Uint8Array {
    if (value === undefined) throw new ShelfError('INVALID_ARGUMENT', `${argument} must not be undefined (use delete)`);
    if (typeof value === 'function' || typeof value === 'symbol') {
      throw new ShelfError('INVALID_ARGUMENT', `${argument} cannot be encoded: ${typeof value}`);
    }
    try {
      return this.#packr.pack(value);
    } catch (error) {
      throw new ShelfError('INVALID_ARGUMENT', `${argument} cannot be encoded: ${(error as Error).message}`, { cause: error });
    }
  }

  decode(bytes: Uint8Array | undefined, key: string): T | undefined {
    if (bytes === undefined) return undefined;
    try {
      return this.#packr.unpack(bytes) as T;
    } catch (error) {
      throw new ShelfError('CORRUPT', `value of key ${JSON.stringify(key)} is not valid MessagePack`, { cause: error });
    }
  }

  #decodeAll(keys: readonly string[], values: readonly (Uint8Array | undefined)[]): (T | undefined)[] {
    return values.map((v, i) => this.decode(v, keys[i]!));
  }

  async get(key: string): Promise<T | undefined> {
    return this.decode(await this.#kv.get(key), key);
  }

  async getMany(keys: readonly string[]): Promise<(T | undefined)[]> {
    return this.#decodeAll(keys, await this.#kv.getMany(keys));
  }

  async set(key: string, value: T): Promise<void> {
    return this.#kv.set(key, this.encode(value));
  }

  delete(key: string): Promise<void> {
    return this.#kv.delete(key);
  }

  has(key: string): Promise<boolean> {
    return this.#kv.has(key);
  }

  count(range?: KeyRange): Promise<number> {
    return this.#kv.count(range);
  }

  clear(): Promise<void> {
    return this.#kv.clear();
  }

  /** Encodes every value first, so an unencodable value means nothing is written. */
  async batch(ops: readonly TypedBatchOp<T>[]): Promise<void> {
    if (!Array.isArray(ops)) throw new ShelfError('INVALID_ARGUMENT', `ops must be an array, got ${typeof ops}`);
    return this.#kv.batch(
      ops.map((op, i) => (op?.type === 'put' ? { type: 'put', key: op.key, value: this.encode(op.value, `ops[${i}].value`) } : op)),
    );
  }

  async scan(options?: ScanOptions): Promise<TypedScanPage<T>> {
    const page = await this.#kv.scan(options);
    return { keys: page.keys, cursor: page.cursor, values: page.values && (this.#decodeAll(page.keys, page.values) as T[]) };
  }

  async *iterate(options?: ScanOptions & { pageSize?: number }): AsyncIterableIterator<{ key: string; value: T }> {
    for await (const { key, value } of this.#kv.iterate(options)) yield { key, value: this.decode(value, key) as T };
  }

  transaction<R>(fn: (tx: TypedTransaction<T>) => R | Promise<R>, options?: TransactionOptions): Promise<R> {
    return this.#kv.transaction((tx) => fn(this.#wrapTransaction(tx)), options);
  }

  #wrapTransaction(tx: KvTransaction): TypedTransaction<T> {
    return {
      get: async (key) => this.decode(await tx.get(key), key),
      getMany: async (keys) => this.#decodeAll(keys, await tx.getMany(keys)),
      has: (key) => tx.has(key),
      scan: async (options) => {
        const page = await tx.scan(options);
        return { keys: page.keys, cursor: page.cursor, values: page.values && (this.#decodeAll(page.keys, page.values) as T[]) };
      },
      set: (key, value) => tx.set(key, this.encode(value)),
      delete: (key) => tx.delete(key),
    };
  }

  stats(): Promise<KvStats> {
    return this.#kv.stats();
  }
}
