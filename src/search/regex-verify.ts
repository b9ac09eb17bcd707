import { LiteralFinder } from './literal-finder.ts';
import { parseTopLevel } from './regex-parser.ts';

/** Answers `regex.test(text)` for one pattern, faster than the RegExp itself. @internal */
export interface ExistenceTest {
  test(text: string): boolean;
  /**
   * Where the pattern's next match can start, for patterns whose matches start on the line
   * of their literal (absent for others): an offset `p ≥ from` such that no match starts in
   * `[from, p)` while one starts at or after `p` on that line, or -1 when no match starts
   * at or after `from`. A RegExp run from `p` then finds the next match without trying every
   * position before it, which V8 does for a pattern that starts with a class (`[A-Z]\w+Error`).
   */
  readonly seek?: (text: string, from: number) => number;
}

/**
 * The case-sensitive existence test: each occurrence of the literal `L` of a pattern
 * `P L S`, found with a {@link LiteralFinder}, is checked by a sticky RegExp
 * `(?<=P L)(?=S)` placed right after it.
 */
class LiteralAnchoredTest implements ExistenceTest {
  readonly #finder: LiteralFinder;
  readonly #around: RegExp;
  readonly seek?: (text: string, from: number) => number;

  /** `lineBound`: the part before the literal cannot match a newline. */
  constructor(literal: string, around: RegExp, lineBound: boolean) {
    this.#finder = new LiteralFinder(literal);
    this.#around = around;
    if (lineBound) this.seek = (text, from) => this.#seek(text, from);
  }

  test(text: string): boolean {
    return this.#anchor(text, 0) !== -1;
  }

  /** The first occurrence of the literal at or after `from` with a whole match around it, or -1. */
  #anchor(text: string, from: number): number {
    const finder = this.#finder;
    const length = finder.literal.length;
    for (let at = finder.indexIn(text, from); at !== -1; at = finder.indexIn(text, at + 1)) {
      this.#around.lastIndex = at + length;
      if (this.#around.test(text)) return at;
    }
    return -1;
  }

  /**
   * A match starting at `s ≥ from` holds its literal at some `j ≥ s`, which passes the
   * check around it, so `j` is at or after the first such occurrence `i`; the part before the
   * literal spans `[s, j)` without a newline, so `s` is on `j`'s line, at or after the start
   * of `i`'s line. The check's lookbehind may also accept an `i` whose part before starts
   * ahead of `from`, which only makes the bound lower.
   */
  #seek(text: string, from: number): number {
    const i = this.#anchor(text, from);
    if (i === -1) return -1;
    return Math.max(from, i === 0 ? 0 : text.lastIndexOf('\n', i - 1) + 1);
  }
}

/**
 * Whether the pattern source `source` (a top-level part of a pattern) can never match a
 * string holding a newline. Conservative: anything not plainly safe answers false (`\s`,
 * `\W`, `\D`, negated classes, `.` under `s`, escapes of code points or of a raw line break,
 * class ranges that span U+000A, modifier groups such as `(?s:…)`, `v`-mode class syntax).
 * @internal
 */
export function cannotMatchNewline(source: string, flags: string): boolean {
  if (flags.includes('v')) return false;
  const dotAll = flags.includes('s');
  // Escapes that stand for characters other than a newline, or for no character.
  // (A backslash before a raw line break is an identity escape for that break.)
  const safeEscape = (e: string | undefined) =>
    e !== undefined && e !== '\n' && e !== '\r' && (e === 'w' || e === 'd' || e === 'b' || e === 'B' || !/[A-Za-z0-9]/.test(e));
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\n' || c === '\r') return false;
    if (c === '\\') {
      if (!safeEscape(source[++i])) return false;
    } else if (c === '.') {
      if (dotAll) return false;
    } else if (c === '(' && source[i + 1] === '?') {
      // Groups that only group or look around; anything else, such as a modifier group
      // `(?s:.)` that lets `.` match a newline, is not known to be safe.
      const rest = source.slice(i + 2, i + 4);
      if (!/^(?::|=|!|<=|<!|<[A-Za-z_$])/.test(rest)) return false;
    } else if (c === '[') {
      if (source[i + 1] === '^') return false;
      // A class: its members, and ranges whose ends are known characters.
      let prev = -1;
      for (i++; i < source.length && source[i] !== ']'; i++) {
        let code: number;
        if (source[i] === '\\') {
          const e = source[++i];
          if (e === 'w' || e === 'd') {
            prev = -1;
            continue;
          }
          if (e === undefined || /[A-Za-z0-9]/.test(e)) return false;
          code = e.charCodeAt(0);
        } else if (source[i] === '-' && prev >= 0 && i + 1 < source.length && source[i + 1] !== ']') {
          const end = source[i + 1]!;
          if (end === '\\' || (prev <= 10 && end.charCodeAt(0) >= 10)) return false;
          i++;
          prev = -1;
          continue;
        } else code = source.charCodeAt(i);
        if (code === 10 || code === 13) return false;
        prev = code;
      }
    }
  }
  return true;
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
    if (!flags.includes('i')) {
      return new LiteralAnchoredTest(literal, new RegExp(`(?<=${before}${source})${lookahead}`, `${flags}y`), cannotMatchNewline(before, flags));
    }
    return items[0]!.t === 'lit' ? null : new RegExp(`${source}(?<=${before}${source})${lookahead}`, flags);
  } catch {
    return null; // e.g. Annex B syntax that is not allowed inside a lookaround
  }
}
