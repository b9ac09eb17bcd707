import { describe, expect, it, vi } from 'vitest';
import { isShelfError } from '../../../src/errors/index.ts';
import { createMemoryKv, type KvStore } from '../../../src/kv/index.ts';
import { kvSegmentStorage, MemorySegmentStorage, SearchIndex } from '../../../src/search/index.ts';
import { SearchService } from '../../../src/service/search-service.ts';

/**
 * Regressions found in review: regex escapes the trigram planner misread, idf going negative
 * after updates, repair resurrecting removed documents, null options, and background work
 * outliving SearchService.close().
 */

// The service opens IndexedDB in the browser; in Node it gets a memory store handed out here.
const kvs = vi.hoisted(() => ({ next: [] as unknown[] }));
vi.mock('../../../src/kv/index.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/kv/index.ts')>();
  return {
    ...actual,
    openIndexedDbKv: async () => (kvs.next.shift() as KvStore | undefined) ?? actual.createMemoryKv(),
  };
});

/** The pattern must match `text`; returns the ids the index finds (one document, `d`). */
async function ids(p: string, f: string, text: string): Promise<string[]> {
  expect(new RegExp(p, f).test(text)).toBe(true);
  const index = new SearchIndex();
  index.add({ id: 'd', text });
  return (await index.regex(p, { flags: f })).matches.map((m) => m.id);
}

/** Index results against a brute-force RegExp scan over `texts`, for each pattern. */
async function differential(texts: readonly string[], patterns: readonly string[], flagSets: readonly string[]): Promise<number> {
  const index = new SearchIndex();
  index.addMany(texts.map((text, i) => ({ id: String(i), text })));
  let matched = 0;
  for (const flags of flagSets) {
    for (const p of patterns) {
      let re: RegExp;
      try {
        re = new RegExp(p, flags);
      } catch {
        continue; // not a pattern under these flags (e.g. a legacy octal under `u`)
      }
      const want = texts.flatMap((t, i) => (re.test(t) ? [String(i)] : []));
      const got = (await index.regex(p, { flags, limit: Infinity })).matches.map((m) => m.id).sort((a, b) => Number(a) - Number(b));
      expect({ p, flags, got }).toEqual({ p, flags, got: want });
      matched += want.length;
    }
  }
  return matched;
}

describe('regex planning of legacy (Annex B) escapes without u', () => {
  it('legacy octal \\012 (non-u)', async () => {
    expect(await ids('a\\012bc', '', 'xx a\nbc yy')).toEqual(['d']);
    expect(await ids('a\\0123', '', 'a\n3')).toEqual(['d']);
    expect(await ids('a[\\012]bc', '', 'a\nbc')).toEqual(['d']);
  });

  it('reads \\1-\\9 as back-references only when the pattern has that many groups', async () => {
    expect(await ids('a\\12bc', '', 'a\nbc')).toEqual(['d']); // no groups: octal 12
    expect(await ids('x\\8yz', '', 'x8yz')).toEqual(['d']); // identity escape
    expect(await ids('(a)\\1bcd', '', 'aabcd')).toEqual(['d']); // back-reference
    expect(await ids('(a)\\18cd', '', 'a\x018cd')).toEqual(['d']); // 18 > 1 group: octal \1, then "8"
    expect(await ids('\\1(a)bcd', '', 'abcd')).toEqual(['d']); // forward reference: empty
  });

  it('agrees with RegExp on every octal, decimal and identity escape form', async () => {
    // Texts `a<c><tail>bc` for every code unit below 0x100 and a few digit tails.
    const texts: string[] = [];
    for (let c = 0; c < 0x100; c++) for (const tail of ['', '1', '2', '3', '7', '8', '23', '4']) texts.push(`a${String.fromCharCode(c)}${tail}bc`);
    const escapes = [
      '\\0', '\\00', '\\01', '\\012', '\\0123', '\\07', '\\08', '\\09', '\\1', '\\12', '\\123', '\\1234', '\\18', '\\3', '\\37',
      '\\377', '\\378', '\\4', '\\47', '\\477', '\\400', '\\7', '\\8', '\\9', '\\81', '\\2', '\\27',
      '\\c1', '\\c_', '\\cJ', '\\x0a1', '\\u000a2',
    ];
    const patterns = escapes.flatMap((e) => [`a${e}bc`, `a[${e}]bc`, `a[${e}x]bc`, `(a)${e}bc`, `(a)(b)?${e}bc`, `a${e}?bc`]);
    expect(await differential(texts, patterns, ['', 'i', 'u'])).toBeGreaterThan(200);
  });
});

