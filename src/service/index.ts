export { StorageService, type ShelfOptions, type ShelfInfo } from './storage-service.ts';
