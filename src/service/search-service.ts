import { installErrorTransfer, ShelfError } from '../errors/index.ts';
import { openIndexedDbKv, type KvStore } from '../kv/index.ts';
import {
  kvSegmentStorage, MemorySegmentStorage, SearchIndex,
  type MatchOptions, type QueryOptions, type SearchDocument, type SearchIndexOptions,
  type SearchIndexStats, type SubstringOptions,
} from '../search/index.ts';
import { packMatchResults, packSearchResults, type WireMatchResults, type WireSearchResults } from './wire-search.ts';

installErrorTransfer();

/** Options of the search worker, from `openShelf({ search })`. */
export interface ShelfSearchOptions extends Omit<SearchIndexOptions, 'storage'> {
  /** Milliseconds a query may run past its own budget before the page restarts the search worker (default 2,000). */
  readonly watchdogGraceMs?: number;
  /**
   * Load a saved index's segments into memory in the background right after opening, up
   * to `cacheBytes`, so the first query does not wait for them (default true).
   */
  readonly preload?: boolean;
}

/** Query options that can cross the thread boundary (no AbortSignal: cancel from the page). */
export type WireQueryOptions = Omit<QueryOptions, 'signal'>;
export type WireMatchOptions = Omit<MatchOptions, 'signal'>;
export type WireSubstringOptions = Omit<SubstringOptions, 'signal'>;

/**
 * The search index in its own worker (workers/search.worker.ts), so that the page can
 * terminate a runaway regular expression without touching the storage worker. Writes are
 * acknowledged once saved: concurrent writes share one flush (group commit), so an
 * acknowledged write survives a restart of the worker.
 * @internal
 */
export class SearchService {
  #index: SearchIndex | undefined;
  #kv: KvStore | undefined;
  #flushing: Promise<void> | undefined;
  #again = false;
  #merging = false;
  #mergeTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Aborted by close() so that a background preload or merge stops before touching the
   * store, which close() then closes; `#background` holds their promises so close() can
   * wait for a read or write already under way.
   */
  #stop = new AbortController();
  readonly #background = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;
  /** Last error of a background merge. */
  lastError: unknown;

  #get(): SearchIndex {
    if (!this.#index) throw new ShelfError('CLOSED', 'search index is not open');
    return this.#index;
  }

  async open(options: { name: string; memory?: boolean; search?: ShelfSearchOptions }): Promise<SearchIndexStats> {
    const { name, memory = false, search = {} } = options;
    const { watchdogGraceMs: _ignored, preload = true, ...indexOptions } = search;
    if (typeof preload !== 'boolean') throw new ShelfError('INVALID_ARGUMENT', 'options.search.preload must be a boolean');
    this.#stop = new AbortController();
    this.#closing = undefined;
    if (memory) {
      this.#index = new SearchIndex({ ...indexOptions, storage: new MemorySegmentStorage() });
    } else {
      this.#kv = await openIndexedDbKv({ name: `${name}:search` });
      this.#index = await SearchIndex.open(kvSegmentStorage(this.#kv), indexOptions);
      // In the background: calls are served between loads; a failure is left for queries to report.
      if (preload) this.#track(this.#index.preload({ signal: this.#stop.signal }));
    }
    return this.#index.stats();
  }

