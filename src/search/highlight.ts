import { IntVector } from './int-vector.ts';
import type { QueryNode } from './query-parser.ts';
import { TermInterner } from './term-interner.ts';
import { charClass, LineCounter, MAX_TOKEN_LENGTH, scanTokens } from './tokenizer.ts';
import type { TextRange } from './types.ts';

/** The positive parts of a query, for highlighting. @internal */
export interface HighlightSpec {
  readonly terms: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  readonly phrases: readonly { readonly terms: readonly string[]; readonly offsets: readonly number[] }[];
}

/** Collects the terms, prefixes and phrases not under a negation. @internal */
export function highlightSpec(node: QueryNode): HighlightSpec {
  const terms = new Set<string>();
  const prefixes: string[] = [];
  const phrases: { terms: readonly string[]; offsets: readonly number[] }[] = [];
  const walk = (n: QueryNode) => {
    switch (n.kind) {
      case 'term':
        terms.add(n.term);
        break;
      case 'prefix':
        prefixes.push(n.prefix);
        break;
      case 'phrase':
        phrases.push(n);
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
  return { terms, prefixes, phrases };
}

/**
 * Ranges of the tokens in `text` that match the query's positive terms and prefixes, and of
 * complete phrase occurrences, in text order, at most `max`. Only the page of hits being
 * returned pays for this, and never a full tokenization: a case-insensitive RegExp finds
 * candidate spots and only the text around them is tokenized to confirm.
 * @internal
 */
export function highlightText(text: string, spec: HighlightSpec, max = 64): TextRange[] {
  const spans: number[][] = [];
  if (spec.terms.size > 0 || spec.prefixes.length > 0) spans.push(...termSpans(text, spec, max));
  for (const phrase of spec.phrases) spans.push(...phraseSpans(text, phrase, max));
  spans.sort((a, b) => a[0]! - b[0]! || b[1]! - a[1]!);
  const lines = new LineCounter(text);
  const out: TextRange[] = [];
  let coveredTo = -1;
  for (const [start, end] of spans) {
    if (out.length >= max) break;
    if (end! <= coveredTo) continue; // a part inside an already highlighted identifier
    const { line, column } = lines.locate(start!);
    out.push({ line, column, length: end! - start!, offset: start! });
    coveredTo = Math.max(coveredTo, end!);
  }
  return out;
}

const OTHER_CLASS = 0;
const PLAIN = /^[A-Za-z0-9]+$/;
const patternCache = new Map<string, RegExp>();

function candidatePattern(words: readonly string[]): RegExp {
  const alternatives = words
    .map((t) => t.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
    .sort((a, b) => b.length - a.length);
  const source = alternatives.join('|');
  let re = patternCache.get(source);
  if (re === undefined) {
    re = new RegExp(source, 'gi');
    if (patternCache.size > 64) patternCache.clear();
    patternCache.set(source, re);
  }
  return re;
}

/**
 * Term and prefix spans: a case-insensitive RegExp finds candidate spots (fast, native),
 * and only the identifier around each spot is tokenized to confirm that a matching token
 * starts there. It stops after `max` spans, so a frequent term in a large file costs little.
 */
function termSpans(text: string, spec: HighlightSpec, max: number): number[][] {
  const re = candidatePattern([...spec.terms, ...spec.prefixes]);
  const out: number[][] = [];
  const interner = new TermInterner();
  const ids = new IntVector(16);
  const positions = new IntVector(16);
  const spans = new IntVector(48);
  let identStart = -1;
  let identEnd = -1;
  let coveredTo = -1;
  re.lastIndex = 0;
  for (;;) {
    const m = re.exec(text);
    if (m === null || out.length >= max) break;
    const at = m.index;
    re.lastIndex = at + 1;
    if (at < coveredTo) continue;
    // Fast path: the match is a whole identifier of ASCII letters and digits equal to a
    // term (lowercased). Its lowercase is then a token (its only part, or the whole
    // identifier when it has several parts) and no longer token starts there.
    const len = m[0].length;
    if (
      len <= MAX_TOKEN_LENGTH && (at === 0 || charClass(text.charCodeAt(at - 1)) === OTHER_CLASS) &&
      (at + len === text.length || charClass(text.charCodeAt(at + len)) === OTHER_CLASS) && PLAIN.test(m[0])
    ) {
      const lower = m[0].toLowerCase();
      if (spec.terms.has(lower)) {
        out.push([at, at + len]);
        coveredTo = at + len;
        continue;
      }
    }
    if (at >= identEnd) {
      // Tokenize the run of identifier characters (and hyphens) around the spot.
      let a = at;
      while (a > 0 && charClass(text.charCodeAt(a - 1)) !== OTHER_CLASS) a--;
      let b = at;
      while (b < text.length && charClass(text.charCodeAt(b)) !== OTHER_CLASS) b++;
      identStart = a;
      identEnd = b;
      ids.clear();
      positions.clear();
      spans.clear();
      scanTokens(text.slice(a, b), interner, ids, positions, spans);
    }
    let best = -1;
    for (let t = 0; t < ids.length; t++) {
      if (identStart + spans.data[t * 3]! !== at) continue;
      const term = interner.terms[ids.data[t]!]!;
      if (!spec.terms.has(term) && !spec.prefixes.some((p) => term.startsWith(p))) continue;
      const end = identStart + spans.data[t * 3 + 1]!;
      if (end > best) best = end;
    }
    if (best < 0) continue;
    out.push([at, best]);
    coveredTo = best;
  }
  return out;
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

const escapeTerm = (t: string) => t.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/**
 * Spans of the tokens of complete occurrences of one phrase. Candidates come from one
 * RegExp over the whole phrase (its terms separated by optional non-word characters, which
 * covers `new Map`, `newMap` and `new_map` alike); each is confirmed by tokenizing just the
 * identifiers it covers.
 */
function phraseSpans(text: string, phrase: HighlightSpec['phrases'][number], max: number): number[][] {
  const source = phrase.terms.map(escapeTerm).join('[^A-Za-z0-9\\u00C0-\\uFFFF]*?');
  let re = patternCache.get(`phrase:${source}`);
  if (re === undefined) {
    re = new RegExp(source, 'gi');
    patternCache.set(`phrase:${source}`, re);
  }
  const out: number[][] = [];
  re.lastIndex = 0;
  for (;;) {
    const m = re.exec(text);
    if (m === null || out.length >= max) break;
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
      const found: number[] = [];
      for (let i = 0; i < phrase.terms.length; i++) {
        const idx = at.get(`${start + phrase.offsets[i]!}:${phrase.terms[i]}`);
        if (idx === undefined) break;
        found.push(idx);
      }
      if (found.length === phrase.terms.length) {
        for (const idx of found) out.push([from + spans.data[idx * 3]!, from + spans.data[idx * 3 + 1]!]);
        re.lastIndex = from + spans.data[found[found.length - 1]! * 3 + 1]!;
        break;
      }
    }
  }
  return out;
}
