import { ShelfError } from '../errors/index.ts';
import { defineKeySpace } from './key-codec.ts';
import type { TypedKvStore } from './typed-store.ts';

/** Log levels, lowest first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One log record. `id` and `timestamp` are filled in when missing. */
export interface LogEntry {
  id?: string;
  level: LogLevel;
  message: string;
  timestamp?: string;
  [field: string]: unknown;
}

/** Keys of log entries: `log:{level}:{id}`; ids are time-ordered so a level scans oldest first. */
export const logKeys = defineKeySpace('log', { level: 'string', id: 'string' });

let lastMs = 0;
let counter = 0;
/** A unique id whose string order is creation order within this thread. */
export function createLogId(): string {
  const now = Date.now();
  counter = now === lastMs ? counter + 1 : 0;
  lastMs = now;
  const random = Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');
  return `${now.toString(36).padStart(9, '0')}${counter.toString(36).padStart(4, '0')}${random}`;
}

/** Options of {@link LogBuffer}. */
export interface LogBufferOptions {
  /** Flush when this many entries are waiting (default 500). */
  readonly maxEntries?: number;
  /** Flush at least this often, in milliseconds (default 2,000; 0 turns the timer off). */
  readonly intervalMs?: number;
}

/**
 * Batches log entries and writes them to a KV store in one atomic batch per flush, by
 * count or by interval. A failed flush keeps its entries for the next one; `stop()`
 * flushes what is left.
 *
 * @example
 * ```ts
 * const logs = new LogBuffer(new TypedKvStore<LogEntry>(kv), { maxEntries: 500, intervalMs: 2000 });
 * logs.add({ level: 'info', message: 'crawl started' });
 * await logs.stop();
 * ```
 */
export class LogBuffer {
  readonly #store: TypedKvStore<LogEntry>;
  readonly #maxEntries: number;
  #pending: LogEntry[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #stopped = false;
  /** The last error of a timer-driven flush, if any (its entries were kept). */
  lastError: unknown = undefined;
  /** Entries written so far. */
  flushed = 0;

  constructor(store: TypedKvStore<LogEntry>, options: LogBufferOptions = {}) {
    const { maxEntries = 500, intervalMs = 2000 } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new ShelfError('INVALID_ARGUMENT', `options.maxEntries must be a positive integer, got ${String(maxEntries)}`);
    }
    if (!Number.isFinite(intervalMs) || intervalMs < 0) {
      throw new ShelfError('INVALID_ARGUMENT', `options.intervalMs must be a non-negative number, got ${String(intervalMs)}`);
    }
    this.#store = store;
    this.#maxEntries = maxEntries;
    if (intervalMs > 0) {
      this.#timer = setInterval(() => {
        this.flush().catch((error: unknown) => {
          this.lastError = error;
        });
      }, intervalMs);
    }
  }

  /** Entries waiting to be written. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Queues an entry; returns its key. Flushes in the background when the buffer is full. */
  add(entry: LogEntry): string {
    return this.addMany([entry])[0]!;
  }

  /**
   * Queues entries; returns their keys. All or nothing: every entry is checked (and its key
   * built) before any is queued, so one bad entry queues none and can never sit in the
   * buffer failing every later flush.
   */
  addMany(entries: readonly LogEntry[]): string[] {
    if (this.#stopped) throw new ShelfError('CLOSED', 'log buffer is stopped');
    if (!Array.isArray(entries)) throw new ShelfError('INVALID_ARGUMENT', 'entries must be an array');
    const ready = entries.map((entry, i) => this.#prepare(entry, entries.length === 1 ? 'entry' : `entries[${i}]`));
    for (const { full } of ready) this.#pending.push(full);
    if (this.#pending.length >= this.#maxEntries) {
      this.flush().catch((error: unknown) => {
        this.lastError = error;
      });
    }
    return ready.map((r) => r.key);
  }

  #prepare(entry: LogEntry, argument: string): { full: LogEntry; key: string } {
    if (entry === null || typeof entry !== 'object') throw new ShelfError('INVALID_ARGUMENT', `${argument} must be an object`);
    if (!LOG_LEVELS.includes(entry.level)) {
      throw new ShelfError('INVALID_ARGUMENT', `${argument}.level must be one of ${LOG_LEVELS.join(', ')}, got ${String(entry.level)}`);
    }
    if (typeof entry.message !== 'string') throw new ShelfError('INVALID_ARGUMENT', `${argument}.message must be a string`);
    if (entry.id !== undefined && (typeof entry.id !== 'string' || entry.id.length === 0)) {
      throw new ShelfError('INVALID_ARGUMENT', `${argument}.id must be a non-empty string when given`);
    }
    if (entry.timestamp !== undefined && typeof entry.timestamp !== 'string') {
      throw new ShelfError('INVALID_ARGUMENT', `${argument}.timestamp must be a string when given`);
    }
    const full: LogEntry = { ...entry, id: entry.id ?? createLogId(), timestamp: entry.timestamp ?? new Date().toISOString() };
    const key = logKeys.key({ level: full.level, id: full.id! });
    this.#store.encode(full, argument);
    return { full, key };
  }

  /** Writes everything queued so far in one batch. On failure the entries stay queued. */
  flush(): Promise<void> {
    const run = async () => {
      const entries = this.#pending;
      if (!entries.length) return;
      this.#pending = [];
      try {
        await this.#store.batch(entries.map((e) => ({ type: 'put', key: logKeys.key({ level: e.level, id: e.id! }), value: e })));
        this.flushed += entries.length;
      } catch (error) {
        this.#pending = entries.concat(this.#pending);
        throw error;
      }
    };
    this.#flushing = this.#flushing.catch(() => undefined).then(run);
    return this.#flushing;
  }

  /** Stops the timer and flushes what is left. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
