import { IntVector } from './int-vector.ts';
import { LineIndex, type Locator } from './line-index.ts';
import type { QueryNode } from './query-parser.ts';
import { TermInterner } from './term-interner.ts';
import type { SegmentBody } from './segment.ts';
import { CHECKPOINT_SHIFT, charClass, isWordUnit, MAX_TOKEN_LENGTH, scanTokens } from './tokenizer.ts';
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

/**
 * The parts of one text worth scanning, as sorted, disjoint `start, end` offset pairs: for
 * the terms, and for each phrase of the spec (null = scan the whole text). @internal
 */
export interface HighlightWindows {
  readonly terms: Int32Array | null;
  readonly phrases: readonly (Int32Array | null)[];
}

/** Past this many occurrences of the query's terms in one text, scanning it whole is cheaper than finding them. */
const MAX_LOCATED = 256;

/**
 * Scratch vectors, cleared at each use: highlighting runs synchronously and never nests
 * its uses of one vector, so it allocates no typed array per hit (a few per hit showed in
 * profiles).
 */
const blockScratch = new IntVector(256);
const windowScratch = new IntVector(256);
const spanScratch = new IntVector(256);
const runScratch = new IntVector(48);
const phraseIds = new IntVector(64);
const phrasePositions = new IntVector(64);
const phraseSpanScratch = new IntVector(192);

function scratch(v: IntVector): IntVector {
  v.clear();
  return v;
}

/**
 * Where in document `local` of `body` the spec's terms and phrases can be: the positions of
 * each term in the document (from its postings) map through the position checkpoints to
 * text windows, so highlighting scans a few hundred characters per occurrence instead of the
 * whole text. Returns null (scan everything) for prefixes, for terms frequent in the
 * document, or when the windows would cover most of the text anyway.
 * @internal
 */
export function highlightWindows(body: SegmentBody, local: number, spec: HighlightSpec): HighlightWindows | null {
  if (spec.prefixes.length > 0) return null;
  const text = body.texts[local]!;
  const count = body.checkpointCount(local);
  const budget = { left: MAX_LOCATED };
  let terms: Int32Array | null = new Int32Array(0);
  if (spec.terms.size > 0) {
    const blocks = scratch(blockScratch);
    for (const term of spec.terms) if (!postingBlocks(body, postingIn(body, local, term), 0, 0, count, budget, blocks)) return null;
    terms = blocksToWindows(body, local, text, count, blocks);
    if (terms === null) return null;
  }
  const phrases: (Int32Array | null)[] = [];
  for (const phrase of spec.phrases) {
    const blocks = scratch(blockScratch);
    const span = phrase.offsets[phrase.offsets.length - 1]!;
    // Located through its rarest term in this document (a phrase of a base64 run starts
    // with `a` or `0`, found everywhere).
    let rarest = 0;
    let posting = -1;
    let fewest = Infinity;
    for (let i = 0; i < phrase.terms.length && fewest > 0; i++) {
      const p = postingIn(body, local, phrase.terms[i]!);
      const freq = p < 0 ? 0 : body.freq(p);
      if (freq < fewest) {
        fewest = freq;
        rarest = i;
        posting = p;
      }
    }
    if (!postingBlocks(body, posting, phrase.offsets[rarest]!, span, count, budget, blocks)) return null;
    const windows = blocksToWindows(body, local, text, count, blocks);
    if (windows === null) return null;
    phrases.push(windows);
  }
  return { terms, phrases };
}

/** The posting of `term` for document `local`, or -1 when the document does not hold it. */
function postingIn(body: SegmentBody, local: number, term: string): number {
  const t = body.terms.findTerm(term);
  return t < 0 ? -1 : body.postingOf(t, local);
}

/**
 * Appends the checkpoint blocks of the spans `[q − back, q − back + span]` for each position
 * `q` of posting `p` (-1: none; a term: `back` = `span` = 0; a phrase: `back` = the
 * term's offset in it, `span` = the phrase's length); false when the budget of located
 * occurrences runs out or an occurrence has no checkpoint (the caller then scans the whole
 * text).
 */
