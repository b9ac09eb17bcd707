import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import { ShelfError } from '../errors/index.ts';
import { mapPageError, toPageError } from './page-errors.ts';
import { failWith, workerFailure } from './worker-calls.ts';
import { checkBudget } from '../search/budget.ts';
import { checkOptions } from '../search/search-options.ts';
import type { SearchDocument, SearchIndexStats, SearchResults, MatchResults, StoredDocument } from '../search/index.ts';
import { unpackMatchResults, unpackSearchResults } from '../service/wire-search.ts';
import type { SearchService, ShelfSearchOptions, WireMatchOptions, WireQueryOptions, WireSubstringOptions } from '../service/search-service.ts';

/** Per-call control on the page: cancel with a signal. */
export interface CallControl {
  readonly signal?: AbortSignal;
}

/** The page-side search API; every call runs in the search worker. */
export interface ShelfSearch {
  /** Adds one document. Calls in the same tick travel to the worker as one batch. */
  add(doc: SearchDocument): Promise<void>;
  /** Adds documents, all or nothing; returns how many. */
  addMany(docs: readonly SearchDocument[]): Promise<number>;
  /** Upserts documents; the change is visible to the next query and saved when this resolves. */
  update(docs: SearchDocument | readonly SearchDocument[]): Promise<('added' | 'updated' | 'unchanged')[]>;
  remove(ids: string | readonly string[]): Promise<boolean[]>;
  get(id: string): Promise<StoredDocument | undefined>;
  /** Keyword search: terms (AND), OR, NOT/-term, "phrases", prefix*, filters, BM25 ranking. */
  query(text: string, options?: WireQueryOptions & CallControl): Promise<SearchResults>;
  /** Regular expression search through a trigram plan, with exact match ranges. */
  regex(pattern: string, options?: WireMatchOptions & CallControl): Promise<MatchResults>;
  substring(text: string, options?: WireSubstringOptions & CallControl): Promise<MatchResults>;
  stats(): Promise<SearchIndexStats>;
  compact(): Promise<void>;
  /** Rebuilds damaged segments from documents that `fetch` returns for the given ids. */
  repair(fetch: (ids: readonly string[]) => Promise<SearchDocument[]>): Promise<number[]>;
  /** How many times a runaway query made the page restart the search worker. */
  readonly restarts: number;
}

interface Worker_ {
  worker: Worker;
  remote: Remote<SearchService>;
  /** Settles once the worker opened the index; rejects when it failed to load or to open, or was killed. */
  ready: Promise<unknown>;
  /** Rejects `ready` and every call still waiting for this worker: called when it is terminated. */
  stop(error: ShelfError): void;
  readonly calls: Set<(error: ShelfError) => void>;
  dead: boolean;
}

const DEFAULT_BUDGET_MS = 2000;
/** The longest delay `setTimeout` takes; longer ones (and Infinity) fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Starts the search worker on first use and guards every query with a watchdog: a query
 * that outlives its time budget by `watchdogGraceMs` (a catastrophic regular expression,
 * which JavaScript cannot interrupt) gets the worker terminated and the call rejected with
 * `ABORTED`; the next call starts a fresh worker, which reopens the saved index. A worker
 * that fails to load (its `error` event) or to open fails the calls waiting for it with
 * that error and is terminated; the next call starts a fresh one.
 * @internal
 */
