import { beforeAll, describe, expect, it } from 'vitest';
import { parseQuery, tokenize, type QueryNode, type Token } from '../../../src/search/index.ts';
import { highlightSpec, highlightText, highlightWindows } from '../../../src/search/highlight.ts';
import { SegmentBuilder } from '../../../src/search/segment-builder.ts';
import { LineIndex } from '../../../src/search/line-index.ts';
import { loadCorpus, pick, rng, type CorpusDoc } from './corpus.ts';
import { highlightedLeaves } from './oracle.ts';

/**
 * Differential tests of highlighting over real third-party code: the ranges of terms and
 * prefixes must be exactly those a full tokenization of the document gives (lines and
 * columns counted separately), whether they come from a fresh or a kept (already used) line
 * index.
 */

let corpus: CorpusDoc[];
const tokens = new Map<string, Token[]>();
const random = rng(31337);

function tokensOf(doc: CorpusDoc): Token[] {
  let list = tokens.get(doc.id);
  if (list === undefined) {
    list = tokenize(doc.text);
    tokens.set(doc.id, list);
  }
  return list;
}

/** The oracle: every matching token, in text order (longest first at one offset), minus those inside an earlier one, at most 64. */
function expectedRanges(doc: CorpusDoc, node: QueryNode): [number, number, number, number][] {
  const { words, prefixes } = highlightedLeaves(node);
  const matching = tokensOf(doc)
    .filter((t) => words.has(t.term) || prefixes.some((p) => t.term.startsWith(p)))
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  const out: [number, number, number, number][] = [];
  let coveredTo = -1;
  for (const t of matching) {
    if (out.length >= 64) break;
    if (t.offset + t.length <= coveredTo) continue;
    // Lines and columns by counting newlines, independently of the tokenizer's own.
    const before = doc.text.slice(0, t.offset);
    out.push([t.offset, t.length, before.split('\n').length - 1, t.offset - (before.lastIndexOf('\n') + 1)]);
    coveredTo = t.offset + t.length;
  }
  return out;
}

/** A random query of terms and prefixes taken from a document: whole identifiers, parts, prefixes, ORs and negations. */
function randomQuery(doc: CorpusDoc): string {
  const list = tokensOf(doc);
  const token = () => pick(random, list);
  const atom = () => {
    const r = random();
    const t = token();
    if (r < 0.3) return doc.text.slice(t.offset, t.offset + t.length); // as written, any case
    if (r < 0.55) return t.term;
    if (r < 0.75) return t.term.toUpperCase();
    return `${t.term.slice(0, 1 + Math.floor(random() * 4))}*`;
  };
  const shape = Math.floor(random() * 5);
  if (shape === 0) return atom();
  if (shape === 1) return `${atom()} ${atom()}`;
  if (shape === 2) return `${atom()} OR ${atom()} ${atom()}`;
  if (shape === 3) return `${atom()} -${atom()}`;
  return `(${atom()} OR ${atom()}) ${atom()}*`;
}

beforeAll(() => {
  corpus = loadCorpus().filter((d) => tokensOf(d).length > 0);
});

