export { OpfsBlobStore } from './opfs-blob-store.ts';
export { MemoryBlobStore, type BlobStore } from './blob-store.ts';
