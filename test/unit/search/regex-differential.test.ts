import { beforeAll, describe, expect, it } from 'vitest';
import { isShelfError } from '../../../src/errors/index.ts';
import { SearchIndex } from '../../../src/search/index.ts';
import { cannotMatchNewline, existenceTest } from '../../../src/search/regex-verify.ts';
import { loadCorpus, pick, rng, type CorpusDoc } from './corpus.ts';
import { oracleRanges } from './oracle.ts';

/**
 * Differential tests: regex and substring search over real third-party code must return
 * exactly the documents (and match ranges) that running the RegExp over every document finds.
 */

let corpus: CorpusDoc[];
let live: Map<string, CorpusDoc>;
let index: SearchIndex;
const random = rng(99);

const escape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

function randomSlice(min: number, max: number): string {
  for (;;) {
    const doc = pick(random, corpus);
    if (doc.text.length < 100) continue;
    const at = Math.floor(random() * (doc.text.length - max));
    const len = min + Math.floor(random() * (max - min + 1));
    const s = doc.text.slice(at, at + len);
    if (s.trim().length >= min) return s;
  }
}

function randomPatterns(count: number): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    const flags = i % 3 === 0 ? 'i' : i % 7 === 0 ? 'm' : '';
    const shape = i % 6;
    if (shape === 0) out.push([escape(randomSlice(3, 12)), flags]);
    else if (shape === 1) {
      const s = randomSlice(5, 12);
      const k = 1 + Math.floor(random() * (s.length - 2));
      out.push([`${escape(s.slice(0, k))}.${escape(s.slice(k + 1))}`, flags]);
    } else if (shape === 2) out.push([`${escape(randomSlice(3, 8))}|${escape(randomSlice(3, 8))}`, flags]);
    else if (shape === 3) {
      const w = randomSlice(4, 10).replace(/\W+/g, '');
      out.push([w.length >= 3 ? `\\b${w}\\w*\\(` : 'function\\s*\\(', flags]);
    } else if (shape === 4) out.push([`(?:${escape(randomSlice(3, 6))})+\\s*[=:]`, flags]);
    else out.push([`${escape(randomSlice(3, 6))}[^\\n]{0,20}${escape(randomSlice(2, 4))}`, flags]);
  }
  return out;
}

const HAND_PICKED: [string, string][] = [
  ['function\\s+\\w+\\(', ''], ['readonly\\s+\\w+\\[\\]', ''], ['Promise<\\w+>', ''], ['(?:get|set)[A-Z]\\w*', ''],
  ['\\bimport\\b.*from', ''], ['TODO|FIXME|XXX', 'i'], ['^export (?:declare )?(?:function|const)', 'm'],
  ['[0-9a-f]{8}', ''], ['Uint(8|16|32)Array', ''], ['new (Map|Set)\\(', ''], ['\\.prototype\\.', ''],
  ['"use strict"', ''], ['Error\\b', ''], ['(?<=\\.)then\\(', ''], ['\\b(\\w{3,})\\s*=\\s*\\1\\b', ''],
  ['\\u0041rray', ''], ['[^\\x00-\\x7f]', ''], ['ARRAYBUFFER', 'i'], ['k', 'iu'], ['interface\\s+\\w+<[^>]*>', 's'],
  ['a{3}', ''], ['(ab|cd){2,}', 'i'], ['\\p{Lu}{4}', 'u'], ['[\\p{L}--[a-z]]x', 'v'], ['x*', ''], ['^$', 'm'],
  ['ma.?p', ''], ['\\d+\\.\\d+\\.\\d+', ''], ['=>\\s*\\{\\s*\\n\\s*return', ''], ['(?i:array)', ''],
  // Patterns that start with a class: verified through the existence rewrite.
  ['[A-Z]\\w+Error\\b', ''], ['\\w+\\.prototype\\.\\w+', ''], ['[a-z]+Map<\\w+', 'i'], ['\\s+return\\s+new\\b', 'm'],
  ['(?:get|set)\\s*\\w*Value\\(', ''], ['(\\w)\\1ERROR', 'i'], ['.foo$', 'm'], ['[\\p{Lu}]\\w+Type\\b', 'u'],
];

