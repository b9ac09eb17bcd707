/**
 * Turns offsets of one text into 0-based line and column (UTF-16 code units; only `\n` ends
 * a line). Line starts are found on demand: `locate` scans for newlines only as far as the
 * largest offset asked so far and answers by binary search, so offsets may come in any
 * order and a kept index answers later queries on the same text without scanning again.
 * @internal
 */
export class LineIndex {
  readonly #text: string;
  /** Offsets where lines start, ascending; the first is 0. */
  readonly #starts: number[] = [0];
  /** The first newline not yet recorded in {@link #starts}, or -1 when all are. */
  #next: number;

  constructor(text: string) {
    this.#text = text;
    this.#next = text.indexOf('\n');
  }

  /** Approximate bytes held, the line table and a fixed overhead. */
  get byteLength(): number {
    return 64 + this.#starts.length * 8;
  }

  locate(offset: number): { line: number; column: number } {
    const starts = this.#starts;
    let next = this.#next;
    if (next !== -1 && next < offset) {
      const text = this.#text;
      do {
        starts.push(next + 1);
        next = text.indexOf('\n', next + 1);
      } while (next !== -1 && next < offset);
      this.#next = next;
    }
    // The line is the last start at or before the offset: usually the last one known, when
    // offsets come in order.
    let hi = starts.length - 1;
    if (starts[hi]! <= offset) return { line: hi, column: offset - starts[hi]! };
    let lo = 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, column: offset - starts[lo]! };
  }
}

/**
 * Line indexes kept for recently located texts of one segment, keyed by local id; the least
 * recently used go once the tables hold more than `maxBytes`. A table grows while it is used,
 * so the one handed out last is re-measured at the next access.
 * @internal
 */
export class LineIndexCache {
  readonly #entries = new Map<number, { readonly lines: LineIndex; bytes: number }>();
  readonly #maxBytes: number;
  #bytes = 0;
  #last: { readonly lines: LineIndex; bytes: number } | null = null;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Approximate bytes held by the kept tables. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of kept indexes. */
  get size(): number {
    return this.#entries.size;
  }

  /** The kept index of text `key`, or a new one for `text`. */
  get(key: number, text: string): LineIndex {
    const last = this.#last;
    if (last !== null) {
      this.#bytes += last.lines.byteLength - last.bytes;
      last.bytes = last.lines.byteLength;
    }
    const entries = this.#entries;
    let entry = entries.get(key);
    if (entry !== undefined) entries.delete(key);
    else {
      const lines = new LineIndex(text);
      entry = { lines, bytes: lines.byteLength };
      this.#bytes += entry.bytes;
    }
    entries.set(key, entry);
    for (const [k, old] of entries) {
      if (this.#bytes <= this.#maxBytes || old === entry) break;
      entries.delete(k);
      this.#bytes -= old.bytes;
    }
    this.#last = entry;
    return entry.lines;
  }
}
