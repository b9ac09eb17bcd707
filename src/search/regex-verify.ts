import { LiteralFinder } from './literal-finder.ts';
import { parseTopLevel } from './regex-parser.ts';

/** Answers `regex.test(text)` for one pattern, faster than the RegExp itself. @internal */
export interface ExistenceTest {
  test(text: string): boolean;
}

/**
 * The case-sensitive existence test: each occurrence of the literal `L` of a pattern
 * `P L S`, found with a {@link LiteralFinder}, is checked by a sticky RegExp
 * `(?<=P L)(?=S)` placed right after it.
 */
class LiteralAnchoredTest implements ExistenceTest {
  readonly #finder: LiteralFinder;
  readonly #around: RegExp;

  constructor(literal: string, around: RegExp) {
    this.#finder = new LiteralFinder(literal);
    this.#around = around;
  }

  test(text: string): boolean {
    const finder = this.#finder;
    const length = finder.literal.length;
    for (let at = finder.indexIn(text); at !== -1; at = finder.indexIn(text, at + 1)) {
      this.#around.lastIndex = at + length;
      if (this.#around.test(text)) return true;
    }
    return false;
  }
}

/**
 * A faster equivalent of `regex.test(text)` for patterns that contain a literal of at least
 * two characters at the top level, e.g. `[A-Z]\w+Error\b`. V8 cannot skip ahead to the
 * literal of a pattern that starts with a class, so it tries the class at every position
 * and backtracks `\w+` from each one (a second per 70 MB of code); and when the pattern does
 * start with its literal, V8 looks for it no faster than `indexOf`, which is slow for
 * literals that start with a common character (` extends `).
 *
 * A pattern `P L S` with literal `L` matches exactly when `L` occurs at some `i` with a `P`
 * match ending at `i` and an `S` match starting after `L`. Case-sensitive patterns are
 * tested that way: a {@link LiteralFinder} visits the occurrences of `L` and a sticky
 * `(?<=P L)(?=S)` checks the rest around each. Under `i` the literal's case is unknown, so
 * a pattern that starts with a class is rewritten as `L(?<=P L)(?=S)` instead — the literal
 * first, the part before it as a lookbehind that ends with the literal, the part after it as
 * a lookahead — and V8 scans for the literal and checks the rest only around each hit.
 *
 * It answers only "is there a match". Patterns with back-references (whose groups would move
 * into a lookaround) or a top-level alternation are left alone (null), as are patterns under
 * `i` that already start with a literal.
 * @internal
 */
export function existenceTest(pattern: string, flags: string): ExistenceTest | null {
  if (/\\(?:[0-9]|k<|c)/.test(pattern)) return null; // back-references, and escapes whose meaning depends on what follows
  const top = parseTopLevel(pattern, flags);
  if (top === null) return null;
  const { items, spans } = top;
  let best: [number, number] | null = null;
  let literal = '';
  for (let i = 0; i < items.length; i++) {
    if (items[i]!.t !== 'lit') continue;
    let j = i;
    let run = '';
    while (j < items.length && items[j]!.t === 'lit') run += (items[j++] as { s: string }).s;
    if (run.length > literal.length) {
      best = [i, j];
      literal = run;
    }
    i = j;
  }
  if (best === null || literal.length < 2) return null;
  const source = pattern.slice(spans[best[0]]![0], spans[best[1] - 1]![1]);
  const before = pattern.slice(0, spans[best[0]]![0]);
  const after = best[1] < items.length ? pattern.slice(spans[best[1]]![0]) : '';
  const lookahead = after === '' ? '' : `(?=${after})`;
  try {
    if (!flags.includes('i')) return new LiteralAnchoredTest(literal, new RegExp(`(?<=${before}${source})${lookahead}`, `${flags}y`));
    return items[0]!.t === 'lit' ? null : new RegExp(`${source}(?<=${before}${source})${lookahead}`, flags);
  } catch {
    return null; // e.g. Annex B syntax that is not allowed inside a lookaround
  }
}