describe('highlighting vs a full tokenization over real code', () => {
  it('uses documents of every size, large ones included', () => {
    expect(corpus.length).toBeGreaterThan(150);
    expect(Math.max(...corpus.map((d) => d.text.length))).toBeGreaterThan(50_000);
  });

  it('returns exactly the oracle ranges for random term and prefix queries, with fresh and kept line indexes', () => {
    const kept = new Map<string, LineIndex>();
    let ranges = 0;
    let capped = 0;
    for (let i = 0; i < 400; i++) {
      const source = pick(random, corpus);
      const q = randomQuery(source);
      const node = parseQuery(q);
      const spec = highlightSpec(node);
      // The document the query came from, and others where its terms may or may not occur.
      for (const doc of [source, pick(random, corpus), pick(random, corpus)]) {
        const want = expectedRanges(doc, node);
        const fresh = highlightText(doc.text, spec).map((r) => [r.offset, r.length, r.line, r.column]);
        expect({ q, id: doc.id, ranges: fresh }).toEqual({ q, id: doc.id, ranges: want });
        let lines = kept.get(doc.id);
        if (lines === undefined) kept.set(doc.id, (lines = new LineIndex(doc.text)));
        const reused = highlightText(doc.text, spec, lines).map((r) => [r.offset, r.length, r.line, r.column]);
        expect({ q, id: doc.id, ranges: reused }).toEqual({ q, id: doc.id, ranges: want });
        ranges += want.length;
        if (want.length === 64) capped++;
      }
    }
    expect(ranges).toBeGreaterThan(10_000);
    expect(capped).toBeGreaterThan(20);
  });

  it('scans only the windows the postings point at, with exactly the ranges of a whole-text scan', () => {
    // Real segments (several, so local ids and checkpoints are per segment), queried with
    // terms, ORs, negations and phrases taken from their documents: the windowed highlight
    // of every document must equal the highlight of the whole text.
    const own = rng(4242); // its own sequence: the assertions below do not depend on which tests ran first
    const docs = corpus.slice(0, 240);
    const segments = [0, 1, 2].map((s) => {
      const builder = new SegmentBuilder();
      docs.filter((_, i) => i % 3 === s).forEach((d, i) => builder.add({ docNum: i, id: d.id, text: d.text, fields: [], hash: 0 }));
      return builder.build(s).body;
    });
    let windowed = 0;
    let whole = 0;
    let scanned = 0;
    let total = 0;
    let ranges = 0;
    for (let i = 0; i < 500; i++) {
      const body = pick(own, segments);
      const local = Math.floor(own() * body.texts.length);
      const text = body.texts[local]!;
      const list = tokensOf({ id: `${body.texts.length}:${text.length}:${local}`, text } as CorpusDoc).filter((t) => t.kind !== 'word');
      if (list.length < 4) continue;
      const start = Math.floor(own() * (list.length - 3));
      const run = list.slice(start, start + 2 + Math.floor(own() * 2));
      const phrase = text.slice(run[0]!.offset, run[run.length - 1]!.offset + run[run.length - 1]!.length);
      const atom = () => {
        const t = pick(own, list);
        return own() < 0.5 ? t.term : text.slice(t.offset, t.offset + t.length);
      };
      const shape = Math.floor(own() * 4);
      const q = shape === 0 ? atom() : shape === 1 ? `${atom()} ${atom()}` : shape === 2 ? `${atom()} OR ${atom()} -${atom()}`
        : phrase.includes('"') ? atom() : `"${phrase}" ${atom()}`;
      const spec = highlightSpec(parseQuery(q));
      const windows = highlightWindows(body, local, spec);
      const want = highlightText(text, spec).map((r) => [r.offset, r.length, r.line, r.column]);
      const got = highlightText(text, spec, body.lineIndex(local), 64, windows).map((r) => [r.offset, r.length, r.line, r.column]);
      expect({ q, local, ranges: got }).toEqual({ q, local, ranges: want });
      ranges += want.length;
      if (windows === null) {
        if (text.length >= 16_000) whole++;
        continue;
      }
      if (text.length >= 16_000) windowed++;
      for (const w of [windows.terms, ...windows.phrases]) {
        if (w === null) continue;
        for (let k = 0; k < w.length; k += 2) {
          expect(w[k]!).toBeLessThan(w[k + 1]!);
          if (k > 0) expect(w[k]!).toBeGreaterThan(w[k - 1]!);
          scanned += w[k + 1]! - w[k]!;
        }
      }
      total += text.length * (1 + windows.phrases.length);
    }
    expect(ranges).toBeGreaterThan(1000);
    // Most large texts are highlighted through windows; the rest hold the query's terms too
    // often (terms here come from the document itself), and small texts are scanned whole
    // once the windows would cover half of them.
    expect(windowed).toBeGreaterThan(whole);
    // Highlighting through windows reads a small share of those texts.
    expect(scanned / total).toBeLessThan(0.2);
  });

  it('returns sorted, non-nested ranges of phrase tokens whose lines and columns match their offsets', () => {
    let phrases = 0;
    for (let i = 0; i < 150; i++) {
      const doc = pick(random, corpus);
      const list = tokensOf(doc).filter((t) => t.kind !== 'word');
      if (list.length < 4) continue;
      const start = Math.floor(random() * (list.length - 3));
      const run = list.slice(start, start + 2 + Math.floor(random() * 2));
      if (doc.text.slice(run[0]!.offset, run[run.length - 1]!.offset).includes('"')) continue;
      const q = `"${doc.text.slice(run[0]!.offset, run[run.length - 1]!.offset + run[run.length - 1]!.length)}" ${pick(random, list).term}`;
      const node = parseQuery(q);
      const spec = highlightSpec(node);
      const allowed = new Set([...spec.terms, ...spec.phrases.flatMap((p) => p.terms)]);
      const byOffset = new Map(tokensOf(doc).map((t) => [`${t.offset}:${t.length}`, t]));
      const lines = doc.text.split('\n');
      const ranges = highlightText(doc.text, spec);
      expect(ranges.length).toBeGreaterThan(0);
      let coveredTo = -1;
      for (const r of ranges) {
        expect(r.offset + r.length).toBeGreaterThan(coveredTo);
        coveredTo = Math.max(coveredTo, r.offset + r.length);
        expect(allowed.has(byOffset.get(`${r.offset}:${r.length}`)?.term ?? '')).toBe(true);
        expect(lines[r.line]!.slice(r.column, r.column + r.length)).toBe(doc.text.slice(r.offset, r.offset + r.length));
      }
      phrases++;
    }
    expect(phrases).toBeGreaterThan(100);
  });

  it('finds phrase tokens in any case across every kind of separator the tokenizer knows', () => {
    // U+2192 and U+2026 separate tokens (the tokenizer's symbol block), as do `_`, `-` and
    // a case change; `é` is a letter and joins.
    const text = 'foo→bar\nFOO … Bar\nfoo_BAR fooBar\nfooébar foo-bar\n';
    const spec = highlightSpec(parseQuery('"foo bar"'));
    const got = highlightText(text, spec).map((r) => text.slice(r.offset, r.offset + r.length) + `@${r.line}:${r.column}`);
    expect(got).toEqual(['foo@0:0', 'bar@0:4', 'FOO@1:0', 'Bar@1:6', 'foo@2:0', 'BAR@2:4', 'foo@2:8', 'Bar@2:11', 'foo@3:8', 'bar@3:12']);
  });

  it('highlights a term whose letters have titlecase forms nobody uppercases to', () => {
    // U+01C5 (ǅ) lowercases to U+01C6 (ǆ), as the tokenizer folds it, but is the uppercase of nothing.
    const text = 'ǅx Ǆx ǆx foo';
    const got = highlightText(text, highlightSpec(parseQuery('ǆx'))).map((r) => text.slice(r.offset, r.offset + r.length));
    expect(got).toEqual(['ǅx', 'Ǆx', 'ǆx']);
  });
});
