export { openShelf, type OpenShelfOptions, type Shelf, type ShelfKv, type ShelfKvBytes, type ShelfCollections, type ShelfSnapshots } from './open-shelf.ts';
export type { ShelfSearch, CallControl } from './search-client.ts';