function postingBlocks(
  body: SegmentBody, p: number, back: number, span: number, count: number, budget: { left: number }, out: IntVector,
): boolean {
  if (p < 0) return true;
  const freq = body.freq(p);
  budget.left -= freq;
  if (budget.left < 0) return false;
  if (positionScratch.length < freq) positionScratch = new Uint32Array(freq * 2);
  body.positions(p, body.positionOffset(p), positionScratch);
  for (let i = 0; i < freq; i++) {
    const start = positionScratch[i]! - back;
    if (start < 0) continue;
    const first = start >>> CHECKPOINT_SHIFT;
    if (first >= count) return false;
    // A phrase starting near the end reaches at most the last block.
    const last = Math.min(count - 1, (start + span) >>> CHECKPOINT_SHIFT);
    for (let b = first; b <= last; b++) out.push(b);
  }
  return true;
}

let positionScratch = new Uint32Array(256);

/**
 * Windows of the blocks in `blocks` (any order, repeats allowed): block `b` runs from
 * checkpoint `b` to the end of the identifier at checkpoint `b + 1` (or the end of the
 * text), where its last tokens may still sit. Overlapping windows are joined; null when they
 * would cover more than half of the text.
 */
function blocksToWindows(body: SegmentBody, local: number, text: string, count: number, blocks: IntVector): Int32Array | null {
  const list = blocks.data.subarray(0, blocks.length).sort();
  const out = scratch(windowScratch);
  let covered = 0;
  for (let i = 0; i < list.length; i++) {
    const b = list[i]!;
    if (i > 0 && b === list[i - 1]) continue;
    const start = body.checkpoint(local, b);
    const end = b + 1 < count ? runEnd(text, body.checkpoint(local, b + 1)) : text.length;
    if (out.length > 0 && start <= out.data[out.length - 1]!) {
      covered += Math.max(0, end - out.data[out.length - 1]!);
      out.data[out.length - 1] = Math.max(end, out.data[out.length - 1]!);
    } else {
      out.push(start);
      out.push(end);
      covered += end - start;
    }
  }
  return covered * 2 > text.length ? null : out.toArray();
}

const escapeTerm = (t: string) => t.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/**
 * Pattern source matching `term` (lowercase) in any case, without the `i` flag: each letter
 * becomes a class of its case variants (`get` → `[gG][eE][tT]`). V8 compiles a
 * case-insensitive pattern with a large character class (the phrase separator below) slowly:
 * 6 ms to parse and 6 more to compile a phrase of 100 terms, against 0.6 ms in all this way.
 */
function anyCase(term: string): string {
  let out = '';
  for (let i = 0; i < term.length; i++) {
    const code = term.charCodeAt(i);
    const c = term[i]!;
    if (code >= 97 && code <= 122) out += `[${c}${String.fromCharCode(code - 32)}]`;
    else if (code >= 65 && code <= 90) out += `[${String.fromCharCode(code + 32)}${c}]`;
    else if (code < 128) out += escapeTerm(c);
    else {
      const upper = c.toUpperCase();
      const variants = new Set([c, upper, upper.toLowerCase(), c.toLowerCase(), ...foldsTo(c.toLowerCase())].filter((v) => v.length === 1));
      out += variants.size > 1 ? `[${[...variants].join('')}]` : c;
    }
  }
  return out;
}

/** Non-ASCII code units by their lowercase, built on first use (64k `toLowerCase` calls, once). */
let lowercaseOf: Map<string, string[]> | null = null;

/**
 * The code units whose lowercase is `lower`: the tokenizer folds with `toLowerCase`, and a
 * titlecase letter (U+01C5 ǅ) is nobody's uppercase, so `toUpperCase` alone misses it.
 */
function foldsTo(lower: string): readonly string[] {
  if (lowercaseOf === null) {
    lowercaseOf = new Map();
    for (let u = 0x80; u <= 0xffff; u++) {
      if (u >= 0xd800 && u <= 0xdfff) continue;
      const ch = String.fromCharCode(u);
      const l = ch.toLowerCase();
      if (l === ch) continue;
      const list = lowercaseOf.get(l);
      if (list === undefined) lowercaseOf.set(l, [ch]);
      else list.push(ch);
    }
  }
  return lowercaseOf.get(lower) ?? [];
}

let phraseGapSource: string | null = null;

/**
 * What may separate two consecutive tokens of a phrase: any code unit the tokenizer does not
 * count as a letter or digit (`_`, `$` and `-` join parts, so they may). The class is derived
 * from the tokenizer's own `isWordUnit` on first use, so the two cannot drift apart.
 */
