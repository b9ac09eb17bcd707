import { IntVector } from './int-vector.ts';
import { LineIndex } from './line-index.ts';
import type { QueryNode } from './query-parser.ts';
import { TermInterner } from './term-interner.ts';
import { charClass, MAX_TOKEN_LENGTH, scanTokens } from './tokenizer.ts';
import type { TextRange } from './types.ts';

/** A phrase to highlight, with the source of the RegExp that finds its candidate spots. @internal */
export interface HighlightPhrase {
  readonly terms: readonly string[];
  readonly offsets: readonly number[];
  readonly pattern: string;
}

/** The positive parts of a query, for highlighting. @internal */
export interface HighlightSpec {
  readonly terms: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  /** Source of the RegExp that finds candidate spots of the terms and prefixes (longest first), or null without any. */
  readonly pattern: string | null;
  readonly phrases: readonly HighlightPhrase[];
}

const escapeTerm = (t: string) => t.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** Collects the terms, prefixes and phrases not under a negation, and their candidate patterns (once per query). @internal */
export function highlightSpec(node: QueryNode): HighlightSpec {
  const terms = new Set<string>();
  const prefixes: string[] = [];
  const phrases: HighlightPhrase[] = [];
  const walk = (n: QueryNode) => {
    switch (n.kind) {
      case 'term':
        terms.add(n.term);
        break;
      case 'prefix':
        prefixes.push(n.prefix);
        break;
      case 'phrase':
        // Terms separated by optional non-word characters: `new Map`, `newMap`, `new_map`.
        phrases.push({ terms: n.terms, offsets: n.offsets, pattern: n.terms.map(escapeTerm).join('[^A-Za-z0-9\\u00C0-\\uFFFF]*?') });
        break;
      case 'and':
      case 'or':
        n.children.forEach(walk);
        break;
      default:
        break;
    }
  };
  walk(node);
  const words = [...terms, ...prefixes].map(escapeTerm).sort((a, b) => b.length - a.length);
  return { terms, prefixes, pattern: words.length === 0 ? null : words.join('|'), phrases };
}

/**
 * Ranges of the tokens in `text` that match the query's positive terms and prefixes, and of
 * complete phrase occurrences, in text order, at most `max`. Only the page of hits being
 * returned pays for this, and never a full tokenization: a case-insensitive RegExp finds
 * candidate spots and only the identifier around each is tokenized to confirm. Lines and
 * columns come from `lines`, which a caller may keep for the same text across queries.
 * @internal
 */
export function highlightText(text: string, spec: HighlightSpec, lines = new LineIndex(text), max = 64): TextRange[] {
  const spans = new IntVector(128); // `start, end` pairs
  if (spec.pattern !== null) termSpans(text, spec, spec.pattern, max, spans);
  const termCount = spans.length;
  for (const phrase of spec.phrases) phraseSpans(text, phrase, max, spans);
  const data = spans.data;
  const count = spans.length >> 1;
  let order: number[] | null = null;
  if (spans.length > termCount) {
    // Term spans come sorted and disjoint; phrase spans have to be sorted in.
    order = [];
    for (let i = 0; i < count; i++) order.push(i);
    order.sort((a, b) => data[a * 2]! - data[b * 2]! || data[b * 2 + 1]! - data[a * 2 + 1]!);
  }
  const out: TextRange[] = [];
  let coveredTo = -1;
  for (let k = 0; k < count && out.length < max; k++) {
    const i = order === null ? k : order[k]!;
    const start = data[i * 2]!;
    const end = data[i * 2 + 1]!;
    if (end <= coveredTo) continue; // a part inside an already highlighted identifier
    const { line, column } = lines.locate(start);
    out.push({ line, column, length: end - start, offset: start });
    coveredTo = Math.max(coveredTo, end);
  }
  return out;
}

const OTHER_CLASS = 0;
const PLAIN = /^[A-Za-z0-9]+$/;

/** Compiled candidate patterns by source; small, cleared when full. */
const patternCache = new Map<string, RegExp>();

function cachedPattern(source: string): RegExp {
  let re = patternCache.get(source);
  if (re === undefined) {
    re = new RegExp(source, 'gi');
    if (patternCache.size >= 64) patternCache.clear();
    patternCache.set(source, re);
  }
  return re;
}

/**
 * Term and prefix spans, appended to `out` as `start, end` pairs: a case-insensitive RegExp
 * finds candidate spots (fast, native), and only the identifier around each spot is
 * tokenized to confirm that a matching token starts there. It stops after `max` spans, so a
 * frequent term in a large file costs little.
 */