export function createSearchClient(options: {
  name: string;
  memory: boolean;
  search: ShelfSearchOptions;
  isClosed: () => boolean;
  createWorker?: () => Worker;
}): ShelfSearch & { close(): Promise<void>; dispose(): void } {
  const { name, memory, search, isClosed } = options;
  const createWorker = options.createWorker ?? (() => new Worker(new URL('../../workers/search.worker.ts', import.meta.url), { type: 'module', name: `codeshelf-search:${name}` }));
  // Checked by openShelf already (service/shelf-options.ts); Infinity: no watchdog.
  const grace = checkBudget(search.watchdogGraceMs, 'options.search.watchdogGraceMs') ?? 2000;
  let current: Worker_ | undefined;
  let restarts = 0;
  let pending: { docs: SearchDocument[]; done: Promise<number> } | undefined;

  const start = (): Worker_ => {
    const worker = createWorker();
    const remote = wrap<SearchService>(worker);
    let stop!: (error: ShelfError) => void;
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    stopped.catch(() => undefined);
    const ready = Promise.race([remote.open({ name, memory, search }), workerFailure(worker, 'search'), stopped]);
    ready.catch(() => undefined);
    return { worker, remote, ready, stop, calls: new Set(), dead: false };
  };

  /** Terminates `w`; what waits for it (its opening, calls in flight) fails with `error` instead of waiting forever. */
  const kill = (w: Worker_, error: ShelfError) => {
    if (current === w) current = undefined;
    if (w.dead) return;
    w.dead = true;
    w.stop(error);
    for (const fail of w.calls) fail(error);
    w.calls.clear();
    w.remote[releaseProxy]();
    w.worker.terminate();
  };

  /** `call` to `w`, failed with the kill's error instead if `w` is killed first (a worker gone never answers). */
  const untilKilled = <T>(w: Worker_, call: Promise<T>): Promise<T> => failWith(w.calls, call);

  /** The worker, once open; one that failed to load or open is terminated and its error thrown. */
  const opened = async (): Promise<Worker_> => {
    current ??= start();
    const w = current;
    try {
      await w.ready;
    } catch (error) {
      const e = toPageError(error, 'search worker');
      kill(w, e);
      throw e;
    }
    return w;
  };

  const use = async <T>(call: string, args: readonly unknown[], run: (remote: Remote<SearchService>) => Promise<T>, budgetMs?: number, signal?: AbortSignal, callback = false): Promise<T> => {
    if (isClosed()) throw new ShelfError('CLOSED', `shelf "${name}" is closed`);
    if (memory && restarts > 0 && !current) throw new ShelfError('ABORTED', 'the in-memory search index was lost when its worker was restarted');
    const w = await opened();
    if (signal?.aborted) throw new ShelfError('ABORTED', 'search cancelled');
    const call_ = untilKilled(w, mapPageError(run(w.remote), `search.${call}`, args, [], callback));
    // No watchdog for an unbounded budget (or grace): the index itself treats Infinity as none.
    const limit = budgetMs === undefined ? Infinity : budgetMs + grace;
    if (limit === Infinity && !signal) return call_;
    return new Promise<T>((resolve, reject) => {
      const timer = limit === Infinity ? undefined : setTimeout(() => {
        restarts++;
        reject(new ShelfError('ABORTED', `search ran ${limit} ms, past its ${budgetMs!} ms budget; the search worker was restarted`));
        // Other calls in flight on it fail too rather than wait for a worker that is gone.
        kill(w, new ShelfError('ABORTED', `the search worker was restarted: a search ran past its ${budgetMs!} ms budget`));
      }, Math.min(limit, MAX_TIMER_MS));
      const onAbort = () => reject(new ShelfError('ABORTED', 'search cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      call_.then(resolve, reject).finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      });
    });
  };

  const split = <O extends CallControl>(o: O | undefined, call: string) => {
    checkOptions(o, `search.${call}: options`);
    const { signal, ...rest } = (o ?? {}) as O & { budgetMs?: unknown };
    const budgetMs = checkBudget(rest.budgetMs, 'options.budgetMs');
    return { signal, rest, budgetMs };
  };
  const list = <T>(x: T | readonly T[]): T[] => (Array.isArray(x) ? [...(x as T[])] : [x as T]);

  return {
    get restarts() {
      return restarts;
    },
    add(doc) {
      if (!pending) {
        const batch: SearchDocument[] = [];
        const done = Promise.resolve().then(() => {
          pending = undefined;
          return use('add', [batch], (r) => r.addMany(batch));
        });
        pending = { docs: batch, done };
      }
      pending.docs.push(doc);
      return pending.done.then(() => undefined);
    },
    addMany: (docs) => use('addMany', [docs], (r) => r.addMany(docs)),
    update: (docs) => use('update', [docs], (r) => r.update(list(docs))),
    remove: (ids) => use('remove', [ids], (r) => r.remove(list(ids))),
    get: (id) => use('get', [id], (r) => r.get(id)),
    async query(text, o) {
      const { signal, rest, budgetMs } = split(o, 'query');
      return unpackSearchResults(await use('query', [text, rest], (r) => r.query(text, rest), budgetMs ?? DEFAULT_BUDGET_MS, signal));
    },
    async regex(pattern, o) {
      const { signal, rest, budgetMs } = split(o, 'regex');
      return unpackMatchResults(await use('regex', [pattern, rest], (r) => r.regex(pattern, rest), budgetMs ?? search.regexBudgetMs ?? DEFAULT_BUDGET_MS, signal));
    },
    async substring(text, o) {
      const { signal, rest, budgetMs } = split(o, 'substring');
      return unpackMatchResults(await use('substring', [text, rest], (r) => r.substring(text, rest), budgetMs ?? search.regexBudgetMs ?? DEFAULT_BUDGET_MS, signal));
    },
    stats: () => use('stats', [], (r) => r.stats()),
    compact: () => use('compact', [], (r) => r.compact()),
    // `fetch` runs on the page: an error it throws comes back as it was.
    repair: (fetch) => use('repair', [], (r) => r.repair(proxy(fetch)), undefined, undefined, true),
    /**
     * Saves and closes the index; the worker is left running for {@link dispose}, so that
     * the shelf terminates its workers only once both have closed. A worker that never
     * opened (it failed to load) has nothing to save.
     */
    async close() {
      const w = current;
      if (!w) return;
      try {
        await w.ready;
      } catch {
        return;
      }
      if (w.dead) return;
      // Killed meanwhile (the watchdog ends a runaway query the close waits behind): the
      // close fails with that error instead of waiting for a worker that is gone.
      await untilKilled(w, mapPageError(w.remote.close(), 'search.close'));
    },
    /** Terminates the worker, if one runs; calls still waiting for it fail with `CLOSED`. */
    dispose() {
      if (current) kill(current, new ShelfError('CLOSED', `shelf "${name}" is closed`));
    },
  };
}
