import type { CollectionEngine, CollectionStats, Doc, Filter, FindOptions } from '../collections/index.ts';
import { pushBatches } from './batch-port.ts';
import { BufferPool } from '../codec/buffer-pool.ts';
import type { Staging } from './staging.ts';

/**
 * Document collections as the storage worker exposes them. Streams to the page go through
 * {@link pushPacked}: the page builds `iterate` and `stream` on it (src/client), so that
 * their errors keep their code and closing the shelf ends them. A transferred
 * `ReadableStream` did neither: its errors crossed as plain structured-clone `Error`s, and
 * nothing ended it when the shelf closed.
 * @internal
 */
export class WireCollections {
  readonly #engine: () => CollectionEngine;
  /** Streams being pushed to the page: stopped (their files released) before the engine closes. */
  readonly #pushing = new Set<{ stop: AbortController; done: Promise<void> }>();
  readonly #staging: Staging;
  constructor(engine: () => CollectionEngine, staging: Staging) {
    this.#engine = engine;
    this.#staging = staging;
  }
  /** Stops every stream to the page and waits until each has ended. @internal */
  async stopStreams(): Promise<void> {
    const all = [...this.#pushing];
    for (const p of all) p.stop.abort();
    await Promise.all(all.map((p) => p.done));
  }
  list(): string[] {
    return this.#engine().list();
  }
  state(name: string) {
    return this.#engine().state(name);
  }
  create(name: string): Promise<void> {
    return this.#engine().create(name);
  }
  drop(name: string): Promise<void> {
    return this.#engine().drop(name);
  }
  rename(from: string, to: string): Promise<void> {
    return this.#engine().rename(from, to);
  }
  insert(name: string, doc: Omit<Doc, '_id'> & { _id?: string }): Promise<string> {
    return this.#engine().insert(name, doc);
  }
  insertMany(name: string, docs: readonly (Omit<Doc, '_id'> & { _id?: string })[]): Promise<string[]> {
    return this.#engine().insertMany(name, docs);
  }
  /** A slice of a large `insertMany`'s documents (see staging.ts). @internal */
  stage(token: number, docs: unknown[]): void {
    this.#staging.add(token, docs);
  }
  /** Forgets the slices staged under `token`. @internal */
  unstage(token: number): void {
    this.#staging.drop(token);
  }
  /** `insertMany` of the documents staged under `token`. @internal */
  insertManyStaged(name: string, token: number): Promise<string[]> {
    const docs = this.#staging.take(token);
    return this.#engine().insertMany(name, docs as (Omit<Doc, '_id'> & { _id?: string })[]);
  }
  get(name: string, id: string): Promise<Doc | undefined> {
    return this.#engine().get(name, id);
  }
  update(name: string, id: string, patch: Record<string, unknown>): Promise<Doc> {
    return this.#engine().update(name, id, patch);
  }
  replace(name: string, id: string, doc: Record<string, unknown>): Promise<Doc> {
    return this.#engine().replace(name, id, doc);
  }
  delete(name: string, id: string): Promise<boolean> {
    return this.#engine().delete(name, id);
  }
  find(name: string, filter?: Filter, options?: FindOptions): Promise<Doc[]> {
    return this.#engine().find(name, filter, options);
  }
  count(name: string, filter?: Filter): Promise<number> {
    return this.#engine().count(name, filter);
  }
  findAll(name: string): Promise<Doc[]> {
    return this.#engine().findAll(name);
  }
  /**
   * Posts batches as column-packed bytes (collections/packed-batch.ts) to `port` as the
   * reader hands back credits (see batch-port.ts): what `shelf.collections.iterate` reads.
   * An unknown collection is refused here; later errors arrive through the port. @internal
   */
  pushPacked(port: MessagePort, name: string, options?: { batchSize?: number; filter?: Filter }): void {
    const engine = this.#engine();
    engine.state(name);
    const stop = new AbortController();
    const push = { stop, done: Promise.resolve() };
    // Each stream has its own pool of the buffers its reader hands back (buffer-pool.ts).
    const pool = new BufferPool();
    push.done = pushBatches(port, engine.packedBatches(name, { ...options, pool }), { signal: stop.signal, pool }).finally(() => this.#pushing.delete(push));
    this.#pushing.add(push);
  }
  save(name: string): Promise<void> {
    return this.#engine().save(name);
  }
  flush(): Promise<void> {
    return this.#engine().flush();
  }
  stats(): CollectionStats {
    return this.#engine().stats();
  }
}
