export { StorageService, type ShelfOptions, type ShelfInfo, type ShelfCollectionOptions } from './storage-service.ts';
