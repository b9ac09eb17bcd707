import { ShelfError } from '../errors/index.ts';

/** How often a query with an AbortSignal lets the event loop run, so an abort can arrive. */
const YIELD_EVERY_MS = 8;

function macrotask(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  // Node has setImmediate; typed through globalThis so browser builds need no Node types.
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (typeof immediate === 'function') return new Promise((resolve) => void immediate(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * A query's time budget and abort signal, checked between documents. Running out of time is
 * not an error (the caller returns what it has, flagged `truncated`); an abort is.
 * @internal
 */
export class QueryBudget {
  readonly #deadline: number;
  readonly #signal: AbortSignal | undefined;
  readonly #what: string;
  readonly started = performance.now();
  #lastYield = this.started;
  /** Set once the budget ran out. */
  expired = false;

  constructor(budgetMs: number | undefined, signal: AbortSignal | undefined, what: string) {
    this.#deadline = budgetMs === undefined || budgetMs === Infinity ? Infinity : this.started + budgetMs;
    this.#signal = signal;
    this.#what = what;
    this.throwIfAborted();
  }

  /** Throws `ABORTED` when the signal fired. */
  throwIfAborted(): void {
    if (this.#signal?.aborted) {
      throw new ShelfError('ABORTED', `${this.#what} was aborted`, { cause: this.#signal.reason });
    }
  }

  /** Checks the signal and the clock; true (and stays true) once the budget is spent. */
  spent(): boolean {
    this.throwIfAborted();
    if (!this.expired && this.#deadline !== Infinity && performance.now() >= this.#deadline) this.expired = true;
    return this.expired;
  }

  /** True when a long loop should `await pause()` to let an abort arrive. */
  shouldYield(): boolean {
    return this.#signal !== undefined && performance.now() - this.#lastYield >= YIELD_EVERY_MS;
  }

  /** Lets the event loop run, then re-checks the signal. */
  async pause(): Promise<void> {
    await macrotask();
    this.#lastYield = performance.now();
    this.throwIfAborted();
  }

  elapsed(): number {
    return performance.now() - this.started;
  }
}

/** Validates an optional budget in ms. @internal */
export function checkBudget(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new ShelfError('INVALID_ARGUMENT', `${where} must be a non-negative number of milliseconds, got ${String(value)}`);
  }
  return value;
}
