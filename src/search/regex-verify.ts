import { parseTopLevel } from './regex-parser.ts';

/**
 * A faster equivalent of `regex.test(text)` for patterns that begin with a character class
 * and contain a literal, e.g. `[A-Z]\w+Error\b`. V8 cannot skip ahead to such a pattern's
 * literal, so it tries the class at every position and backtracks `\w+` from each one (a
 * second per 70 MB of code). Rewritten as `Error(?<=[A-Z]\w+Error)(?=\b)` — the literal
 * first, the part before it as a lookbehind that ends with the literal, the part after it
 * as a lookahead — V8 scans for the literal and checks the rest only around each hit.
 *
 * It answers only "is there a match": a document matches the rewrite exactly when it
 * matches the pattern (for a pattern `P L S` with literal `L`, a match needs `L` at some
 * `i` with a `P` match ending at `i` and an `S` match starting after `L`). Patterns with
 * back-references (whose groups would move into a lookaround) or a top-level alternation
 * are left alone, as are patterns that already start with a literal.
 * @internal
 */
export function existenceRegex(pattern: string, flags: string): RegExp | null {
  if (/\\(?:[0-9]|k<|c)/.test(pattern)) return null; // back-references, and escapes whose meaning depends on what follows
  const top = parseTopLevel(pattern, flags);
  if (top === null || top.items.length < 2 || top.items[0]!.t === 'lit') return null;
  const { items, spans } = top;
  let best: [number, number] | null = null;
  let bestLength = 0;
  for (let i = 0; i < items.length; i++) {
    if (items[i]!.t !== 'lit') continue;
    let j = i;
    let length = 0;
    while (j < items.length && items[j]!.t === 'lit') length += (items[j++] as { s: string }).s.length;
    if (length > bestLength) {
      best = [i, j];
      bestLength = length;
    }
    i = j;
  }
  if (best === null || bestLength < 2 || best[0] === 0) return null;
  const literal = pattern.slice(spans[best[0]]![0], spans[best[1] - 1]![1]);
  const before = pattern.slice(0, spans[best[0]]![0]);
  const after = best[1] < items.length ? pattern.slice(spans[best[1]]![0]) : '';
  const source = `${literal}(?<=${before}${literal})${after === '' ? '' : `(?=${after})`}`;
  try {
    return new RegExp(source, flags);
  } catch {
    return null; // e.g. Annex B syntax that is not allowed inside a lookaround
  }
}
