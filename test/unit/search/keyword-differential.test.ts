import { beforeAll, describe, expect, it } from 'vitest';
import {
  MemorySegmentStorage, parseQuery, SearchIndex, tokenize, type QueryNode, type SearchFilters,
} from '../../../src/search/index.ts';
import { loadCorpus, pick, rng, type CorpusDoc } from './corpus.ts';
import { highlightedLeaves, oracleDoc, oracleMatches, type OracleDoc } from './oracle.ts';

/**
 * Differential tests: keyword queries over real third-party code must return exactly the
 * documents a brute-force scan (test/unit/search/oracle.ts) finds, across segments, the
 * mutable segment, deletions, updates, merges and a save/reopen.
 */

interface Live {
  doc: CorpusDoc;
  oracle: OracleDoc;
}

const random = rng(20240607);
let live: Map<string, Live>;
let index: SearchIndex;
let storage: MemorySegmentStorage;
let queries: string[];

function makeQueries(count: number): string[] {
  const docs = [...live.values()];
  const word = () => {
    const d = pick(random, docs).oracle;
    return pick(random, d.wholes.length > 0 ? d.wholes : ['x']);
  };
  const part = () => {
    const d = pick(random, docs).oracle;
    return d.sequence.length > 0 ? pick(random, d.sequence).term : 'x';
  };
  const phrase = () => {
    const d = pick(random, docs).oracle;
    if (d.sequence.length < 4) return `"${part()} ${part()}"`;
    const start = Math.floor(random() * (d.sequence.length - 3));
    const n = 2 + Math.floor(random() * 3);
    return `"${d.sequence.slice(start, start + n).map((t) => t.term).join(' ')}"`;
  };
  const prefix = () => {
    const w = word();
    return `${w.slice(0, Math.min(w.length, 2 + Math.floor(random() * 4)))}*`;
  };
  const atom = () => {
    const r = random();
    return r < 0.35 ? word() : r < 0.55 ? part() : r < 0.8 ? phrase() : prefix();
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const shape = i % 8;
    if (shape === 0) out.push(atom());
    else if (shape === 1) out.push(`${atom()} ${atom()}`);
    else if (shape === 2) out.push(`${atom()} OR ${atom()}`);
    else if (shape === 3) out.push(`${atom()} -${atom()}`);
    else if (shape === 4) out.push(`(${atom()} OR ${atom()}) ${atom()}`);
    else if (shape === 5) out.push(`NOT ${part()}`);
    else if (shape === 6) out.push(`${word()} ${word()} OR ${part()} -${prefix()}`);
    else out.push(phrase());
  }
  return out;
}

const FILTERS: { filters: SearchFilters; test: (d: CorpusDoc) => boolean }[] = [
  { filters: { language: 'dts' }, test: (d) => d.language === 'dts' },
  { filters: { path: '*.d.ts' }, test: (d) => d.path.endsWith('.d.ts') },
  { filters: { path: 'typescript/lib/lib.es20{15,16,17}.*' }, test: (d) => /^typescript\/lib\/lib\.es20(15|16|17)\./.test(d.path) },
  { filters: { path: ['vite/**', 'msgpackr/*.js'], kind: 'dist' }, test: (d) => d.path.startsWith('vite/') || /^msgpackr\/[^/]*\.js$/.test(d.path) },
  { filters: { tag: ['esm', 'idb'] }, test: (d) => d.tags.includes('esm') || d.tags.includes('idb') },
  { filters: { fields: { package: 'fast-check' }, language: ['js', 'ts'] }, test: (d) => d.fields.package === 'fast-check' && d.language !== 'dts' },
];

async function compare(target: SearchIndex, qs: readonly string[], filterEvery = 5): Promise<number> {
  let nonEmpty = 0;
  for (let i = 0; i < qs.length; i++) {
    const q = qs[i]!;
    const f = i % filterEvery === 0 ? FILTERS[(i / filterEvery) % FILTERS.length]! : null;
    const node: QueryNode = parseQuery(q);
    const expected = [...live.values()]
      .filter((l) => (f === null || f.test(l.doc)) && oracleMatches(node, l.oracle))
      .map((l) => l.doc.id)
      .sort();
    const res = await target.query(q, { limit: Infinity, highlight: false, ...(f === null ? {} : { filters: f.filters }) });
    const actual = res.hits.map((h) => h.id).sort();
    expect({ q, filters: f?.filters, ids: actual }).toEqual({ q, filters: f?.filters, ids: expected });
    expect(res.total).toBe(expected.length);
    for (let k = 1; k < res.hits.length; k++) expect(res.hits[k - 1]!.score).toBeGreaterThanOrEqual(res.hits[k]!.score);
    if (expected.length > 0) nonEmpty++;
  }
  return nonEmpty;
}