describe('regex planning of astral characters', () => {
  it('plans an escaped surrogate pair as one character under u', async () => {
    expect(await ids('x[\\uD83D\\uDE00]y', 'u', 'x\u{1F600}y')).toEqual(['d']);
    expect(await ids('ab\\uD83D\\uDE00?c', 'u', 'abc')).toEqual(['d']);
    expect(await ids('ab\\uD83D\\uDE00+c', 'u', 'ab\u{1F600}\u{1F600}c')).toEqual(['d']);
    expect(await ids('ab\\uD83D\\uDE00{2}c', 'u', 'ab\u{1F600}\u{1F600}c')).toEqual(['d']);
  });

  it('plans \\u{...} and literal astral characters as one character under u', async () => {
    expect(await ids('x[\\u{1F600}]y', 'u', 'x\u{1F600}y')).toEqual(['d']);
    expect(await ids('x[\u{1F600}]y', 'u', 'x\u{1F600}y')).toEqual(['d']);
    expect(await ids('x[a\u{1F600}b]y', 'u', 'x\u{1F600}y')).toEqual(['d']);
    expect(await ids('ab\\u{1F600}?c', 'u', 'abc')).toEqual(['d']);
    expect(await ids('ab\u{1F600}?c', 'u', 'abc')).toEqual(['d']);
    expect(await ids('ab\u{1F600}{2}c', 'u', 'ab\u{1F600}\u{1F600}c')).toEqual(['d']);
  });

  it('keeps treating them as two code units without u, as RegExp does', async () => {
    expect(await ids('ab\u{1F600}?c', '', 'ab\uD83Dc')).toEqual(['d']);
    expect(await ids('ab\\uD83D\\uDE00?c', '', 'ab\uD83Dc')).toEqual(['d']);
    expect(await ids('x[\u{1F600}]y', '', 'x\uDE00y')).toEqual(['d']);
    expect(await ids('x[\\uD83D\\uDE00]y', '', 'x\uD83Dy')).toEqual(['d']);
  });

  it('agrees with RegExp over pairs, lone halves and repeats', async () => {
    const texts = [
      'x\u{1F600}y', 'x\uD83Dy', 'x\uDE00y', 'x\u{1F601}y', 'xay', 'abc', 'ab\u{1F600}c', 'ab\u{1F600}\u{1F600}c', 'ab\uD83Dc',
      'ab\uDE00c', 'ab\uD83D\uDE00\uDE00c', 'ab\uD83D\uD83Dc', 'x\u{1F600}\u{1F600}y',
    ];
    const astral = ['\\uD83D\\uDE00', '\\u{1F600}', '\u{1F600}', '\\uD83D', '\\uDE00'];
    const patterns = astral.flatMap((a) => [
      `x[${a}]y`, `x[a${a}]y`, `x[^${a}]y`, `ab${a}?c`, `ab${a}+c`, `ab${a}{2}c`, `ab${a}*c`, `x${a}y`, `x(?:${a})?y`,
      `x[${a}-\\u{1F64F}]y`,
    ]);
    expect(await differential(texts, patterns, ['', 'u', 'v', 'iu'])).toBeGreaterThan(40);
  });
});

describe('query words the index cannot hold, and NOT before a closing parenthesis', () => {
  const long = 'q'.repeat(70);
  async function found(query: string, texts: Record<string, string>): Promise<string[]> {
    const index = new SearchIndex();
    for (const [id, text] of Object.entries(texts)) index.add({ id, text });
    return (await index.query(query)).hits.map((h) => h.id).sort();
  }

  it('a word or phrase holding a token too long to index matches nothing, never anything', async () => {
    const texts = { a: 'alpha beta omega', b: `alpha ${long} omega` };
    expect(await found(`"alpha ${long} omega"`, texts)).toEqual([]);
    expect(await found(`alpha ${long}`, texts)).toEqual([]);
    expect(await found(`${long}*`, texts)).toEqual([]);
    // ... and leaves the rest of an OR alone.
    expect(await found(`${long} OR beta`, texts)).toEqual(['a']);
    // A long identifier whose parts are short is still found by its parts.
    const camel = `${'part'.repeat(10)}Tail${'x'.repeat(30)}`;
    expect(await found(camel, { c: `const ${camel} = 1` })).toEqual(['c']);
  });

  it('NOT or - right before ) negates nothing: the group keeps its meaning', async () => {
    const texts = { onlyA: 'alpha', onlyB: 'bravo', not: 'not alpha' };
    expect(await found('(alpha NOT) OR bravo', texts)).toEqual(['not', 'onlyB']);
    expect(await found('(alpha -) OR bravo', texts)).toEqual(['not', 'onlyA', 'onlyB']);
  });
});