function termSpans(text: string, spec: HighlightSpec, pattern: string, max: number, out: IntVector): void {
  const re = cachedPattern(pattern);
  const runTokens = new IntVector(48); // `start, end, kind` of the tokens of the identifier run around a candidate
  let found = 0;
  let identEnd = -1;
  let coveredTo = -1;
  re.lastIndex = 0;
  while (found < max) {
    const m = re.exec(text);
    if (m === null) break;
    const at = m.index;
    re.lastIndex = at + 1;
    if (at < coveredTo) continue;
    // Fast path: the match is a whole identifier of ASCII letters and digits equal to a
    // term (lowercased). Its lowercase is then a token (its only part, or the whole
    // identifier when it has several parts) and no longer token starts there.
    const len = m[0].length;
    if (
      len <= MAX_TOKEN_LENGTH && (at === 0 || charClass(text.charCodeAt(at - 1)) === OTHER_CLASS) &&
      (at + len === text.length || charClass(text.charCodeAt(at + len)) === OTHER_CLASS) && PLAIN.test(m[0]) &&
      spec.terms.has(m[0].toLowerCase())
    ) {
      out.push(at);
      out.push(at + len);
      found++;
      coveredTo = at + len;
      continue;
    }
    if (at >= identEnd) {
      // Tokenize the run of identifier characters (and hyphens) around the spot, in place.
      identEnd = runEnd(text, at);
      runTokens.clear();
      scanTokens(text, null, null, null, runTokens, runStart(text, at), identEnd);
    }
    const tokens = runTokens.data;
    let best = -1;
    for (let t = 0; t < runTokens.length; t += 3) {
      const end = tokens[t + 1]!;
      if (tokens[t] !== at || end <= best) continue;
      const term = text.slice(at, end).toLowerCase();
      if (spec.terms.has(term) || spec.prefixes.some((p) => term.startsWith(p))) best = end;
    }
    if (best < 0) continue;
    out.push(at);
    out.push(best);
    found++;
    coveredTo = best;
  }
}

/** Identifier-run start at or before `at`. */
function runStart(text: string, at: number): number {
  let a = at;
  while (a > 0 && charClass(text.charCodeAt(a - 1)) !== OTHER_CLASS) a--;
  return a;
}

/** Identifier-run end at or after `at`. */
function runEnd(text: string, at: number): number {
  let b = at;
  while (b < text.length && charClass(text.charCodeAt(b)) !== OTHER_CLASS) b++;
  return b;
}

/**
 * Spans of the tokens of complete occurrences of one phrase. Candidates come from one
 * RegExp over the whole phrase (its terms separated by optional non-word characters, which
 * covers `new Map`, `newMap` and `new_map` alike); each is confirmed by tokenizing just the
 * identifiers it covers.
 */
function phraseSpans(text: string, phrase: HighlightPhrase, max: number, out: IntVector): void {
  const re = cachedPattern(phrase.pattern);
  let found = 0;
  re.lastIndex = 0;
  while (found < max) {
    const m = re.exec(text);
    if (m === null) break;
    re.lastIndex = m.index + 1;
    const from = runStart(text, m.index);
    const window = text.slice(from, runEnd(text, m.index + m[0].length));
    const interner = new TermInterner();
    const ids = new IntVector(64);
    const positions = new IntVector(64);
    const spans = new IntVector(192);
    scanTokens(window, interner, ids, positions, spans);
    const at = new Map<string, number>();
    for (let t = 0; t < ids.length; t++) at.set(`${positions.data[t]}:${interner.terms[ids.data[t]!]}`, t);
    for (let t = 0; t < ids.length; t++) {
      if (from + spans.data[t * 3]! !== m.index || interner.terms[ids.data[t]!] !== phrase.terms[0]) continue;
      const start = positions.data[t]!;
      const parts: number[] = [];
      for (let i = 0; i < phrase.terms.length; i++) {
        const idx = at.get(`${start + phrase.offsets[i]!}:${phrase.terms[i]}`);
        if (idx === undefined) break;
        parts.push(idx);
      }
      if (parts.length === phrase.terms.length) {
        for (const idx of parts) {
          out.push(from + spans.data[idx * 3]!);
          out.push(from + spans.data[idx * 3 + 1]!);
        }
        found += parts.length;
        re.lastIndex = from + spans.data[parts[parts.length - 1]! * 3 + 1]!;
        break;
      }
    }
  }
}