async function check(pattern: string, flags: string): Promise<number> {
  let re: RegExp;
  try {
    re = new RegExp(pattern, flags);
  } catch {
    return 0; // e.g. a flag this Node does not know
  }
  const expected = [...live.values()].filter((d) => re.test(d.text)).map((d) => d.id).sort();
  const res = await index.regex(pattern, { flags, limit: Infinity, budgetMs: Infinity });
  expect({ pattern, flags, ids: res.matches.map((m) => m.id).sort() }).toEqual({ pattern, flags, ids: expected });
  expect(res.total).toBe(expected.length);
  expect(res.complete && !res.truncated).toBe(true);
  expect(res.candidates).toBeGreaterThanOrEqual(expected.length);
  for (const m of res.matches.slice(0, 3)) {
    const text = live.get(m.id)!.text;
    const want = oracleRanges(pattern, flags, text);
    expect(m.ranges.map((r) => [r.offset, r.length])).toEqual(want);
    for (const r of m.ranges) {
      const before = text.slice(0, r.offset);
      expect([r.line, r.column]).toEqual([before.split('\n').length - 1, r.offset - (before.lastIndexOf('\n') + 1)]);
    }
  }
  return expected.length;
}

beforeAll(() => {
  corpus = loadCorpus();
  live = new Map(corpus.map((d) => [d.id, d]));
  index = new SearchIndex({ segmentTokens: 40_000 });
  index.addMany(corpus.slice(0, corpus.length - 20));
  const r = rng(3);
  for (const d of corpus.slice(0, corpus.length - 20)) {
    if (r() < 0.05) {
      index.remove(d.id);
      live.delete(d.id);
    }
  }
  for (const d of corpus.slice(corpus.length - 20)) index.add(d);
});