describe('BM25 after updates', () => {
  it('keeps idf positive and ranking intact while sealed segments hold deleted copies', async () => {
    const index = new SearchIndex({ storage: new MemorySegmentStorage() });
    index.add({ id: 'a', text: 'foo foo foo bar' });
    index.add({ id: 'b', text: 'foo bar baz qux' });
    await index.flush();
    index.update({ id: 'b', text: 'foo bar baz quux' });
    await index.flush();
    const got = await index.query('foo');
    expect(got.hits.map((h) => h.id)).toEqual(['a', 'b']);
    for (const h of got.hits) expect(h.score).toBeGreaterThan(0);
  });

  it('scores the same before and after a merge purges deleted copies', async () => {
    const index = new SearchIndex({ storage: new MemorySegmentStorage() });
    for (let i = 0; i < 12; i++) index.add({ id: `d${i}`, text: `common ${'rare '.repeat(i % 3)} word${i} ${i % 2 ? 'odd' : 'even'}` });
    await index.flush();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 12; i += 2) index.update({ id: `d${i}`, text: `common edited${round} word${i} even` });
      await index.flush();
    }
    index.remove('d1');
    const queries = ['common', 'rare', 'even', 'odd common', 'word*', '"common rare"', 'edited2 OR rare'];
    const before = await Promise.all(queries.map((q) => index.query(q, { limit: 100, highlight: false })));
    expect(index.stats().deletedDocuments).toBeGreaterThan(0);
    await index.merge({ force: true });
    expect(index.stats().deletedDocuments).toBe(0);
    const after = await Promise.all(queries.map((q) => index.query(q, { limit: 100, highlight: false })));
    queries.forEach((q, i) => {
      expect({ q, ids: after[i]!.hits.map((h) => h.id) }).toEqual({ q, ids: before[i]!.hits.map((h) => h.id) });
      after[i]!.hits.forEach((h, j) => {
        expect(h.score).toBeGreaterThan(0);
        expect(h.score).toBeCloseTo(before[i]!.hits[j]!.score, 12);
      });
    });
  });
});

describe('repair of a damaged segment', () => {
  async function damagedAfter(edit: (index: SearchIndex) => void) {
    const storage = new MemorySegmentStorage();
    const index = new SearchIndex({ storage });
    index.add({ id: 'a', text: 'alpha one' });
    index.add({ id: 'b', text: 'beta two' });
    await index.flush();
    edit(index);
    await index.flush();
    storage.entries.get('seg/0/body')![40]! ^= 0xff;
    const re = await SearchIndex.open(storage);
    const problems = await re.checkSegments();
    expect(problems.map((p) => p.segmentId)).toEqual([0]);
    return { re, problems };
  }

  it('lists only the live ids of a damaged segment, so a removed document stays removed', async () => {
    const { re, problems } = await damagedAfter((index) => index.remove('b'));
    expect(problems[0]!.ids).toEqual(['a']);
    const src = new Map([['a', 'alpha one'], ['b', 'beta two']]);
    await re.rebuildSegment(0, problems[0]!.ids!.map((id) => ({ id, text: src.get(id)! })));
    expect(re.has('b')).toBe(false);
    expect(re.has('a')).toBe(true);
  });

  it('leaves the newer copy of a document updated elsewhere alone', async () => {
    const { re, problems } = await damagedAfter((index) => index.update({ id: 'b', text: 'beta three' }));
    expect(problems[0]!.ids).toEqual(['a']);
    const old = new Map([['a', 'alpha one'], ['b', 'beta two']]);
    await re.rebuildSegment(0, problems[0]!.ids!.map((id) => ({ id, text: old.get(id)! })));
    expect((await re.get('b'))?.text).toBe('beta three');
    expect((await re.query('three')).hits.map((h) => h.id)).toEqual(['b']);
  });
});

