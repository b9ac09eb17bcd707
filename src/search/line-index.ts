/**
 * Turns offsets of one text into 0-based line and column (UTF-16 code units; only `\n` ends
 * a line). Line starts are found on demand: `locate` scans for newlines only as far as the
 * largest offset asked so far and answers by binary search, so offsets may come in any
 * order and a kept index answers later queries on the same text without scanning again.
 * @internal
 */
export class LineIndex implements Locator {
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

/** Turns text offsets into 0-based line and column. @internal */
export interface Locator {
  locate(offset: number): { line: number; column: number };
}

/**
 * The line of every position checkpoint of a segment's documents (see the tokenizer), in
 * the layout of the checkpoints (`cpStart`, `checkpoints`). One `indexOf` walk per text,
 * stopping at its last checkpoint: about 30 ms for 70 MB of code.
 * @internal
 */
export function checkpointLines(texts: readonly string[], cpStart: Uint32Array, checkpoints: Uint32Array): Uint32Array {
  const out = new Uint32Array(checkpoints.length);
  for (let d = 0; d < texts.length; d++) {
    const text = texts[d]!;
    let line = 0;
    let nl = text.indexOf('\n');
    for (let c = cpStart[d]!; c < cpStart[d + 1]!; c++) {
      const at = checkpoints[c]!;
      while (nl !== -1 && nl < at) {
        line++;
        nl = text.indexOf('\n', nl + 1);
      }
      out[c] = line;
    }
  }
  return out;
}

/**
 * Line and column of offsets in one document of a segment, from its checkpoints and their
 * lines: a binary search finds the last checkpoint at or before the offset, and only the
 * newlines between them are counted (a few hundred characters), never the text before. It
 * remembers the last offset located, so offsets in ascending order count from there, and
 * the start of its line, so a long (minified) line is searched back once.
 * @internal
 */
export class CheckpointLocator implements Locator {
  readonly #text: string;
  readonly #offsets: Uint32Array;
  readonly #lines: Uint32Array;
  /** Last offset located, its line, and where that line starts. */
  #at = 0;
  #line = 0;
  #lineStart = 0;

  /** `offsets` and `lines`: the document's checkpoints and their lines. */
  constructor(text: string, offsets: Uint32Array, lines: Uint32Array) {
    this.#text = text;
    this.#offsets = offsets;
    this.#lines = lines;
  }

  locate(offset: number): { line: number; column: number } {
    const text = this.#text;
    let from = 0;
    let line = 0;
    let lineStart = -1;
    if (this.#at <= offset) {
      from = this.#at;
      line = this.#line;
      lineStart = this.#lineStart;
    }
    // A checkpoint between the remembered offset and this one is a shorter walk.
    const offsets = this.#offsets;
    let lo = 0;
    let hi = offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offsets[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && offsets[lo - 1]! > from) {
      from = offsets[lo - 1]!;
      // Still on the remembered line (a long one): its start is known.
      if (this.#lines[lo - 1]! !== line) lineStart = -1;
      line = this.#lines[lo - 1]!;
    }
    let nl = text.indexOf('\n', from);
    while (nl !== -1 && nl < offset) {
      line++;
      lineStart = nl + 1;
      nl = text.indexOf('\n', nl + 1);
    }
    if (lineStart < 0) lineStart = offset === 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1;
    this.#at = offset;
    this.#line = line;
    this.#lineStart = lineStart;
    return { line, column: offset - lineStart };
  }
}
