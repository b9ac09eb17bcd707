import type { CollectionEngine, CollectionStats, Doc, Filter, FindOptions } from '../collections/index.ts';
import { pushBatches } from './batch-port.ts';
import { BufferPool } from '../codec/buffer-pool.ts';
import { BLOCK_DOCS } from '../collections/collection-file.ts';
import { encodeDocBatch } from '../collections/packed-batch.ts';
import type { Staging } from './staging.ts';
import { ShelfError } from '../errors/index.ts';

/** Results of `find`/`findAll` up to this many documents reach the page in one message (see `findToPage`). */
const RESULT_WHOLE = 512;

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
  /** Set once the shelf closes: no stream starts after {@link stopStreams}. */
  #stopped = false;
  /** Stops every stream to the page and waits until each has ended. @internal */
  async stopStreams(): Promise<void> {
    this.#stopped = true;
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
   * `find` (or `findAll`, without filter and options) for the page: a result of up to
   * {@link RESULT_WHOLE} documents comes back as it is (one structured clone); a larger one
   * goes to `port` as packed batches, as a stream's do, and the call says how many, so the
   * page rebuilds it a batch per task instead of cloning it in one. @internal
   */
  async findToPage(port: MessagePort, name: string, filter?: Filter, options?: FindOptions, all = false): Promise<Doc[] | { packed: number }> {
    let docs: Doc[];
    try {
      docs = all ? await this.#engine().findAll(name) : await this.#engine().find(name, filter, options);
    } catch (error) {
      port.close();
      throw error;
    }
    if (docs.length <= RESULT_WHOLE) {
      port.close();
      return docs;
    }
    const result = docs;
    const batches = (async function* () {
      for (let i = 0; i < result.length; i += BLOCK_DOCS) yield encodeDocBatch(result.slice(i, i + BLOCK_DOCS));
    })();
    this.#push(port, batches);
    return { packed: docs.length };
  }
  /** Starts pushing `source` to `port`; refused once the streams were stopped (a read that ended after close began). */
  #push(port: MessagePort, source: AsyncGenerator<Uint8Array, void, undefined>, pool?: BufferPool): void {
    if (this.#stopped) {
      port.close();
      void source.return(undefined);
      throw new ShelfError('CLOSED', 'the shelf is closing: no stream starts now');
    }
    const stop = new AbortController();
    const push = { stop, done: Promise.resolve() };
    push.done = pushBatches(port, source, { signal: stop.signal, ...(pool ? { pool } : {}) }).finally(() => this.#pushing.delete(push));
    this.#pushing.add(push);
  }
  /**
   * Posts batches as column-packed bytes (collections/packed-batch.ts) to `port` as the
   * reader hands back credits (see batch-port.ts): what `shelf.collections.iterate` reads.
   * An unknown collection is refused here; later errors arrive through the port. @internal
   */
  pushPacked(port: MessagePort, name: string, options?: { batchSize?: number; filter?: Filter }): void {
    const engine = this.#engine();
    engine.state(name);
    // Each stream has its own pool of the buffers its reader hands back (buffer-pool.ts).
    const pool = new BufferPool();
    this.#push(port, engine.packedBatches(name, { ...options, pool }), pool);
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
