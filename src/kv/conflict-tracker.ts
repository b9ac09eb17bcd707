import { inRange } from './range.ts';
import type { ResolvedRange } from './types.ts';

/**
 * Optimistic concurrency bookkeeping, BadgerDB style. Every write gets a sequence number;
 * a transaction remembers the sequence it started at, the keys it read and the ranges it
 * scanned. At commit, any write with a later sequence that touched those keys or ranges is
 * a conflict. Writes are logged only while some transaction is open, so bulk loading with
 * no transaction in flight costs nothing here.
 *
 * The tracker lives in the one storage worker that owns the database (the single-writer
 * rule), so it sees every write.
 * @internal
 */
export class ConflictTracker {
  #seq = 0;
  readonly #open = new Map<number, number>();
  #nextTxn = 0;
  #log: { seq: number; keys: readonly string[] | 'all' }[] = [];

  /** Starts tracking a transaction; returns its id and start sequence. */
  begin(): { id: number; startSeq: number } {
    const id = ++this.#nextTxn;
    this.#open.set(id, this.#seq);
    return { id, startSeq: this.#seq };
  }

  /** Stops tracking a transaction and drops log entries no open transaction needs. */
  end(id: number): void {
    this.#open.delete(id);
    if (this.#open.size === 0) {
      this.#log = [];
      return;
    }
    const oldest = Math.min(...this.#open.values());
    let drop = 0;
    while (drop < this.#log.length && this.#log[drop]!.seq <= oldest) drop++;
    if (drop) this.#log.splice(0, drop);
  }

  /** Records a write that is about to be applied. `'all'` means every key (clear). */
  record(keys: readonly string[] | 'all'): void {
    this.#seq++;
    if (this.#open.size > 0) this.#log.push({ seq: this.#seq, keys });
  }

  /** Returns a key (or `'*'`) written after `startSeq` that the transaction depended on, else null. */
  findConflict(startSeq: number, readKeys: ReadonlySet<string>, ranges: readonly ResolvedRange[]): string | null {
    for (const entry of this.#log) {
      if (entry.seq <= startSeq) continue;
      if (entry.keys === 'all') {
        if (readKeys.size > 0 || ranges.length > 0) return '*';
        continue;
      }
      for (const key of entry.keys) {
        if (readKeys.has(key)) return key;
        for (const range of ranges) if (inRange(key, range)) return key;
      }
    }
    return null;
  }
}
