import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import { ShelfError } from '../errors/index.ts';
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
  ready: Promise<unknown>;
}

const DEFAULT_BUDGET_MS = 2000;

/**
 * Starts the search worker on first use and guards every query with a watchdog: a query
 * that outlives its time budget by `watchdogGraceMs` (a catastrophic regular expression,
 * which JavaScript cannot interrupt) gets the worker terminated and the call rejected with
 * `ABORTED`; the next call starts a fresh worker, which reopens the saved index.
 * @internal
 */
export function createSearchClient(options: {
  name: string;
  memory: boolean;
  search: ShelfSearchOptions;
  isClosed: () => boolean;
  createWorker?: () => Worker;
}): ShelfSearch & { close(): Promise<void> } {
  const { name, memory, search, isClosed } = options;
  const createWorker = options.createWorker ?? (() => new Worker(new URL('../../workers/search.worker.ts', import.meta.url), { type: 'module', name: `codeshelf-search:${name}` }));
  const grace = search.watchdogGraceMs ?? 2000;
  let current: Worker_ | undefined;
  let restarts = 0;
  let pending: { docs: SearchDocument[]; done: Promise<number> } | undefined;

  const start = (): Worker_ => {
    const worker = createWorker();
    const remote = wrap<SearchService>(worker);
    const ready = remote.open({ name, memory, search });
    return { worker, remote, ready };
  };

  const kill = (w: Worker_) => {
    if (current === w) current = undefined;
    w.remote[releaseProxy]();
    w.worker.terminate();
  };

  const use = async <T>(run: (remote: Remote<SearchService>) => Promise<T>, budgetMs?: number, signal?: AbortSignal): Promise<T> => {
    if (isClosed()) throw new ShelfError('CLOSED', `shelf "${name}" is closed`);
    if (memory && restarts > 0 && !current) throw new ShelfError('ABORTED', 'the in-memory search index was lost when its worker was restarted');
    current ??= start();
    const w = current;
    await w.ready;
    if (signal?.aborted) throw new ShelfError('ABORTED', 'search cancelled');
    const call = run(w.remote);
    if (budgetMs === undefined && !signal) return call;
    return new Promise<T>((resolve, reject) => {
      const timer = budgetMs === undefined ? undefined : setTimeout(() => {
        restarts++;
        kill(w);
        reject(new ShelfError('ABORTED', `search ran ${budgetMs + grace} ms, past its ${budgetMs} ms budget; the search worker was restarted`));
      }, budgetMs + grace);
      const onAbort = () => reject(new ShelfError('ABORTED', 'search cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      call.then(resolve, reject).finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      });
    });
  };

  const split = <O extends CallControl>(o: O | undefined) => {
    const { signal, ...rest } = (o ?? {}) as O;
    return { signal, rest };
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
          return use((r) => r.addMany(batch));
        });
        pending = { docs: batch, done };
      }
      pending.docs.push(doc);
      return pending.done.then(() => undefined);
    },
    addMany: (docs) => use((r) => r.addMany(docs)),
    update: (docs) => use((r) => r.update(list(docs))),
    remove: (ids) => use((r) => r.remove(list(ids))),
    get: (id) => use((r) => r.get(id)),
    query(text, o) {
      const { signal, rest } = split(o);
      return use((r) => r.query(text, rest), rest.budgetMs ?? DEFAULT_BUDGET_MS, signal).then(unpackSearchResults);
    },
    regex(pattern, o) {
      const { signal, rest } = split(o);
      return use((r) => r.regex(pattern, rest), rest.budgetMs ?? search.regexBudgetMs ?? DEFAULT_BUDGET_MS, signal).then(unpackMatchResults);
    },
    substring(text, o) {
      const { signal, rest } = split(o);
      return use((r) => r.substring(text, rest), rest.budgetMs ?? search.regexBudgetMs ?? DEFAULT_BUDGET_MS, signal).then(unpackMatchResults);
    },
    stats: () => use((r) => r.stats()),
    compact: () => use((r) => r.compact()),
    repair: (fetch) => use((r) => r.repair(proxy(fetch))),
    async close() {
      const w = current;
      if (!w) return;
      try {
        await w.ready;
        await w.remote.close();
      } finally {
        kill(w);
      }
    },
  };
}
