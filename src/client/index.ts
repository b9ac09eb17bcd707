export { openShelf, type OpenShelfOptions, type Shelf, type ShelfKv, type ShelfKvBytes } from './open-shelf.ts';
