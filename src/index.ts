/**
 * codeshelf: a browser/edge-first storage runtime for code-intelligence apps.
 * The page calls {@link openShelf}; everything else runs in the storage worker.
 * @packageDocumentation
 */
export { openShelf, type OpenShelfOptions, type Shelf, type ShelfKv, type ShelfKvBytes } from './client/index.ts';
export { ShelfError, isShelfError, SHELF_ERROR_CODES, type ShelfErrorCode } from './errors/index.ts';
export * from './kv/index.ts';
export type { ShelfOptions, ShelfInfo } from './service/index.ts';
