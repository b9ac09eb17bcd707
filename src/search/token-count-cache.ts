import { ShelfError } from '../errors/index.ts';
import { contentKey } from './content-hash.ts';
import { countTokens } from './tokenizer.ts';

/** Options of {@link TokenCountCache}. */
export interface TokenCountCacheOptions {
  /** Most texts remembered (default 10,000); the least recently used is dropped first. */
  readonly maxEntries?: number;
}

/**
 * Token counts keyed by content hash and length, so text that did not change is never
 * tokenized again (budgeting LLM context, stats, progress bars). Least recently used
 * entries are dropped beyond `maxEntries`.
 *
 * @example
 * ```ts
 * const counts = new TokenCountCache();
 * counts.count(source); // tokenizes
 * counts.count(source); // cache hit
 * ```
 */
export class TokenCountCache {
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;
  /** Lookups answered from the cache. */
  hits = 0;
  /** Lookups that had to tokenize. */
  misses = 0;

  constructor(options: TokenCountCacheOptions = {}) {
    const { maxEntries = 10_000 } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new ShelfError('INVALID_ARGUMENT', `options.maxEntries must be a positive integer, got ${String(maxEntries)}`);
    }
    this.#maxEntries = maxEntries;
  }

  /** Number of cached texts. */
  get size(): number {
    return this.#entries.size;
  }

  /** The token count of `text`, tokenizing only on a miss. */
  count(text: string): number {
    if (typeof text !== 'string') throw new ShelfError('INVALID_ARGUMENT', `text must be a string, got ${typeof text}`);
    const key = contentKey(text);
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      this.hits++;
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached;
    }
    this.misses++;
    const n = countTokens(text);
    this.remember(key, n);
    return n;
  }

  /** Records a count computed elsewhere (the index counts while it tokenizes). @internal */
  remember(key: string, count: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, count);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }
}