  /** Saves pending changes; calls made during a flush share the next one. */
  #durable(): Promise<void> {
    if (this.#flushing) {
      this.#again = true;
      return this.#flushing;
    }
    this.#flushing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#get().flush();
        } while (this.#again);
      } finally {
        this.#flushing = undefined;
      }
      this.#scheduleMerge();
    })();
    return this.#flushing;
  }

  /** Keeps `work` in {@link #background} until it settles. */
  #track(work: Promise<unknown>): void {
    const settled = work.then(() => undefined, () => undefined);
    this.#background.add(settled);
    void settled.then(() => this.#background.delete(settled));
  }

  #scheduleMerge(): void {
    const index = this.#index;
    if (!index || this.#merging || this.#stop.signal.aborted || index.pendingMerges() === 0) return;
    this.#merging = true;
    const signal = this.#stop.signal;
    this.#mergeTimer = setTimeout(() => {
      this.#mergeTimer = undefined;
      this.#track((async () => {
        try {
          await index.merge({ signal });
          await this.#durable();
        } catch (error) {
          // Stopped by close(): not a failure worth reporting.
          if (!signal.aborted) this.lastError = error;
        } finally {
          this.#merging = false;
        }
      })());
    }, 0);
  }

  /** Adds documents (all or nothing); returns how many were added. */
  async addMany(docs: readonly SearchDocument[]): Promise<number> {
    const n = this.#get().addMany(docs);
    await this.#durable();
    return n;
  }

  /** Upserts documents; returns what happened to each. */
  async update(docs: readonly SearchDocument[]): Promise<('added' | 'updated' | 'unchanged')[]> {
    const index = this.#get();
    const out = docs.map((d) => index.update(d));
    await this.#durable();
    return out;
  }

  /** Removes documents; returns which existed. */
  async remove(ids: readonly string[]): Promise<boolean[]> {
    const index = this.#get();
    const out = ids.map((id) => index.remove(id));
    await this.#durable();
    return out;
  }

  get(id: string) {
    return this.#get().get(id);
  }

  /** Answers travel with their highlight ranges packed ({@link packSearchResults}). */
  async query(text: string, options?: WireQueryOptions): Promise<WireSearchResults> {
    return packSearchResults(await this.#get().query(text, options));
  }

  async regex(pattern: string, options?: WireMatchOptions): Promise<WireMatchResults> {
    return packMatchResults(await this.#get().regex(pattern, options));
  }

  async substring(text: string, options?: WireSubstringOptions): Promise<WireMatchResults> {
    return packMatchResults(await this.#get().substring(text, options));
  }

  stats(): SearchIndexStats {
    return this.#get().stats();
  }

  /** Saves now and merges segments as the policy asks. */
  async compact(): Promise<void> {
    const merged = this.#get().merge({ signal: this.#stop.signal });
    this.#track(merged);
    await merged;
    await this.#durable();
  }

  /**
   * Finds damaged segments and rebuilds each from documents that `fetch` supplies (the app's
   * own source of truth, e.g. the snapshot store). Returns the segment ids rebuilt.
   */
  async repair(fetch: (ids: readonly string[]) => Promise<SearchDocument[]>): Promise<number[]> {
    const index = this.#get();
    const rebuilt: number[] = [];
    for (const problem of await index.checkSegments()) {
      if (!problem.ids) throw new ShelfError('CORRUPT', `segment ${problem.segmentId}: its document table is damaged too; re-add the documents`, { cause: problem.error });
      await index.rebuildSegment(problem.segmentId, await fetch(problem.ids));
      rebuilt.push(problem.segmentId);
    }
    await this.#durable();
    return rebuilt;
  }

  /**
   * Stops background work (a scheduled or running merge, a preload) and waits for what it
   * had under way, saves pending changes, then closes the store: nothing touches storage
   * once this resolves. A running merge stops between slices and its result is dropped (a
   * compact() waiting on it rejects with `ABORTED`).
   */
  close(): Promise<void> {
    if (!this.#index) return Promise.resolve();
    this.#closing ??= (async () => {
      this.#stop.abort();
      if (this.#mergeTimer !== undefined) {
        clearTimeout(this.#mergeTimer);
        this.#mergeTimer = undefined;
        this.#merging = false;
      }
      while (this.#background.size > 0) await Promise.all(this.#background);
      await this.#durable();
      this.#index = undefined;
      await this.#kv?.close();
      this.#kv = undefined;
    })().catch((error: unknown) => {
      // E.g. the final save failed: the index stays open and close() may be retried, so
      // background work and compact() get a live signal again.
      this.#closing = undefined;
      this.#stop = new AbortController();
      this.#scheduleMerge();
      throw error;
    });
    return this.#closing;
  }
}
