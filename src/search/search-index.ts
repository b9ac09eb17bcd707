import { ShelfError } from '../errors/index.ts';
import { checkBudget, QueryBudget } from './budget.ts';
import { contentHash } from './content-hash.ts';
import { normalizeFilters, validateDocument } from './document-fields.ts';
import { mergeIndex, proposedMerges, rebuildIndexSegment, type MergeReport } from './index-maintenance.ts';
import { checkIndex, flushIndex, openIndex, type FlushReport, type SegmentProblem } from './index-persistence.ts';
import { IndexState, liveIds } from './index-state.ts';
import { searchKeyword } from './keyword-search.ts';
import { filterDocs } from './metadata-filter.ts';
import { formatQuery, parseQuery } from './query-parser.ts';
import { searchRegex } from './regex-search.ts';
import { existenceTest, type ExistenceTest } from './regex-verify.ts';
import { checkCount, checkOptions, cleanFlags, escapeRegExp, resolveOptions, type SearchIndexOptions } from './search-options.ts';
import type { SegmentStorage } from './segment-storage.ts';
import { TokenCountCache } from './token-count-cache.ts';
import { formatPlan, planLiteral, planRegex, requiredLiteral, type TrigramPlan } from './trigram-plan.ts';
import type {
  MatchOptions, MatchResults, QueryOptions, SearchDocument, SearchResults, StoredDocument,
} from './types.ts';

/** Statistics of a {@link SearchIndex}. */
export interface SearchIndexStats {
  readonly documents: number;
  readonly tokens: number;
  /** Immutable segments. */
  readonly segments: number;
  readonly mutableDocuments: number;
  readonly mutableTokens: number;
  /** Deleted documents still held by segments (purged by merges). */
  readonly deletedDocuments: number;
  readonly unsavedSegments: number;
  readonly damagedSegments: number;
  readonly pendingMerges: number;
  /** Segment bodies decoded in memory, and their bytes. */
  readonly loadedSegments: number;
  readonly loadedBytes: number;
  readonly queryCache: { readonly hits: number; readonly misses: number; readonly size: number };
  readonly segmentList: readonly {
    readonly id: number; readonly docs: number; readonly liveDocs: number; readonly tokens: number;
    readonly saved: boolean; readonly loaded: boolean; readonly damaged: boolean;
  }[];
}

/** Options of {@link SearchIndex.substring}. */
export interface SubstringOptions extends Omit<MatchOptions, 'flags'> {
  /** Match case exactly (default false). */
  readonly caseSensitive?: boolean;
}

/**
 * A code search index: BM25-ranked keyword queries over a code-aware tokenizer, and
 * trigram-accelerated regex and substring search with exact match ranges. Documents live in
 * immutable segments plus a small mutable one; writes are visible to the next query, merges
 * run when asked, and {@link flush} saves only what changed to a {@link SegmentStorage}.
 * Pure TypeScript, no DOM: run it in a worker.
 *
 * @example
 * ```ts
 * const index = await SearchIndex.open(kvSegmentStorage(kv));
 * index.update({ id: 'src/a.ts', path: 'src/a.ts', language: 'ts', text });
 * const { hits } = await index.query('parse* -test', { filters: { path: 'src/**' }, limit: 20 });
 * const { matches } = await index.regex('new\\s+Map<', { budgetMs: 50 });
 * await index.flush();
 * ```
 */
export class SearchIndex {
  readonly #state: IndexState;
  readonly #tokenCounts = new TokenCountCache();
  #lock: Promise<unknown> = Promise.resolve();
  #merging: Promise<unknown> = Promise.resolve();

  constructor(options: SearchIndexOptions = {}) {
    this.#state = new IndexState(resolveOptions(options));
  }

