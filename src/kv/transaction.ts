import { ShelfError } from '../errors/index.ts';
import { inRange, resolveRange } from './range.ts';
import type { BatchOp, KvTransaction, ResolvedRange, ScanOptions, ScanPage } from './types.ts';
import { checkKey, checkKeys, checkScanOptions, checkValue, copyBytes, type KvLimits } from './validate.ts';

/** What a transaction needs from its store. @internal */
export interface TransactionHost {
  readonly limits: KvLimits;
  readMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  scanRange(range: ResolvedRange, limit: number, reverse: boolean, keysOnly: boolean): Promise<{ keys: string[]; values: Uint8Array[] | null }>;
}

/**
 * A buffered optimistic transaction: reads go to the store and are remembered, writes stay
 * in memory until commit. No IndexedDB transaction is held open while user code awaits.
 * @internal
 */
export class BufferedTransaction implements KvTransaction {
  readonly readKeys = new Set<string>();
  readonly ranges: ResolvedRange[] = [];
  readonly #writes = new Map<string, Uint8Array | null>();
  readonly #host: TransactionHost;
  #done = false;

  constructor(host: TransactionHost) {
    this.#host = host;
  }

  #assertActive(): void {
    if (this.#done) throw new ShelfError('CLOSED', 'transaction has already finished');
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getMany([key]))[0];
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    this.#assertActive();
    checkKeys(keys, this.#host.limits);
    const missing = keys.filter((k) => !this.#writes.has(k));
    for (const k of missing) this.readKeys.add(k);
    const fetched = missing.length ? await this.#host.readMany(missing) : [];
    const byKey = new Map(missing.map((k, i) => [k, fetched[i]]));
    // Buffered values are the transaction's own copies: hand out copies of them.
    return keys.map((k) => (this.#writes.has(k) ? (this.#writes.get(k)?.slice() ?? undefined) : byKey.get(k)));
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async scan(options: ScanOptions = {}): Promise<ScanPage> {
    this.#assertActive();
    checkScanOptions(options);
    const range = resolveRange(options);
    const limit = options.limit ?? Infinity;
    const reverse = options.reverse ?? false;
    // Buffered deletes can hide stored keys, so ask for that many more than the limit.
    let hidden = 0;
    for (const [k, v] of this.#writes) if (v === null && inRange(k, range)) hidden++;
    const fetchLimit = limit === Infinity ? Infinity : limit + hidden + 1;
    const stored = await this.#host.scanRange(range, fetchLimit, reverse, false);
    const merged = new Map<string, Uint8Array>();
    stored.keys.forEach((k, i) => merged.set(k, stored.values![i]!));
    const exhausted = stored.keys.length < fetchLimit;
    const edge = stored.keys[stored.keys.length - 1];
    for (const [k, v] of this.#writes) {
      if (!inRange(k, range)) continue;
      // Past the last stored key of a truncated page, stored keys are unknown: leave them for the next page.
      if (!exhausted && edge !== undefined && (reverse ? k < edge : k > edge)) continue;
      if (v === null) merged.delete(k);
      else merged.set(k, v);
    }
    const keys = [...merged.keys()].sort();
    if (reverse) keys.reverse();
    const page = keys.slice(0, limit === Infinity ? undefined : limit);
    const more = page.length < keys.length || !exhausted;
    this.#recordRead(range, page, more ? keys[page.length] : undefined, more, reverse);
    return {
      keys: page,
      values: options.keysOnly ? null : page.map((k) => (this.#writes.has(k) ? merged.get(k)!.slice() : merged.get(k)!)),
      cursor: more && page.length ? page[page.length - 1]! : null,
    };
  }

  /**
   * Records what a scan's result depended on, for conflict detection at commit: the whole
   * range, or, when the page stopped at its limit, the part up to its last key plus the
   * first key after it (`next`), whose existence made the cursor non-null. A write to
   * another key beyond the page changes neither the page nor "there is more": a queue
   * popped from its head while producers append at its tail does not conflict, while
   * deleting the key that made "there is more" true does.
   */
  #recordRead(range: ResolvedRange, page: readonly string[], next: string | undefined, more: boolean, reverse: boolean): void {
    const last = page[page.length - 1];
    if (!more || last === undefined || next === undefined) {
      // Read to its end, or nothing to narrow to (a limit of 0 still learnt whether keys exist).
      this.ranges.push(range);
      return;
    }
    // `last + U+0000` is the smallest key after `last`: the exclusive upper bound that keeps it.
    this.ranges.push(reverse ? { ...range, lower: last, lowerOpen: false } : { ...range, upper: `${last}\u0000` });
    this.readKeys.add(next);
  }

  set(key: string, value: Uint8Array): void {
    this.#assertActive();
    checkKey(key, this.#host.limits);
    checkValue(value, this.#host.limits);
    // Copied now: changing the array after set() does not change what commits.
    this.#writes.set(key, copyBytes(value));
  }

  delete(key: string): void {
    this.#assertActive();
    checkKey(key, this.#host.limits);
    this.#writes.set(key, null);
  }

  /** Ends the transaction and returns its writes as batch ops. */
  finish(): BatchOp[] {
    this.#done = true;
    const ops: BatchOp[] = [];
    for (const [key, value] of this.#writes) {
      ops.push(value === null ? { type: 'delete', key } : { type: 'put', key, value });
    }
    return ops;
  }
}
