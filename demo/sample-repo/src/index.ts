export { LruCache, type CacheOptions } from './lru-cache';
export { Emitter } from './emitter';
export { formatStats } from './stats';
