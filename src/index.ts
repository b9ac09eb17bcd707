/**
 * codeshelf: a browser/edge-first storage runtime for code-intelligence apps.
 * The page calls {@link openShelf}; everything else runs in the storage worker.
 * @packageDocumentation
 */
export { openShelf, type OpenShelfOptions, type Shelf, type ShelfKv, type ShelfKvBytes, type ShelfCollections, type ShelfSnapshots } from './client/index.ts';
export { ShelfError, isShelfError, SHELF_ERROR_CODES, type ShelfErrorCode } from './errors/index.ts';
export * from './kv/index.ts';
export type { ShelfOptions, ShelfInfo, ShelfCollectionOptions } from './service/index.ts';
export * from './codec/index.ts';
export * from './collections/index.ts';
export * from './opfs/index.ts';
export * from './snapshot/index.ts';
export type { ShelfSearch, CallControl } from './client/index.ts';
export type { ShelfSearchOptions } from './service/search-service.ts';
export {
  SearchIndex, MemorySegmentStorage, kvSegmentStorage, tokenize, countTokens, TokenCountCache, parseQuery, planRegex,
  type SearchIndexOptions, type SearchIndexStats, type SearchDocument, type SearchFilters, type SearchHit, type SearchResults,
  type MatchHit, type MatchResults, type MatchOptions, type QueryOptions, type StoredDocument, type TextRange,
  type SegmentStorage, type Token,
} from './search/index.ts';
