import type { KvOpKind, OpStats } from './types.ts';

const KINDS: readonly KvOpKind[] = [
  'get', 'getMany', 'set', 'delete', 'has', 'count', 'clear', 'batch', 'scan', 'transaction',
];

/** Counts operations, bytes and latency for {@link KvStore.stats}. @internal */
export class StatsRecorder {
  readonly #ops = new Map<KvOpKind, { count: number; errors: number; totalMs: number }>(
    KINDS.map((k) => [k, { count: 0, errors: 0, totalMs: 0 }]),
  );
  bytesRead = 0;
  bytesWritten = 0;
  keysWritten = 0;
  conflicts = 0;

  /** Times `run` and counts it under `kind`, including failures. */
  async measure<T>(kind: KvOpKind, run: () => Promise<T>): Promise<T> {
    const entry = this.#ops.get(kind)!;
    const started = performance.now();
    try {
      return await run();
    } catch (error) {
      entry.errors++;
      throw error;
    } finally {
      entry.count++;
      entry.totalMs += performance.now() - started;
    }
  }

  snapshot(): Record<KvOpKind, OpStats> {
    const out = {} as Record<KvOpKind, OpStats>;
    for (const [kind, e] of this.#ops) {
      out[kind] = { count: e.count, errors: e.errors, totalMs: e.totalMs, meanMs: e.count ? e.totalMs / e.count : 0 };
    }
    return out;
  }
}
