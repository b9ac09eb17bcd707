import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QueryBudget } from '../../../src/search/budget.ts';
import { parseQuery, planRegex } from '../../../src/search/index.ts';
import { searchKeyword, type SearchView } from '../../../src/search/keyword-search.ts';
import { searchRegex } from '../../../src/search/regex-search.ts';
import { decodeBody, decodeHead, encodeBody, encodeHead } from '../../../src/search/segment-codec.ts';
import { SegmentBuilder } from '../../../src/search/segment-builder.ts';
import { mergeSegments } from '../../../src/search/segment-merge.ts';
import { trigramKeyOf } from '../../../src/search/trigram.ts';
import type { Segment } from '../../../src/search/segment.ts';

/** Segment-level properties: merges are exact, tombstones are honored, the codec round-trips. */

const WORDS = ['foo', 'Bar', 'fooBar', 'HTMLParser', 'x1', 'get_item', 'font-size', 'zz', 'Ünï', 'parse', 'Parser'];
const SEPS = [' ', '.', '(', ')', '\n', ', ', '-', '__'];
const text = fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.constantFrom(...SEPS)), { maxLength: 40 }).map((p) => p.join(''));
const docSpec = fc.record({ text, deleted: fc.boolean(), tag: fc.constantFrom('a', 'b', 'c') });
const layout = fc.array(fc.array(docSpec, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 });

interface Built {
  segments: { segment: Segment; deleted: Uint8Array }[];
  live: { id: string; text: string; tag: string; docNum: number }[];
}

function build(spec: { text: string; deleted: boolean; tag: string }[][]): Built {
  let docNum = 0;
  const live: Built['live'] = [];
  const segments = spec.map((docs, s) => {
    const builder = new SegmentBuilder();
    const deleted = new Uint8Array(docs.length);
    docs.forEach((d, i) => {
      const id = `d${docNum}`;
      builder.add({ docNum, id, text: d.text, fields: ['tag', d.tag], hash: 0 });
      if (d.deleted) deleted[i] = 1;
      else live.push({ id, text: d.text, tag: d.tag, docNum });
      docNum += 1 + (i % 2); // gaps in doc numbers, like after removals
    });
    return { segment: builder.build(s), deleted };
  });
  return { segments, live };
}

const viewsOf = (b: Built): SearchView[] =>
  b.segments.map(({ segment, deleted }) => ({ head: segment.head, body: segment.body, deleted, filter: null }));

const queryArb = fc.oneof(
  fc.constantFrom(...WORDS, ...WORDS.map((w) => w.toLowerCase())),
  fc.constantFrom('"foo bar"', '"html parser"', 'pars*', 'f*', 'foo -zz', 'x1 OR zz', '"get item" font', 'NOT parse', 'size'),
);
const regexArb = fc.constantFrom('foo', 'bar\\w', 'o.b', 'zz|x1', 'Parser\\b', 'get_i', '\\(\\w+\\)', 'ü', 'size\\n');

describe('segment merges', () => {
  it('produce exactly the segment a fresh build of the live documents gives', () => {
    fc.assert(fc.property(layout, (spec) => {
      const built = build(spec);
      const merged = mergeSegments(built.segments.map(({ segment, deleted }) => ({ ...segment, deleted })), 99);
      const fresh = new SegmentBuilder();
      for (const d of built.live) fresh.add({ docNum: d.docNum, id: d.id, text: d.text, fields: ['tag', d.tag], hash: 0 });
      const expected = fresh.build(99);
      expect(merged.body).toEqual(expected.body);
      expect([...merged.head.docNums]).toEqual([...expected.head.docNums]);
      expect(merged.head.ids).toEqual(expected.head.ids);
      expect([...merged.head.docLengths]).toEqual([...expected.head.docLengths]);
      for (let i = 0; i < built.live.length; i++) expect(merged.head.valuesOf('tag', i)).toEqual([built.live[i]!.tag]);
    }), { numRuns: 300 });
  });

  it('answer keyword and regex queries exactly like the unmerged segments, deletions honored', async () => {
    await fc.assert(fc.asyncProperty(layout, fc.array(queryArb, { minLength: 1, maxLength: 4 }), regexArb, async (spec, queries, pattern) => {
      const built = build(spec);
      const merged = mergeSegments(built.segments.map(({ segment, deleted }) => ({ ...segment, deleted })), 99);
      const mergedViews: SearchView[] = [{ head: merged.head, body: merged.body, deleted: null, filter: null }];
      const stats = { docs: built.live.length, tokens: 1 };
      const page = { offset: 0, limit: 1000, highlight: false };
      const liveIds = new Set(built.live.map((d) => d.id));
      for (const q of queries) {
        const node = parseQuery(q);
        const a = searchKeyword(node, viewsOf(built), stats, page, new QueryBudget(undefined, undefined, 'q'));
        const b = searchKeyword(node, mergedViews, stats, page, new QueryBudget(undefined, undefined, 'q'));
        const ids = a.hits.map((h) => h.id).sort();
        expect(b.hits.map((h) => h.id).sort()).toEqual(ids);
        for (const id of ids) expect(liveIds.has(id)).toBe(true);
      }
      const regexPage = { offset: 0, limit: 1000, countAll: true, maxRanges: 100, maxVerifyChars: 1e9, literal: null, exists: null };
      const plan = planRegex(pattern, '');
      const ra = await searchRegex(new RegExp(pattern, 'g'), plan, viewsOf(built), regexPage, new QueryBudget(undefined, undefined, 'r'));
      const rb = await searchRegex(new RegExp(pattern, 'g'), plan, mergedViews, regexPage, new QueryBudget(undefined, undefined, 'r'));
      expect(rb.matches).toEqual(ra.matches);
      const re = new RegExp(pattern);
      expect(ra.matches.map((m) => m.id)).toEqual(built.live.filter((d) => re.test(d.text)).map((d) => d.id));
    }), { numRuns: 200 });
  });
});

