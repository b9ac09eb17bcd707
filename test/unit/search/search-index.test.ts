import { describe, expect, it } from 'vitest';
import { isShelfError } from '../../../src/errors/index.ts';
import { SearchIndex, type SearchDocument } from '../../../src/search/index.ts';

const doc = (id: string, text: string, extra: Partial<SearchDocument> = {}): SearchDocument => ({ id, text, ...extra });
const ids = async (index: SearchIndex, q: string) => (await index.query(q, { limit: 100 })).hits.map((h) => h.id).sort();

describe('SearchIndex writes', () => {
  it('makes add, update and remove visible to the next query without a rebuild', async () => {
    const index = new SearchIndex({ segmentTokens: 8, mutableTokens: 4 });
    index.add(doc('a', 'const parser = createParser()'));
    index.add(doc('b', 'function tokenize(text) {}'));
    expect(await ids(index, 'parser')).toEqual(['a']);
    index.update(doc('b', 'class Parser {}'));
    expect(await ids(index, 'parser')).toEqual(['a', 'b']);
    expect(await ids(index, 'tokenize')).toEqual([]);
    expect(index.remove('a')).toBe(true);
    expect(index.remove('a')).toBe(false);
    expect(await ids(index, 'parser')).toEqual(['b']);
    index.add(doc('c', 'parser again'));
    expect(await ids(index, 'parser')).toEqual(['b', 'c']);
    expect(index.size).toBe(2);
    expect(index.stats().segments).toBeGreaterThan(0);
  });

  it('leaves an unchanged document alone and notices metadata changes', () => {
    const index = new SearchIndex();
    expect(index.update(doc('a', 'x y z', { path: 'a.ts', tags: ['t'] }))).toBe('added');
    expect(index.update(doc('a', 'x y z', { path: 'a.ts', tags: ['t'] }))).toBe('unchanged');
    expect(index.update(doc('a', 'x y z', { path: 'a.ts', tags: ['u'] }))).toBe('updated');
    expect(index.update(doc('a', 'x y w', { path: 'a.ts', tags: ['u'] }))).toBe('updated');
    expect(index.stats().mutableDocuments).toBe(1);
  });

  it('refuses bad input at the edge and writes nothing', () => {
    const index = new SearchIndex();
    index.add(doc('a', 'x'));
    const bad: unknown[] = [null, { id: '', text: 'x' }, { id: 'q', text: 3 }, { id: 'q', text: 'x', tags: 'nope' }, { id: 'q', text: 'x', fields: { n: 1 } }];
    for (const b of bad) expect(() => index.add(b as SearchDocument)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => index.add(doc('a', 'again'))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => index.addMany([doc('b', 'x'), doc('c', 'y'), { id: 'd' } as SearchDocument])).toThrow(/docs\[2\]\.text/);
    expect(() => index.addMany([doc('b', 'x'), doc('b', 'y')])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(index.size).toBe(1);
    expect(index.has('b')).toBe(false);
  });

  it('returns stored documents with their metadata', async () => {
    const index = new SearchIndex({ segmentTokens: 4 });
    const d = doc('a', 'alpha beta', { path: 'src/a.ts', language: 'ts', kind: 'file', tags: ['x', 'y'], fields: { owner: 'me' } });
    index.add(d);
    index.add(doc('b', 'gamma'));
    expect(await index.get('a')).toEqual({ ...d, tokens: 2 });
    expect(await index.get('zz')).toBeUndefined();
  });
});

describe('SearchIndex queries', () => {
  it('filters by path glob, language, kind, tag and custom fields', async () => {
    const index = new SearchIndex({ segmentTokens: 10 });
    index.addMany([
      doc('1', 'shared one', { path: 'src/a/x.ts', language: 'ts', kind: 'file', tags: ['core'], fields: { team: 'red' } }),
      doc('2', 'shared two', { path: 'src/b/y.js', language: 'js', kind: 'file', tags: ['ui', 'core'] }),
      doc('3', 'shared three', { path: 'lib/z.d.ts', language: 'ts', kind: 'typings', fields: { team: 'blue' } }),
    ]);
    const q = async (filters: object) => (await index.query('shared', { filters })).hits.map((h) => h.id).sort();
    expect(await q({ path: 'src/**' })).toEqual(['1', '2']);
    expect(await q({ path: '*.ts' })).toEqual(['1', '3']);
    expect(await q({ path: ['lib/*', 'src/b/*'] })).toEqual(['2', '3']);
    expect(await q({ language: 'ts', kind: 'file' })).toEqual(['1']);
    expect(await q({ tag: 'core' })).toEqual(['1', '2']);
    expect(await q({ fields: { team: ['blue', 'green'] } })).toEqual(['3']);
    expect(await q({ language: 'rust' })).toEqual([]);
    expect((await index.query('', { filters: { tag: 'ui' } })).hits.map((h) => h.id)).toEqual(['2']);
    await expect(index.query('x', { filters: { language: 5 } as never })).rejects.toSatisfy((e) => isShelfError(e, 'INVALID_ARGUMENT'));
  });

  it('ranks with BM25: rarer terms and shorter documents score higher', async () => {
    const index = new SearchIndex();
    index.add(doc('long', `needle ${'filler '.repeat(200)}`));
    index.add(doc('short', 'needle filler'));
    index.add(doc('rare', 'unicorn filler'));
    const res = await index.query('needle OR unicorn');
    expect(res.hits.map((h) => h.id)).toEqual(['rare', 'short', 'long']);
  });

  it('scores a query matching 100k documents into a bounded page', async () => {
    const index = new SearchIndex();
    const docs: SearchDocument[] = [];
    for (let i = 0; i < 100_000; i++) docs.push(doc(`d${i}`, i % 1000 === 0 ? 'common common rare' : `common word${i % 97}`));
    index.addMany(docs);
    const started = performance.now();
    const res = await index.query('common', { limit: 10, highlight: true });
    const ms = performance.now() - started;
    expect(res.total).toBe(100_000);
    expect(res.hits).toHaveLength(10);
    expect(res.hits[0]!.id).toBe('d0');
    expect(ms).toBeLessThan(2000);
    const deep = await index.query('common', { offset: 99_995, limit: 10, highlight: false });
    expect(deep.hits).toHaveLength(5);
  });

  it('caches answers until the next write, and honors budgets and aborts', async () => {
    const index = new SearchIndex();
    index.add(doc('a', 'alpha'));
    const first = await index.query('alpha');
    expect(await index.query('alpha')).toBe(first);
    expect(index.stats().queryCache.hits).toBe(1);
    index.add(doc('b', 'alpha'));
    const second = await index.query('alpha');
    expect(second).not.toBe(first);
    expect(second.total).toBe(2);
    const aborted = new AbortController();
    aborted.abort();
    await expect(index.query('zeta', { signal: aborted.signal })).rejects.toSatisfy((e) => isShelfError(e, 'ABORTED'));
    const spent = await index.query('beta', { budgetMs: 0 });
    expect(spent.truncated).toBe(true);
  });

  it('counts tokens once per distinct text', () => {
    const index = new SearchIndex();
    expect(index.countTokens('getElementById(x)')).toBe(6);
    expect(index.countTokens('getElementById(x)')).toBe(6);
  });
});

describe('SearchIndex merges', () => {
  it('proposes tiered merges and runs them one step at a time', async () => {
    const index = new SearchIndex({ segmentTokens: 5, merge: { mergeFactor: 3, floorTokens: 5 } });
    for (let i = 0; i < 20; i++) index.add(doc(`d${i}`, `token${i} one two three four five`));
    const before = index.stats().segments;
    expect(index.pendingMerges()).toBeGreaterThan(0);
    const step = await index.merge({ maxMerges: 1 });
    expect(step.merges).toBe(1);
    expect(index.stats().segments).toBe(before - 2);
    await index.merge();
    expect(index.pendingMerges()).toBe(0);
    expect(await ids(index, 'one')).toHaveLength(20);
    for (let i = 0; i < 20; i += 2) index.remove(`d${i}`);
    await index.merge({ force: true });
    expect(index.stats().segments).toBe(1);
    expect(index.stats().deletedDocuments).toBe(0);
    expect(await ids(index, 'one')).toHaveLength(10);
    expect(await ids(index, 'token4')).toEqual([]);
    expect(await ids(index, 'token5')).toEqual(['d5']);
  });
});