beforeAll(() => {
  const corpus = loadCorpus();
  live = new Map(corpus.map((doc) => [doc.id, { doc, oracle: oracleDoc(doc.id, doc.text) }]));
  storage = new MemorySegmentStorage();
  index = new SearchIndex({ storage, segmentTokens: 30_000, mutableTokens: 10_000, merge: { mergeFactor: 4, floorTokens: 20_000 } });
  const docs = [...corpus];
  const bulk = docs.slice(0, Math.floor(docs.length * 0.8));
  index.addMany(bulk);
  // Deletions and rewrites hit sealed segments; the tail goes through the mutable segment.
  const r = rng(7);
  for (const d of bulk) {
    const x = r();
    if (x < 0.05) {
      index.remove(d.id);
      live.delete(d.id);
    } else if (x < 0.1) {
      const text = `${d.text}\n// edited editedMarker${Math.floor(x * 1000)} zzOnlyInEdits\n`;
      const doc = { ...d, text };
      expect(index.update(doc)).toBe('updated');
      live.set(d.id, { doc, oracle: oracleDoc(d.id, text) });
    }
  }
  for (const d of docs.slice(bulk.length)) index.add(d);
  queries = makeQueries(160);
});

describe('keyword search vs brute force over real code', () => {
  it('uses a real, multi-segment corpus', () => {
    const stats = index.stats();
    expect(live.size).toBeGreaterThan(150);
    expect(stats.documents).toBe(live.size);
    expect(stats.segments).toBeGreaterThan(3);
    expect(stats.deletedDocuments).toBeGreaterThan(0);
    expect(stats.tokens).toBeGreaterThan(300_000);
  });

  it('returns exactly the oracle documents for random term, phrase, prefix and boolean queries', async () => {
    const nonEmpty = await compare(index, queries);
    expect(nonEmpty).toBeGreaterThan(queries.length / 2);
  });

  it('handles hand-picked edge queries', async () => {
    const edge = [
      'HTMLElement', 'htmlelement', '"html element"', 'readonly interface', 'Promise<T>', 'getElementById',
      'zzOnlyInEdits', 'editedMarker*', 'foo.bar', 'Symbol.iterator', '__proto__', '$', '_', '0x7f', 'utf8',
      'a* -e*', '-readonly', '""', '"', '(', 'OR', 'NOT', 'x OR', '((a) OR (b c))', 'async function*', 'i-1',
    ];
    await compare(index, edge, 1000);
  });

  it('pages consistently: every page is a slice of the full ranking', async () => {
    const full = await index.query('function return', { limit: 1000, highlight: false });
    expect(full.total).toBeGreaterThan(30);
    const page = await index.query('function return', { offset: 10, limit: 10, highlight: false });
    expect(page.hits.map((h) => h.id)).toEqual(full.hits.slice(10, 20).map((h) => h.id));
    expect(page.total).toBe(full.total);
  });

  it('highlights occurrences of the query terms on the returned page', async () => {
    const res = await index.query('readonly "array buffer"', { limit: 5 });
    expect(res.hits.length).toBeGreaterThan(0);
    for (const hit of res.hits) {
      const text = live.get(hit.id)!.doc.text;
      const lines = text.split('\n');
      expect(hit.ranges.length).toBeGreaterThan(0);
      for (const r of hit.ranges) {
        const slice = text.slice(r.offset, r.offset + r.length).toLowerCase();
        expect(['readonly', 'array', 'buffer', 'arraybuffer'].some((w) => slice === w || slice.includes(w))).toBe(true);
        expect(lines[r.line]!.slice(r.column, r.column + r.length)).toBe(text.slice(r.offset, r.offset + r.length));
      }
    }
  });

  it('highlights exactly the matching tokens a full tokenization finds (terms and prefixes)', async () => {
    for (const q of ['readonly', 'element*', 'buffer length', 'Symbol', 'get* set*', 'x', 'utf8']) {
      const { words, prefixes } = highlightedLeaves(parseQuery(q));
      const res = await index.query(q, { limit: 8 });
      expect(res.hits.length).toBeGreaterThan(0);
      for (const hit of res.hits) {
        const tokens = tokenize(live.get(hit.id)!.doc.text)
          .filter((t) => words.has(t.term) || prefixes.some((p) => t.term.startsWith(p)))
          .sort((a, b) => a.offset - b.offset || b.length - a.length);
        const want: [number, number, number, number][] = [];
        let coveredTo = -1;
        for (const t of tokens) {
          if (want.length >= 64) break;
          if (t.offset + t.length <= coveredTo) continue;
          want.push([t.offset, t.length, t.line, t.column]);
          coveredTo = t.offset + t.length;
        }
        expect({ q, id: hit.id, ranges: hit.ranges.map((r) => [r.offset, r.length, r.line, r.column]) }).toEqual({ q, id: hit.id, ranges: want });
      }
    }
  });

  it('answers the same after merges', async () => {
    const before = index.stats().segments;
    const report = await index.merge();
    expect(report.merges).toBeGreaterThan(0);
    expect(index.stats().segments).toBeLessThan(before);
    await compare(index, queries.slice(0, 60));
    await index.merge({ force: true });
    expect(index.stats().segments).toBe(1);
    expect(index.stats().deletedDocuments).toBe(0);
    await compare(index, queries.slice(60, 110));
  });

  it('answers the same after flush and reopen', async () => {
    const report = await index.flush();
    expect(report.manifestWritten).toBe(true);
    const reopened = await SearchIndex.open(storage);
    expect(reopened.size).toBe(live.size);
    await compare(reopened, queries.slice(110));
  });
});
