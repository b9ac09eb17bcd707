/**
 * Code search: a code-aware tokenizer, an inverted index with BM25, a trigram index for
 * regex and substring search, segments with incremental updates and merges, and their
 * persistence. Pure TypeScript for a worker; see docs/search-notes.md.
 * @packageDocumentation
 */
export { SearchIndex, type SearchIndexStats, type SubstringOptions } from './search-index.ts';
export type { SearchIndexOptions } from './search-options.ts';
export type { FlushReport, SegmentProblem } from './index-persistence.ts';
export type { MergeReport } from './index-maintenance.ts';
export type {
  MatchHit, MatchOptions, MatchResults, QueryControl, QueryOptions, SearchDocument, SearchFilters, SearchHit,
  SearchResults, StoredDocument, TextRange,
} from './types.ts';
export { tokenize, countTokens, MAX_TOKEN_LENGTH, type Token, type TokenKind } from './tokenizer.ts';
export { TokenCountCache, type TokenCountCacheOptions } from './token-count-cache.ts';
export { contentHash, contentKey } from './content-hash.ts';
export { parseQuery, formatQuery, normalizeQuery, MAX_QUERY_LENGTH, type QueryNode } from './query-parser.ts';
export { planRegex, planLiteral, formatPlan, planAdmits, PLAN_ALL, PLAN_NONE, type TrigramPlan } from './trigram-plan.ts';
export { trigramKey, trigramKeyOf, TRIGRAM_SPACE } from './trigram.ts';
export { encodePostings, decodePostings } from './postings-codec.ts';
export { compileGlob } from './glob.ts';
export { findMerges, type MergePolicyOptions, type SegmentStat } from './merge-policy.ts';
export {
  MemorySegmentStorage, kvSegmentStorage, type SegmentStorage, type SegmentStorageOp,
} from './segment-storage.ts';
export { MANIFEST_FORMAT, type Manifest, type SegmentDescriptor } from './manifest.ts';
export { SEGMENT_FORMAT } from './segment-codec.ts';