describe('options that are not objects', () => {
  it('refuses null and non-object options with INVALID_ARGUMENT naming options', async () => {
    const index = new SearchIndex();
    index.add({ id: 'a', text: 'hello world' });
    const calls: [string, (o: never) => unknown][] = [
      ['query', (o) => index.query('hello', o)],
      ['regex', (o) => index.regex('hel+o', o)],
      ['substring', (o) => index.substring('hello', o)],
      ['merge', (o) => index.merge(o)],
      ['open', (o) => SearchIndex.open(new MemorySegmentStorage(), o)],
    ];
    for (const [name, call] of calls) {
      for (const bad of [null, 42, 'x', true]) {
        const error = await Promise.resolve().then(() => call(bad as never)).then(() => 'resolved', (e: unknown) => e);
        expect({ name, bad, invalid: isShelfError(error, 'INVALID_ARGUMENT') }).toEqual({ name, bad, invalid: true });
        expect((error as Error).message).toMatch(/\boptions\b/);
      }
    }
    // undefined still means "defaults"
    expect((await index.query('hello', undefined)).hits.map((h) => h.id)).toEqual(['a']);
  });
});

describe('SearchService.close', () => {
  /** A memory store that records every call made after close() was called on it. */
  function watchedKv(inner: KvStore = createMemoryKv()) {
    let closed = false;
    const late: string[] = [];
    const kv = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (prop === 'close') closed = true;
          else if (closed) late.push(String(prop));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return { kv, late };
  }
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  };

  it('cancels or awaits a scheduled background merge: nothing touches storage after close', async () => {
    const { kv, late } = watchedKv();
    kvs.next.push(kv);
    const service = new SearchService();
    await service.open({ name: 'merge-on-close', search: { preload: false, merge: { mergeFactor: 2 } } });
    await service.update([{ id: 'a', text: 'alpha' }]);
    await service.update([{ id: 'b', text: 'beta' }]); // second segment: a merge is now scheduled
    await service.close();
    await turns(30);
    expect(late).toEqual([]);
    expect(service.lastError).toBeUndefined();
  });

  it('still merges in the background while open', async () => {
    const service = new SearchService();
    await service.open({ name: 'merge-while-open', search: { preload: false, merge: { mergeFactor: 2 } } });
    await service.update([{ id: 'a', text: 'alpha' }]);
    await service.update([{ id: 'b', text: 'beta' }]);
    for (let i = 0; i < 200 && service.stats().segments > 1; i++) await turns(1);
    expect(service.stats().segments).toBe(1);
    expect(service.lastError).toBeUndefined();
    await service.close();
    await expect(service.query('alpha')).rejects.toSatisfy((e) => isShelfError(e, 'CLOSED'));
  });

  it('a close() whose final save fails leaves the service working: compact() and merges run again', async () => {
    let failing = false;
    const inner = createMemoryKv();
    const kv = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (failing && (prop === 'set' || prop === 'batch' || prop === 'delete')) return Promise.reject(new Error('disk full'));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    kvs.next.push(kv);
    const service = new SearchService();
    await service.open({ name: 'close-fails', search: { preload: false, merge: { mergeFactor: 2 } } });
    await service.update([{ id: 'a', text: 'alpha' }]);
    failing = true;
    await expect(service.update([{ id: 'b', text: 'beta' }])).rejects.toThrow();
    await expect(service.close()).rejects.toThrow();
    failing = false;
    await expect(service.compact()).resolves.toBeUndefined();
    expect((await service.query('beta')).hits.map((h) => h.id)).toEqual(['b']);
    await service.close();
  });

  it('stops a preload in progress: nothing touches storage after close', async () => {
    const inner = createMemoryKv();
    const index = await SearchIndex.open(kvSegmentStorage(inner));
    for (let i = 0; i < 6; i++) {
      index.add({ id: `d${i}`, text: `document number ${i}` });
      await index.flush(); // one segment each
    }
    const { kv, late } = watchedKv(inner);
    kvs.next.push(kv);
    const service = new SearchService();
    await service.open({ name: 'preload-on-close' });
    await service.close();
    await turns(30);
    expect(late).toEqual([]);
  });
});