function phraseGap(): string {
  if (phraseGapSource === null) {
    const hex = (u: number) => `\\u${u.toString(16).padStart(4, '0')}`;
    let ranges = '';
    for (let u = 0; u <= 0xffff; u++) {
      if (!isWordUnit(u)) continue;
      let v = u;
      while (v < 0xffff && isWordUnit(v + 1)) v++;
      ranges += v === u ? hex(u) : `${hex(u)}-${hex(v)}`;
      u = v;
    }
    phraseGapSource = `[^${ranges}]*?`;
  }
  return phraseGapSource;
}

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
        phrases.push({ terms: n.terms, offsets: n.offsets, pattern: n.terms.map(anyCase).join(phraseGap()) });
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
  const words = [...terms, ...prefixes].sort((a, b) => b.length - a.length).map(anyCase);
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
export function highlightText(
  text: string,
  spec: HighlightSpec,
  lines: Locator = new LineIndex(text),
  max = 64,
  windows: HighlightWindows | null = null,
): TextRange[] {
  const spans = scratch(spanScratch); // `start, end` pairs
  if (spec.pattern !== null) termSpans(text, spec, spec.pattern, max, spans, windows === null ? null : windows.terms);
  const termCount = spans.length;
  spec.phrases.forEach((phrase, i) => phraseSpans(text, phrase, max, spans, windows === null ? null : windows.phrases[i]!));
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
    re = new RegExp(source, 'g');
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
function termSpans(text: string, spec: HighlightSpec, pattern: string, max: number, out: IntVector, windows: Int32Array | null): void {
  const runTokens = scratch(runScratch); // `start, end, kind` of the tokens of the identifier run around a candidate
  let identEnd = -1;
  let coveredTo = -1;
  forEachCandidate(cachedPattern(pattern), text, windows, max, (m, at) => {
    if (at < coveredTo) return 0;
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
      coveredTo = at + len;
      return 1;
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
    if (best < 0) return 0;
    out.push(at);
    out.push(best);
    coveredTo = best;
    return 1;
  });
}

/**
 * Runs `re` (global) over each window of `text` (the whole text without windows), in
 * order, and hands every match and its offset in `text` to `visit`, which returns how many
 * spans it added; stops once `max` spans were added. The RegExp runs over a sliced string
 * of the window only; `visit` reads `text` itself and may move `re.lastIndex` (relative to
 * the window) past what it consumed.
 */
function forEachCandidate(
  re: RegExp, text: string, windows: Int32Array | null, max: number, visit: (m: RegExpExecArray, at: number, base: number) => number,
): void {
  let found = 0;
  const count = windows === null ? 1 : windows.length >> 1;
  for (let w = 0; w < count && found < max; w++) {
    const base = windows === null ? 0 : windows[w * 2]!;
    const sub = windows === null ? text : text.slice(base, windows[w * 2 + 1]!);
    re.lastIndex = 0;
    while (found < max) {
      const m = re.exec(sub);
      if (m === null) break;
      re.lastIndex = m.index + 1;
      found += visit(m, base + m.index, base);
    }
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
function phraseSpans(text: string, phrase: HighlightPhrase, max: number, out: IntVector, windows: Int32Array | null): void {
  const re = cachedPattern(phrase.pattern);
  forEachCandidate(re, text, windows, max, (m, index, base) => {
    const from = runStart(text, index);
    const window = text.slice(from, runEnd(text, index + m[0].length));
    const interner = new TermInterner(1);
    const ids = scratch(phraseIds);
    const positions = scratch(phrasePositions);
    const spans = scratch(phraseSpanScratch);
    scanTokens(window, interner, ids, positions, spans);
    const at = new Map<string, number>();
    for (let t = 0; t < ids.length; t++) at.set(`${positions.data[t]}:${interner.terms[ids.data[t]!]}`, t);
    for (let t = 0; t < ids.length; t++) {
      if (from + spans.data[t * 3]! !== index || interner.terms[ids.data[t]!] !== phrase.terms[0]) continue;
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
        // Go on after the phrase.
        re.lastIndex = from + spans.data[parts[parts.length - 1]! * 3 + 1]! - base;
        return parts.length;
      }
    }
    return 0;
  });
}