  /** Opens the index saved in `storage` (an empty one when nothing is saved yet). */
  static async open(storage: SegmentStorage, options?: Omit<SearchIndexOptions, 'storage'>): Promise<SearchIndex> {
    const index = new SearchIndex({ ...checkOptions(options), storage });
    await openIndex(index.#state, storage);
    return index;
  }

  /** Number of live documents. */
  get size(): number {
    return this.#state.liveDocs;
  }

  has(id: string): boolean {
    return this.#state.idToDoc.has(id);
  }

  /** Adds a document; its id must be new (use {@link update} to replace). */
  add(doc: SearchDocument): void {
    validateDocument(doc, 'doc');
    if (this.#state.idToDoc.has(doc.id)) {
      throw new ShelfError('INVALID_ARGUMENT', `doc.id ${JSON.stringify(doc.id)} is already indexed; use update() to replace it`);
    }
    this.#state.insert(doc);
  }

  /** Adds documents after validating all of them: one bad document means none is added. Returns how many were added. */
  addMany(docs: Iterable<SearchDocument>): number {
    const list = [...docs];
    const seen = new Set<string>();
    list.forEach((doc, i) => {
      validateDocument(doc, `docs[${i}]`);
      if (this.#state.idToDoc.has(doc.id) || seen.has(doc.id)) {
        throw new ShelfError('INVALID_ARGUMENT', `docs[${i}].id ${JSON.stringify(doc.id)} is already indexed or repeated`);
      }
      seen.add(doc.id);
    });
    for (const doc of list) this.#state.insert(doc);
    return list.length;
  }

  /**
   * Adds or replaces a document. A document whose text hash, length and metadata equal the
   * stored ones is left alone (no re-tokenizing).
   */
  update(doc: SearchDocument): 'added' | 'updated' | 'unchanged' {
    validateDocument(doc, 'doc');
    const state = this.#state;
    const hash = contentHash(doc.text);
    const existing = state.idToDoc.get(doc.id);
    if (existing !== undefined) {
      if (state.isUnchanged(existing, doc, hash)) return 'unchanged';
      state.deleteDoc(existing);
      state.idToDoc.delete(doc.id);
    }
    state.insert(doc, hash);
    return existing === undefined ? 'added' : 'updated';
  }

  /** Removes a document; false when the id was not indexed. */
  remove(id: string): boolean {
    if (typeof id !== 'string') throw new ShelfError('INVALID_ARGUMENT', `id must be a string, got ${typeof id}`);
    const docNum = this.#state.idToDoc.get(id);
    if (docNum === undefined) return false;
    this.#state.deleteDoc(docNum);
    this.#state.idToDoc.delete(id);
    return true;
  }

  /** The stored document, or undefined. */
  async get(id: string): Promise<StoredDocument | undefined> {
    const docNum = this.#state.idToDoc.get(id);
    return docNum === undefined ? undefined : this.#state.document(docNum);
  }

  /** Token count of any text, cached by content hash. */
  countTokens(text: string): number {
    return this.#tokenCounts.count(text);
  }

  /**
   * Keyword search (see {@link parseQuery} for the language), ranked by BM25.
   *
   * @example
   * ```ts
   * await index.query('"syntax tree" OR ast -test', { filters: { language: 'ts' }, offset: 20, limit: 20 });
   * ```
   */
  async query(text: string, queryOptions?: QueryOptions): Promise<SearchResults> {
    const options: QueryOptions = checkOptions(queryOptions);
    const node = parseQuery(text);
    const offset = checkCount(options.offset, 'options.offset', 0);
    const limit = checkCount(options.limit, 'options.limit', 20);
    const budgetMs = checkBudget(options.budgetMs, 'options.budgetMs');
    const highlight = options.highlight ?? true;
    const filters = normalizeFilters(options.filters);
    const key = JSON.stringify(['q', text, filters, offset, limit, highlight]);
    const cached = this.#state.queryCache.get(key) as SearchResults | undefined;
    if (cached !== undefined) return cached;
    const budget = new QueryBudget(budgetMs, options.signal, 'query');
    const version = this.#state.version;
    const views = await this.#state.views((head) => filterDocs(head, filters));
    const stats = { docs: this.#state.liveDocs, tokens: this.#state.liveTokens };
    const found = searchKeyword(node, views, stats, { offset, limit, highlight }, budget);
    const results: SearchResults = { ...found, query: formatQuery(node), elapsedMs: budget.elapsed() };
    if (!results.truncated && version === this.#state.version) this.#state.queryCache.set(key, results);
    return results;
  }

  /**
   * Regular-expression search: a trigram plan picks candidate documents, the real RegExp
   * verifies them and reports exact ranges. Without usable trigrams it scans, within the
   * time budget (default `regexBudgetMs`).
   */
  async regex(pattern: string, matchOptions?: MatchOptions): Promise<MatchResults> {
    const options: MatchOptions = checkOptions(matchOptions);
    if (typeof pattern !== 'string' || pattern === '') throw new ShelfError('INVALID_ARGUMENT', 'pattern must be a non-empty string');
    const flags = cleanFlags(options.flags);
    let regex: RegExp;
    try {
      regex = new RegExp(pattern, `${flags}g`);
    } catch (error) {
      throw new ShelfError('INVALID_ARGUMENT', `pattern is not a valid regular expression: ${(error as Error).message}`, { cause: error });
    }
    const verify = { literal: requiredLiteral(pattern, flags), exists: existenceTest(pattern, flags) };
    return this.#match('regex', pattern, regex, () => planRegex(pattern, flags), verify, options);
  }

  /** Literal substring search (case-insensitive unless `caseSensitive`), with exact ranges. */
  async substring(text: string, substringOptions?: SubstringOptions): Promise<MatchResults> {
    const options: SubstringOptions = checkOptions(substringOptions);
    if (typeof text !== 'string' || text === '') throw new ShelfError('INVALID_ARGUMENT', 'text must be a non-empty string');
    const caseSensitive = options.caseSensitive ?? false;
    const regex = new RegExp(escapeRegExp(text), caseSensitive ? 'g' : 'gi');
    const verify = { literal: caseSensitive && text.length >= 2 ? text : null, exists: null };
    return this.#match(`substring:${caseSensitive}`, text, regex, () => planLiteral(text, !caseSensitive), verify, options);
  }

  async #match(
    kind: string, source: string, regex: RegExp, plan: () => TrigramPlan,
    verify: { readonly literal: string | null; readonly exists: ExistenceTest | null }, options: MatchOptions,
  ): Promise<MatchResults> {
    const offset = checkCount(options.offset, 'options.offset', 0);
    const limit = checkCount(options.limit, 'options.limit', 100);
    const maxRanges = checkCount(options.maxRangesPerDocument, 'options.maxRangesPerDocument', 100, 10_000);
    const budgetMs = checkBudget(options.budgetMs, 'options.budgetMs') ?? this.#state.options.regexBudgetMs;
    const countAll = options.countAll ?? false;
    const filters = normalizeFilters(options.filters);
    const key = JSON.stringify([kind, source, regex.flags, filters, offset, limit, maxRanges, countAll]);
    const cached = this.#state.queryCache.get(key) as MatchResults | undefined;
    if (cached !== undefined) return cached;
    const budget = new QueryBudget(budgetMs, options.signal, kind === 'regex' ? 'regex search' : 'substring search');
    const version = this.#state.version;
    const trigramPlan = plan();
    const views = await this.#state.views((head) => filterDocs(head, filters));
    const page = { offset, limit, countAll, maxRanges, maxVerifyChars: this.#state.options.maxVerifyChars, ...verify };
    const found = await searchRegex(regex, trigramPlan, views, page, budget);
    const results: MatchResults = { ...found, plan: formatPlan(trigramPlan), elapsedMs: budget.elapsed() };
    if (!results.truncated && version === this.#state.version) this.#state.queryCache.set(key, results);
    return results;
  }

  /**
   * Loads the bodies of saved segments into memory ahead of the first query that needs
   * them (an opened index loads them lazily), one at a time with a turn of the event loop
   * between, so queries and writes are served in between. Stops once the body cache is
   * full or a load fails (a damaged segment is reported by the queries that touch it, as
   * without preloading), or once `options.signal` is aborted (a load under way finishes
   * first). Resolves the number of bodies loaded.
   */
  async preload(options?: { readonly signal?: AbortSignal }): Promise<number> {
    const { signal } = checkOptions(options);
    const state = this.#state;
    let loaded = 0;
    for (const entry of [...state.segments]) {
      // Stopping is not a failure: what is loaded stays, the rest loads on demand. The owner
      // aborts before closing the storage, so no read starts after that.
      if (signal?.aborted === true) break;
      if (state.bodies.bytes >= state.bodies.limitBytes) break;
      if (entry.damage !== null || entry.head === null || state.bodies.has(entry.id)) continue;
      if (!state.segments.includes(entry)) continue; // merged away meanwhile
      const evictions = state.bodies.evictions;
      try {
        await state.loadBody(entry);
      } catch {
        break;
      }
      loaded++;
      // An eviction means the cache is full: loading more would only push out what is there.
      if (state.bodies.evictions > evictions) break;
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    return loaded;
  }

  /** Merges the policy would run now. */
  pendingMerges(): number {
    return proposedMerges(this.#state, false).length;
  }

  /**
   * Runs proposed merges (at most `maxMerges`, default all), or with `force` merges every
   * segment into one. A merge works in slices of a few milliseconds and takes the lock that
   * {@link flush} takes only to swap its result in, so writes and flushes never wait for it.
   * Aborting `signal` stops it between slices with `ABORTED` (merges already swapped in
   * stay, and the index is unchanged by the one stopped) and before it writes to storage.
   */
  merge(options?: { readonly force?: boolean; readonly maxMerges?: number; readonly signal?: AbortSignal }): Promise<MergeReport> {
    const { force = false, maxMerges = Infinity, signal } = checkOptions(options);
    if (!(maxMerges >= 0)) throw new ShelfError('INVALID_ARGUMENT', `options.maxMerges must be ≥ 0, got ${String(maxMerges)}`);
    // Merges run one at a time, each holding the maintenance lock only for its final swap.
    const run = this.#merging.then(async () => {
      const merges = await mergeIndex(this.#state, force, maxMerges, (fn) => this.#exclusive(async () => fn()), signal);
      return { merges, segments: this.#state.segments.length };
    });
    this.#merging = run.catch(() => undefined);
    return run;
  }

  /** Saves changes to the storage given at construction (or {@link open}). */
  flush(): Promise<FlushReport> {
    const storage = this.#state.options.storage;
    if (storage === undefined) return Promise.reject(new ShelfError('INVALID_ARGUMENT', 'flush() needs options.storage'));
    return this.#exclusive(() => flushIndex(this.#state, storage));
  }

  /** Loads every segment and lists the damaged ones (with their document ids when known). */
  checkSegments(): Promise<SegmentProblem[]> {
    return this.#exclusive(() => checkIndex(this.#state));
  }

  /** Ids of the live documents of segment `segmentId`, or null when its head is unreadable. */
  segmentDocumentIds(segmentId: number): string[] | null {
    const entry = this.#state.segments.find((e) => e.id === segmentId);
    if (entry === undefined) throw new ShelfError('NOT_FOUND', `segmentId ${segmentId} is not a segment of this index`);
    return liveIds(entry);
  }

  /**
   * Replaces segment `segmentId` with one built from `docs` (re-tokenized): the recovery
   * path for a damaged segment. Its old documents leave the index first.
   */
  rebuildSegment(segmentId: number, docs: Iterable<SearchDocument>): Promise<void> {
    const list = [...docs];
    list.forEach((doc, i) => validateDocument(doc, `docs[${i}]`));
    return this.#exclusive(async () => rebuildIndexSegment(this.#state, segmentId, list));
  }

  stats(): SearchIndexStats {
    const s = this.#state;
    let deleted = 0;
    for (const e of s.segments) deleted += e.deletedDocs;
    return {
      documents: s.liveDocs,
      tokens: s.liveTokens,
      segments: s.segments.length,
      mutableDocuments: s.builder.liveDocs,
      mutableTokens: s.builder.liveTokens,
      deletedDocuments: deleted,
      unsavedSegments: s.segments.filter((e) => !e.saved).length,
      damagedSegments: s.segments.filter((e) => e.damage !== null || e.head === null).length,
      pendingMerges: this.pendingMerges(),
      loadedSegments: s.bodies.size,
      loadedBytes: s.bodies.bytes,
      queryCache: { hits: s.queryCache.hits, misses: s.queryCache.misses, size: s.queryCache.size },
      segmentList: s.segments.map((e) => ({
        id: e.id, docs: e.docs, liveDocs: e.docs - e.deletedDocs, tokens: e.liveTokens,
        saved: e.saved, loaded: s.bodies.has(e.id), damaged: e.damage !== null || e.head === null,
      })),
    };
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}