describe('segment codec', () => {
  it('round-trips heads and bodies', () => {
    fc.assert(fc.property(layout, (spec) => {
      const { segment } = build(spec).segments[0]!;
      const head = decodeHead(encodeHead(segment.head), 'head', segment.head.id);
      expect([...head.docNums]).toEqual([...segment.head.docNums]);
      expect(head.ids).toEqual(segment.head.ids);
      expect([...head.hashes]).toEqual([...segment.head.hashes]);
      expect(head.fields).toEqual(segment.head.fields);
      const body = decodeBody(encodeBody(segment.head.id, segment.body), 'body', segment.head.id, segment.head.docCount);
      expect(body).toEqual(segment.body);
    }), { numRuns: 200 });
  });

  it('keeps trigram list lengths in 16 bits when at most 65,535 documents bound them', () => {
    const bodyOf = (docs: number) => {
      const builder = new SegmentBuilder();
      for (let d = 0; d < docs; d++) builder.add({ docNum: d, id: `d${d}`, text: 'abc', fields: [], hash: 0 });
      return builder.build(1).body;
    };
    const key = trigramKeyOf('abc');
    expect(bodyOf(0xffff).triCount).toBeInstanceOf(Uint16Array);
    const wide = bodyOf(0x10000);
    expect(wide.triCount).toBeInstanceOf(Uint32Array);
    expect(wide.trigramCount(key)).toBe(0x10000);
    const decoded = decodeBody(encodeBody(1, wide), 'body', 1, 0x10000);
    expect(decoded.trigramCount(key)).toBe(0x10000);
    expect(decoded.trigramDocs(key)[0xffff]).toBe(0xffff);
  });

  it('keeps frequencies of 255 and more exact through phrases, ranking, the codec and merges', () => {
    // Document 1 repeats `foo bar` 300 times, so the postings of `foo` and `bar` in it
    // overflow a byte; the phrase `bar baz` only exists in document 2, whose positions a
    // phrase query reaches by skipping document 1's 300 positions.
    const docs = ['foo', `${'foo bar '.repeat(300)}bar`, 'zz foo bar baz', 'bar ' + 'foo '.repeat(254)];
    const builder = new SegmentBuilder();
    docs.forEach((text, d) => builder.add({ docNum: d, id: `d${d}`, text, fields: [], hash: 0 }));
    const segment = builder.build(1);
    const freqOf = (body: Segment['body'], term: string, local: number) => {
      const t = body.terms.findTerm(term);
      const list = body.postings(t);
      return body.freq(body.postStart[t]! + list.indexOf(local));
    };
    const check = (seg: Segment) => {
      expect(freqOf(seg.body, 'foo', 1)).toBe(300);
      expect(freqOf(seg.body, 'bar', 1)).toBe(301);
      expect(freqOf(seg.body, 'foo', 3)).toBe(254);
      expect(freqOf(seg.body, 'foo', 2)).toBe(1);
      const views: SearchView[] = [{ head: seg.head, body: seg.body, deleted: null, filter: null }];
      const run = (q: string) => searchKeyword(parseQuery(q), views, { docs: 4, tokens: 1 }, { offset: 0, limit: 10, highlight: false },
        new QueryBudget(undefined, undefined, 'q')).hits.map((h) => h.id);
      expect(run('"bar baz"')).toEqual(['d2']);
      expect(run('"bar foo"')).toEqual(['d1', 'd3']);
      // Ranking sees the full count: d1 holds `bar` 301 times, d3 once, d2 once in a short text.
      expect(run('bar')[0]).toBe('d1');
    };
    check(segment);
    const decoded = { head: segment.head, body: decodeBody(encodeBody(1, segment.body), 'body', 1, docs.length) };
    expect(decoded.body).toEqual(segment.body);
    check(decoded);
    const other = new SegmentBuilder();
    other.add({ docNum: 10, id: 'd10', text: 'unrelated', fields: [], hash: 0 });
    const merged = mergeSegments([{ ...segment, deleted: new Uint8Array(4) }, { ...other.build(2), deleted: new Uint8Array(1) }], 3);
    check(merged);
  });

  it('names the segment when a frame is damaged', () => {
    const builder = new SegmentBuilder();
    builder.add({ docNum: 0, id: 'a', text: 'hello world', fields: [], hash: 1 });
    const { head, body } = builder.build(7);
    const bytes = encodeBody(7, body);
    bytes[bytes.length - 3]! ^= 0xff;
    expect(() => decodeBody(bytes, 'search segment 7 body (seg/7/body)', 7, 1)).toThrow(/segment 7 body/);
    expect(() => decodeHead(encodeHead(head), 'segment 7 head', 8)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });
});
