/** A stored document: any msgpack-able object with a string `_id`. */
export interface Doc {
  _id: string;
  [field: string]: unknown;
}

/**
 * A condition on one field: equality, or operators. Equality is deep and of the same kind
 * (`{}` does not equal a `Date` or a `Map`), with `0` equal to `-0` and `NaN` to `NaN`;
 * paths follow own properties only (see `compileFilter`).
 */
export type FieldCondition =
  | unknown
  | {
      $eq?: unknown;
      $ne?: unknown;
      $gt?: number | string;
      $gte?: number | string;
      $lt?: number | string;
      $lte?: number | string;
      $in?: readonly unknown[];
      $nin?: readonly unknown[];
      $exists?: boolean;
    };

/** Field path (dots reach into nested objects) → condition; all must hold. */
export type Filter = Record<string, FieldCondition>;

/** Lifecycle of a collection in memory. */
export type CollectionState = 'unloaded' | 'loading' | 'loaded' | 'dirty';

/** Engine statistics. */
export interface CollectionStats {
  readonly memoryUsed: number;
  readonly memoryLimit: number;
  readonly loadedCollections: number;
  readonly totalCollections: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly evictions: number;
  readonly saves: number;
  readonly bytesWritten: number;
  readonly loads: number;
  readonly recoveredSaves: number;
  /** Blocks of saves deflated by helper workers (0 where none could start: they are compressed in place). */
  readonly blocksCompressedByHelpers: number;
  /** Blocks saves copied from the previous file as they were, instead of encoding them again. */
  readonly blocksReused: number;
  /** Saves that set out to keep blocks but could not read the previous file, and wrote every document instead (`lastReuseError` says why). */
  readonly reuseFailures: number;
  /**
   * Saves nobody waited for that failed: on the interval, or of a dirty collection about to
   * be evicted (the collection then stays loaded and dirty, and the write that went over the
   * memory limit still succeeds). The engine's `lastError` keeps the last error.
   */
  readonly backgroundSaveFailures: number;
}
