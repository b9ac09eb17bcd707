import { ShelfError } from '../errors/index.ts';
import { resolveMergePolicy, type MergePolicyOptions } from './merge-policy.ts';
import type { SegmentStorage } from './segment-storage.ts';

/** Options of {@link SearchIndex}. */
export interface SearchIndexOptions {
  /** Where {@link SearchIndex.flush} saves and from where segments load lazily. */
  readonly storage?: SegmentStorage;
  /** The mutable segment is sealed into an immutable one at this many tokens (default 8,388,608). */
  readonly segmentTokens?: number;
  /**
   * A query after a write freezes the mutable segment's new state; once it holds this many
   * tokens (default 32,768) the query seals it instead, so that cost stays small.
   */
  readonly mutableTokens?: number;
  /** Byte budget of decoded segment bodies kept in memory (default 256 MiB). */
  readonly cacheBytes?: number;
  /** Query cache time-to-live in ms (default 30,000; 0 turns it off). Every write clears it. */
  readonly queryCacheTtlMs?: number;
  /** Most cached query answers (default 256). */
  readonly queryCacheEntries?: number;
  /** Default time budget of regex and substring searches, in ms (default 2,000). */
  readonly regexBudgetMs?: number;
  /** Documents longer than this many UTF-16 code units are not verified by regex searches (default 4 Mi). */
  readonly maxVerifyChars?: number;
  readonly merge?: MergePolicyOptions;
}

/** @internal */
export interface ResolvedOptions {
  readonly storage: SegmentStorage | undefined;
  readonly segmentTokens: number;
  readonly mutableTokens: number;
  readonly cacheBytes: number;
  readonly queryCacheTtlMs: number;
  readonly queryCacheEntries: number;
  readonly regexBudgetMs: number;
  readonly maxVerifyChars: number;
  readonly merge: Required<MergePolicyOptions>;
}

function positive(value: unknown, where: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ShelfError('INVALID_ARGUMENT', `${where} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`);
  }
  return value;
}

/** Validates and fills in {@link SearchIndexOptions}. @internal */
export function resolveOptions(options: SearchIndexOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new ShelfError('INVALID_ARGUMENT', 'options must be an object');
  const storage = options.storage;
  if (storage !== undefined && (typeof storage?.get !== 'function' || typeof storage.put !== 'function' || typeof storage.delete !== 'function')) {
    throw new ShelfError('INVALID_ARGUMENT', 'options.storage must implement get, put and delete');
  }
  return {
    storage,
    segmentTokens: positive(options.segmentTokens, 'options.segmentTokens', 8 * 1024 * 1024),
    mutableTokens: positive(options.mutableTokens, 'options.mutableTokens', 32_768),
    cacheBytes: positive(options.cacheBytes, 'options.cacheBytes', 256 * 1024 * 1024),
    queryCacheTtlMs: positive(options.queryCacheTtlMs, 'options.queryCacheTtlMs', 30_000, true),
    queryCacheEntries: positive(options.queryCacheEntries, 'options.queryCacheEntries', 256),
    regexBudgetMs: positive(options.regexBudgetMs, 'options.regexBudgetMs', 2_000),
    maxVerifyChars: positive(options.maxVerifyChars, 'options.maxVerifyChars', 4 * 1024 * 1024),
    merge: resolveMergePolicy(options.merge),
  };
}

/**
 * The options argument of a call, `{}` when undefined. `null` and other non-objects are
 * refused rather than read as "defaults": a caller passing `null` meant something we cannot
 * guess, and reading a field of it would throw a bare TypeError instead. The search worker
 * hands options over unchanged, so the same check answers there.
 * @internal
 */
export function checkOptions<T extends object>(options: T | undefined, where = 'options'): T {
  // Every field of an options type is optional, so `{}` stands for "all defaults".
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object') {
    throw new ShelfError('INVALID_ARGUMENT', `${where} must be an object or undefined, got ${options === null ? 'null' : typeof options}`);
  }
  return options;
}

/** Validates an optional integer count (offset, limit). @internal */
export function checkCount(value: unknown, where: string, fallback: number, max = 100_000): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    if (value === Infinity && where.endsWith('limit')) return Infinity;
    throw new ShelfError('INVALID_ARGUMENT', `${where} must be an integer from 0 to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Validates RegExp flags and returns them without `g`, `y` and `d`. @internal */
export function cleanFlags(flags: unknown): string {
  if (flags === undefined) return '';
  if (typeof flags !== 'string' || !/^[gimsuydv]*$/.test(flags)) {
    throw new ShelfError('INVALID_ARGUMENT', `options.flags must be RegExp flags from "imsuv", got ${JSON.stringify(flags)}`);
  }
  return [...new Set(flags.replace(/[gyd]/g, ''))].join('');
}

/** Escapes a string for use as a literal in a RegExp. @internal */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
