/**
 * Public shapes of the search engine: documents, filters, options and results.
 */

/** A document to index. `id` is yours (a path, a symbol id); metadata fields are optional. */
export interface SearchDocument {
  /** Unique, non-empty; at most 4,096 UTF-16 code units. */
  readonly id: string;
  /** The text to tokenize and trigram-index. */
  readonly text: string;
  /** File path, matched by the `path` glob filter. */
  readonly path?: string;
  readonly language?: string;
  readonly kind?: string;
  readonly tags?: readonly string[];
  /** Any other string metadata, filtered through `filters.fields`. */
  readonly fields?: Readonly<Record<string, string>>;
}

/** A stored document as {@link SearchIndex.get} returns it. */
export interface StoredDocument extends SearchDocument {
  /** Number of tokens the text produced. */
  readonly tokens: number;
}

/**
 * Metadata filters, applied through per-segment hash indexes. Fields combine with AND; an
 * array lists alternatives (OR). `path` takes globs (`src/**\/*.ts`, `*.d.ts`, `{a,b}/*`); a
 * glob without `/` is matched against the file name only. The rest match exactly.
 */
export interface SearchFilters {
  readonly path?: string | readonly string[];
  readonly language?: string | readonly string[];
  readonly kind?: string | readonly string[];
  /** Documents having any of these tags. */
  readonly tag?: string | readonly string[];
  readonly fields?: Readonly<Record<string, string | readonly string[]>>;
}

/** A span to highlight. `line` and `column` are 0-based, in UTF-16 code units; `offset` is from the start of the text. */
export interface TextRange {
  readonly line: number;
  readonly column: number;
  readonly length: number;
  readonly offset: number;
}

/** Options shared by every query. */
export interface QueryControl {
  readonly filters?: SearchFilters;
  /** Results to skip (default 0). */
  readonly offset?: number;
  /** Results to return (default 20 for keyword queries, 100 for regex and substring). */
  readonly limit?: number;
  /** Aborting it rejects the query with `ABORTED`. */
  readonly signal?: AbortSignal;
  /** Time budget in ms, checked between documents; when spent, the results so far come back with `truncated: true`. */
  readonly budgetMs?: number;
}

/** Options of {@link SearchIndex.query}. */
export interface QueryOptions extends QueryControl {
  /** Compute highlight ranges for the returned hits (default true). */
  readonly highlight?: boolean;
}

/** One ranked keyword hit. */
export interface SearchHit {
  readonly id: string;
  readonly score: number;
  /** Occurrences of the positive query terms (at most 64 per hit). */
  readonly ranges: readonly TextRange[];
}

/** The answer to a keyword query. */
export interface SearchResults {
  /** The page `[offset, offset + limit)` of hits, best first. */
  readonly hits: readonly SearchHit[];
  /** Documents matching the query and filters. */
  readonly total: number;
  /** True when the time budget ran out: `total` and `hits` cover only the documents examined. */
  readonly truncated: boolean;
  /** The parsed query, normalized (for display and debugging). */
  readonly query: string;
  readonly elapsedMs: number;
}

/** Options of {@link SearchIndex.regex} and {@link SearchIndex.substring}. */
export interface MatchOptions extends QueryControl {
  /** RegExp flags (`i`, `m`, `s`, `u`, `v`); `g`, `y` and `d` are ignored. */
  readonly flags?: string;
  /** Keep verifying after `offset + limit` matching documents so `total` is exact (default false). */
  readonly countAll?: boolean;
  /** Match ranges kept per document (default 100). */
  readonly maxRangesPerDocument?: number;
}

/** One document with its exact match ranges. */
export interface MatchHit {
  readonly id: string;
  readonly ranges: readonly TextRange[];
}

/** The answer to a regex or substring search. */
export interface MatchResults {
  /** Matching documents in index order (oldest first), after `offset`. */
  readonly matches: readonly MatchHit[];
  /** Matching documents found; exact when `complete`. */
  readonly total: number;
  /** True when every candidate was verified. */
  readonly complete: boolean;
  /** True when the time budget ran out or a document was too long to verify. */
  readonly truncated: boolean;
  /** Documents the trigram plan admitted. */
  readonly candidates: number;
  /** Candidates checked with the real RegExp. */
  readonly verified: number;
  /** The trigram plan, rendered. `ALL` means a (budgeted) scan. */
  readonly plan: string;
  readonly elapsedMs: number;
}
