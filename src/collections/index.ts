export { CollectionEngine, type CollectionEngineOptions, type FindOptions } from './engine.ts';
export { ByteLru } from '../cache/index.ts';
export { KvBlobStore } from './kv-blob-store.ts';
export { compileFilter } from './filter.ts';
export { encodeCollectionFile, decodeCollectionBytes, type CollectionHeader } from './collection-file.ts';
export type { Doc, Filter, FieldCondition, CollectionState, CollectionStats } from './types.ts';
