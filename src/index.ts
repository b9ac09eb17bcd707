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
