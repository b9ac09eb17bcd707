export { openShelf, type OpenShelfOptions, type Shelf, type ShelfKv, type ShelfKvBytes, type ShelfCollections } from './open-shelf.ts';
