export type {
  BatchOp, KeyRange, KvEntry, KvOpKind, KvStats, KvStore, KvTransaction, OpStats, ScanOptions,
  ScanPage, TransactionOptions,
} from './types.ts';
export type { KvLimits } from './validate.ts';
export type { KvStoreOptions } from './kv-store.ts';
export { createMemoryKv } from './memory-backend.ts';
export { openIndexedDbKv, type IndexedDbKvOptions } from './indexeddb-backend.ts';
export { prefixSuccessor } from './range.ts';
export {
  encodeKey, decodeKey, formatKey, defineKeySpace,
  type KeySegment, type KeySpace, type KeyFields, type KeyFieldType,
} from './key-codec.ts';
export { TypedKvStore, type TypedBatchOp, type TypedScanPage, type TypedTransaction } from './typed-store.ts';
export { LogBuffer, LOG_LEVELS, logKeys, createLogId, type LogEntry, type LogLevel, type LogBufferOptions } from './log-buffer.ts';