describe('regex search vs brute force over real code', () => {
  it('matches the oracle on hand-picked patterns, including ones with no usable trigram', async () => {
    let found = 0;
    for (const [p, f] of HAND_PICKED) found += await check(p, f);
    expect(found).toBeGreaterThan(100);
  });

  it('matches the oracle on random patterns built from corpus text', async () => {
    let nonEmpty = 0;
    for (const [p, f] of randomPatterns(90)) if ((await check(p, f)) > 0) nonEmpty++;
    expect(nonEmpty).toBeGreaterThan(45);
  });

  it('answers existence through the literal exactly as the RegExp does', () => {
    const patterns: [string, string][] = [
      ...HAND_PICKED,
      ...randomPatterns(40).map(([p, f]): [string, string] => [`[\\w$]${p.startsWith('(?') ? `(?:${p})` : p}`, f]),
      ...randomPatterns(20).map(([p, f]): [string, string] => [`\\s*[=:(]?\\s*${escape(randomSlice(3, 8))}(?:${p})`, f]),
    ];
    let rewritten = 0;
    for (const [pattern, flags] of patterns) {
      let re: RegExp;
      try {
        re = new RegExp(pattern, flags);
      } catch {
        continue;
      }
      const fast = existenceTest(pattern, flags);
      if (fast === null) continue;
      rewritten++;
      const want = corpus.filter((d) => re.test(d.text)).map((d) => d.id);
      expect({ pattern, flags, ids: corpus.filter((d) => fast.test(d.text)).map((d) => d.id) }).toEqual({ pattern, flags, ids: want });
    }
    expect(rewritten).toBeGreaterThan(30);
    expect(existenceTest('[A-Z]\\w+Error\\b', 'i')).toEqual(/Error(?<=[A-Z]\w+Error)(?=\b)/i);
    expect(existenceTest('Error\\w+', 'i')).toBeNull(); // under i, starts with its literal already
    expect(existenceTest('Error\\w+', '')?.test('anError_')).toBe(true); // case-sensitive: found by its literal
    expect(existenceTest('Error\\w+', '')?.test('anError error_ Errors')).toBe(true);
    expect(existenceTest('Error\\w+', '')?.test('anError error_ ERRORs')).toBe(false);
    expect(existenceTest('(\\w)x\\1', '')).toBeNull(); // back-reference
    expect(existenceTest('\\w+a|bcd', '')).toBeNull(); // top-level alternation
  });

  it('collects every match range of line-bound patterns through seek, as the RegExp from the start does', async () => {
    // Patterns whose part before the literal cannot cross a line: their ranges are collected
    // from the line of each next literal occurrence. All matching documents, all ranges.
    const patterns: [string, string][] = [
      ['[A-Z]\\w+Error\\b', ''], ['\\w+\\.prototype\\.\\w+', ''], ['[a-z]+Map<\\w+', ''], ['(?:get|set)[A-Z]\\w*', ''],
      ['\\b\\w{2,}Type\\b', ''], ['[\\w$]+\\(\\)', 'm'], ['[^\\n]{0,5}return\\b', ''],
      ...randomPatterns(30).filter(([, f]) => f !== 'i').map(([p, f]): [string, string] => [`[\\w$]{1,3}${p.startsWith('(?') ? `(?:${p})` : p}`, f]),
    ];
    let seeking = 0;
    let ranges = 0;
    for (const [pattern, flags] of patterns) {
      const fast = existenceTest(pattern, flags);
      if (fast?.seek === undefined) continue;
      seeking++;
      const res = await index.regex(pattern, { flags, limit: Infinity, budgetMs: Infinity, maxRangesPerDocument: 1000 });
      for (const m of res.matches) {
        const got = m.ranges.map((r) => [r.offset, r.length]);
        expect({ pattern, id: m.id, got }).toEqual({ pattern, id: m.id, got: oracleRanges(pattern, flags, live.get(m.id)!.text, 1000) });
        ranges += got.length;
      }
    }
    expect(seeking).toBeGreaterThan(10);
    expect(ranges).toBeGreaterThan(1000);
  });

  it('seeks only where a match may start, on texts made to mislead it', () => {
    const cases: [string, string, string][] = [
      // A literal whose part before starts ahead of a previous match's end; overlapping literals;
      // a match on the line after a literal that has none; a literal at offset 0.
      ['[A-Z]\\w*Error', '', 'AnError BError\nxError\nQError CErrorError'],
      ['\\w+aa', '', 'aaaa aaa\nbaaa\n\naa'],
      ['^[a-z]xy', 'm', 'xy\naxy\nxy axy bxy\nbxy'],
    ];
    for (const [pattern, flags, text] of cases) {
      const fast = existenceTest(pattern, flags)!;
      expect(fast.seek).toBeDefined();
      const want = oracleRanges(pattern, flags, text, 1000);
      const re = new RegExp(pattern, `${flags}g`);
      const got: [number, number][] = [];
      re.lastIndex = 0;
      for (;;) {
        const at = fast.seek!(text, re.lastIndex);
        if (at === -1) break;
        re.lastIndex = at;
        const m = re.exec(text);
        if (m === null) break;
        got.push([m.index, m[0].length]);
        if (m[0].length === 0) re.lastIndex++;
      }
      expect({ pattern, got }).toEqual({ pattern, got: want });
    }
  });

  it('finds matches whose part before the literal holds an escaped raw line break', async () => {
    // `\` + a real newline matches a newline: no seeking may skip the line before `ab`.
    const pattern = '[a-z]\\\n?ab';
    expect(existenceTest(pattern, '')?.seek).toBeUndefined();
    const text = 'x\nab and yab';
    const local = new SearchIndex();
    local.add({ id: 'd', text });
    const res = await local.regex(pattern, { limit: 10 });
    expect(res.matches.map((m) => m.ranges.map((r) => [r.offset, r.length]))).toEqual([oracleRanges(pattern, '', text)]);
    expect(oracleRanges(pattern, '', text)[0]).toEqual([0, 4]);
  });

  it('tells which pattern parts cannot match a newline', () => {
    for (const safe of ['[A-Z]\\w+', '\\b\\d{2,}', '(?:get|set)', 'a.b', '[a-z0-9_$-]+', '\\.\\(', '[\\w.]*', '(?<=x)y', '(?<name>ab)', '(?!x)(?<!y)z']) {
      expect({ safe, ok: cannotMatchNewline(safe, '') }).toEqual({ safe, ok: true });
    }
    for (const [unsafe, flags] of [
      ['\\s+', ''], ['\\W', ''], ['\\D', ''], ['[^a]', ''], ['a.b', 's'], ['\\n', ''], ['\\x0a', ''], ['\\u000A', ''],
      ['[\\x00-z]', ''], ['[\\t-z]', ''], ['[ -~\\s]', ''], ['\\p{Cc}', 'u'], ['[a]', 'v'], ['x\ny', ''], ['\\cJ', ''],
      // A backslash before a raw line break (an identity escape), and a modifier group.
      ['[a-z]\\\n?', ''], ['[a-z](?s:.)', ''], ['(?i:x)', ''],
    ]) {
      expect({ unsafe, ok: cannotMatchNewline(unsafe!, flags!) }).toEqual({ unsafe, ok: false });
    }
  });

  it('prunes with trigrams: a selective literal verifies few documents', async () => {
    const res = await index.regex('createElementNS', { limit: Infinity });
    expect(res.plan).not.toBe('ALL');
    expect(res.candidates).toBeLessThan(live.size / 4);
    expect(res.verified).toBe(res.candidates);
  });

  it('matches the oracle for substring search, both cases', async () => {
    for (let i = 0; i < 40; i++) {
      const s = randomSlice(2, 14);
      const caseSensitive = i % 2 === 0;
      const re = new RegExp(escape(s), caseSensitive ? '' : 'i');
      const expected = [...live.values()].filter((d) => re.test(d.text)).map((d) => d.id).sort();
      const res = await index.substring(s, { caseSensitive, limit: Infinity, budgetMs: Infinity });
      expect({ s, ids: res.matches.map((m) => m.id).sort() }).toEqual({ s, ids: expected });
    }
  });

  it('applies filters, offset and limit, and counts all with countAll', async () => {
    const all = await index.regex('export', { limit: Infinity, filters: { language: 'dts' } });
    const expected = [...live.values()].filter((d) => d.language === 'dts' && d.text.includes('export'));
    expect(all.total).toBe(expected.length);
    const page = await index.regex('export', { offset: 2, limit: 3, filters: { language: 'dts' } });
    expect(page.matches.map((m) => m.id)).toEqual(all.matches.slice(2, 5).map((m) => m.id));
    expect(page.complete).toBe(false);
    const counted = await index.regex('export', { offset: 2, limit: 3, countAll: true, filters: { language: 'dts' } });
    expect(counted.total).toBe(all.total);
    expect(counted.complete).toBe(true);
  });

  it('stops verifying at the limit, and counts without ranges, with the same first matches', async () => {
    for (const pattern of ['[A-Z]\\w+Error\\b', '\\.prototype\\.\\w+', '\\bclass \\w+ extends \\w+']) {
      const all = await index.regex(pattern, { limit: Infinity });
      expect(all.total).toBeGreaterThan(5);
      const page = await index.regex(pattern, { limit: 5 });
      expect(page.matches).toEqual(all.matches.slice(0, 5));
      expect(page.verified).toBeLessThan(all.verified);
      expect(page.complete).toBe(false);
      const counted = await index.regex(pattern, { limit: 5, offset: 1, countAll: true });
      expect(counted.matches).toEqual(all.matches.slice(1, 6));
      expect(counted.total).toBe(all.total);
    }
  });

  it('stops at the time budget and reports truncation', async () => {
    // (A pattern no earlier test ran: a complete cached answer would be returned as is.)
    const res = await index.regex('[^\\x00-\\x7e]', { budgetMs: 0, limit: Infinity });
    expect(res.truncated).toBe(true);
    expect(res.complete).toBe(false);
    expect(res.verified).toBe(0);
  });

  it('rejects with ABORTED when the signal fires, even mid-scan', async () => {
    const early = new AbortController();
    early.abort();
    await expect(index.regex('x', { signal: early.signal })).rejects.toSatisfy((e) => isShelfError(e, 'ABORTED'));
    // A signal that fires after the query has checked it 40 times: aborts are seen between documents.
    let reads = 0;
    const flaky = { get aborted() { return ++reads > 40; }, reason: 'stop' } as unknown as AbortSignal;
    const run = index.regex('(?:a|b|c|d|e)\\w*\\s*;', { signal: flaky, limit: Infinity, countAll: true, budgetMs: Infinity });
    await expect(run).rejects.toSatisfy((e) => isShelfError(e, 'ABORTED'));
    expect(reads).toBe(41);
  });

  it('refuses bad patterns and flags with INVALID_ARGUMENT', async () => {
    await expect(index.regex('(', {})).rejects.toSatisfy((e) => isShelfError(e, 'INVALID_ARGUMENT'));
    await expect(index.regex('a', { flags: 'q' })).rejects.toSatisfy((e) => isShelfError(e, 'INVALID_ARGUMENT'));
    await expect(index.regex('', {})).rejects.toSatisfy((e) => isShelfError(e, 'INVALID_ARGUMENT'));
    await expect(index.regex('a', { limit: -1 })).rejects.toSatisfy((e) => isShelfError(e, 'INVALID_ARGUMENT'));
  });
});
