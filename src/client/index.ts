export { openShelf, type OpenShelfOptions, type Shelf, type ShelfKv, type ShelfKvBytes, type ShelfCollections, type ShelfSnapshots } from './open-shelf.ts';
