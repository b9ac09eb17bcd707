import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { isShelfError } from '../../../src/errors/index.ts';
import { compileGlob, type ChunkStore } from '../../../src/snapshot/index.ts';
import { bm25 } from '../../../src/snapshot/ranking.ts';
import { chunk, openTestStore } from './helpers.ts';

describe('searchContent', () => {
  let cs: ChunkStore;

  beforeEach(async () => {
    cs = (await openTestStore()).chunks;
    await cs.saveRepository('app');
    await cs.createSnapshot('app', 'c1');
    await cs.createSnapshot('app', 'c2');
  });

  it('finds exactly the chunks a brute-force token scan finds, over content, fqn and path', async () => {
    const words = ['alpha', 'beta', 'gamma', 'delta', 'login', 'token'];
    const docs = fc.sample(fc.record({
      path: fc.constantFrom('src/a.ts', 'src/login/b.ts', 'lib/c.ts'),
      fqn: fc.constantFrom('mod.alpha', 'mod.beta', 'x.y', 'token.parse'),
      body: fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 8 }),
    }), { numRuns: 60, seed: 42 });
    const saved = new Map<string, { path: string; fqn: string; body: string[] }>();
    for (const d of docs) saved.set(`${d.path}\u0000${d.fqn}`, d); // later duplicates win, as in the store
    await cs.saveChunks('app', 'c1', docs.map((d) => chunk(d.path, d.fqn, d.body.join(' (x) '))));
    const tokens = (s: string) => s.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
    for (const word of words) {
      const expected = [...saved.values()].filter((d) => [...d.body, ...tokens(d.fqn), ...tokens(d.path)].includes(word))
        .map((d) => `${d.path}#${d.fqn}`).sort();
      const hits = await cs.searchContent(word, { limit: 1000 });
      expect(hits.map((h) => `${h.chunk.filePath}#${h.chunk.fqn}`).sort(), word).toEqual(expected);
      const scores = hits.map((h) => h.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    }
  });

  it('ranks by BM25: frequency, length, rarity and the FQN column all count', async () => {
    await cs.saveChunks('app', 'c1', [
      chunk('a.ts', 'a.many', 'parse parse parse the input'),
      chunk('a.ts', 'a.once', 'parse the input and then do a great many other unrelated things with it later on'),
      chunk('b.ts', 'parse', 'the input and then do things'),
      chunk('c.ts', 'c.rare', 'zebra and the input'),
      chunk('c.ts', 'c.common1', 'input'),
      chunk('c.ts', 'c.common2', 'input input'),
    ]);
    const hits = await cs.searchContent('parse');
    // A chunk named exactly the term wins (FQN weight 2, one-token column), then three hits
    // in a short body beat one hit in a long body.
    expect(hits.map((h) => h.chunk.fqn)).toEqual(['parse', 'a.many', 'a.once']);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(hits[1]!.score).toBeGreaterThan(hits[2]!.score);
    // "zebra" is rarer than "input", so the chunk matching it outranks those matching only "input" once.
    const either = await cs.searchContent('zebra OR input', { limit: 3 });
    expect(either[0]!.chunk.fqn).toBe('c.rare');
    expect(either).toHaveLength(3);
  });

  it('returns snippets with highlighted terms, custom markers and ellipses', async () => {
    const long = `${'filler '.repeat(40)}the secret token lives here ${'padding '.repeat(40)}`;
    await cs.saveChunks('app', 'c1', [chunk('a.ts', 'a.f', long)]);
    const [hit] = await cs.searchContent('token');
    expect(hit!.snippet).toContain('<mark>token</mark>');
    expect(hit!.snippet).toContain('…');
    expect(hit!.snippet.length).toBeLessThan(long.length / 2);
    const [custom] = await cs.searchContent('secret', { highlight: ['[[', ']]'], snippetTokens: 4 });
    expect(custom!.snippet).toContain('[[secret]]');
    expect(custom!.snippet.split(/\s+/).filter((w) => w !== '…').length).toBeLessThanOrEqual(6);
  });

  it('filters by snapshot and by path glob, and skips soft-deleted chunks', async () => {
    const paths = ['src/a.ts', 'src/deep/er/b.ts', 'src/c.js', 'lib/d.ts', 'srcx/e.ts'];
    await cs.saveChunks('app', 'c1', paths.map((p) => chunk(p, `${p}.fn`, 'needle here')));
    await cs.saveChunks('app', 'c2', [chunk('src/a.ts', 'other', 'needle again')]);
    const glob = async (pathGlob: string) =>
      (await cs.searchContent('needle', { pathGlob, snapshot: { repo: 'app', commit: 'c1' } })).map((h) => h.chunk.filePath).sort();
    expect(await glob('src/**/*.ts')).toEqual(['src/a.ts', 'src/deep/er/b.ts']);
    expect(await glob('src/*.ts')).toEqual(['src/a.ts']);
    expect(await glob('**/*.{js,ts}')).toEqual([...paths].sort());
    expect(await glob('*/?.ts')).toEqual(['lib/d.ts', 'src/a.ts', 'srcx/e.ts']);
    expect(await glob('src/*')).toEqual(['src/a.ts', 'src/c.js']);
    expect((await cs.searchContent('needle')).length).toBe(6);
    expect((await cs.searchContent('needle', { snapshot: { repo: 'app', commit: 'c2' } })).map((h) => h.chunk.fqn)).toEqual(['other']);
    await cs.softDeleteFileChunks('app', 'c1', 'src/a.ts');
    expect(await glob('src/*.ts')).toEqual([]);
    expect((await cs.searchContent('needle', { limit: 2 }))).toHaveLength(2);
  });

  it('refuses bad queries and options, naming them', async () => {
    await cs.saveChunks('app', 'c1', [chunk('a.ts', 'a', 'x')]);
    const cases: [Promise<unknown>, string, string][] = [
      [cs.searchContent('"unbalanced'), 'INVALID_ARGUMENT', 'query'],
      [cs.searchContent(''), 'INVALID_ARGUMENT', 'query'],
      [cs.searchContent('x', { limit: 0 }), 'INVALID_ARGUMENT', 'options.limit'],
      [cs.searchContent('x', { pathGlob: 'src/[a' }), 'INVALID_ARGUMENT', 'options.pathGlob'],
      [cs.searchContent('x', { highlight: ['a'] as never }), 'INVALID_ARGUMENT', 'options.highlight'],
      [cs.searchContent('x', { snapshot: { repo: 'app', commit: 'nope' } }), 'NOT_FOUND', 'options.snapshot'],
    ];
    for (const [promise, code, argument] of cases) {
      const error = await promise.catch((e: unknown) => e);
      expect(isShelfError(error), String(error)).toBe(true);
      expect((error as { code: string }).code).toBe(code);
      expect((error as Error).message).toContain(argument);
    }
  });
});

describe('compileGlob', () => {
  it('matches path segments the way code tools do', () => {
    const table: [string, string, boolean][] = [
      ['*.ts', 'a.ts', true], ['*.ts', 'src/a.ts', false], ['**/*.ts', 'src/a.ts', true], ['**/*.ts', 'a.ts', true],
      ['src/**', 'src/a/b/c', true], ['src/**/x.ts', 'src/x.ts', true], ['src/**/x.ts', 'srcx.ts', false],
      ['a?.ts', 'ab.ts', true], ['a?.ts', 'a/.ts', false], ['[ab].ts', 'b.ts', true], ['[!ab].ts', 'b.ts', false],
      ['{src,lib}/*.ts', 'lib/a.ts', true], ['{src,lib}/*.ts', 'test/a.ts', false], ['a.b(c)+.ts', 'a.b(c)+.ts', true],
      ['a.ts', 'abts', false], ['x,y', 'x,y', true],
    ];
    for (const [pattern, path, expected] of table) expect(compileGlob(pattern).test(path), `${pattern} ~ ${path}`).toBe(expected);
    expect(() => compileGlob('{a,b')).toThrow(/unclosed/);
  });

  it('takes a ] right after [ or [! as a member, and ** crosses line breaks as * does', () => {
    const table: [string, string, boolean][] = [
      ['[]a].ts', 'a.ts', true], ['[]a].ts', '].ts', true], ['[]a].ts', 'b.ts', false],
      ['x[!]]', 'xa', true], ['x[!]]', 'x]', false], ['x[!]]', 'xab', false],
      ['[a^]', '^', true], ['[\\]', '\\', true],
      ['src/*', 'src/a\nb', true], ['src/**', 'src/a\nb', true], ['src/**/x.ts', 'src/a\u2028b/x.ts', true],
    ];
    for (const [pattern, path, expected] of table) expect(compileGlob(pattern).test(path), `${pattern} ~ ${JSON.stringify(path)}`).toBe(expected);
    expect(() => compileGlob('[]')).toThrow(/unclosed/);
  });
});

describe('saveChunks ids', () => {
  it('are right for chunks whose path and FQN would run together (NUL inside them)', async () => {
    const cs = (await openTestStore()).chunks;
    await cs.saveRepository('app');
    await cs.createSnapshot('app', 'c1');
    const ids = await cs.saveChunks('app', 'c1', [chunk('a', 'b\u0000c', 'one'), chunk('a\u0000b', 'c', 'two')]);
    const stored = await cs.getChunks('app', 'c1');
    expect(new Set(ids).size).toBe(2);
    for (const [i, id] of ids.entries()) expect((await cs.getChunk(id))?.content).toBe(['one', 'two'][i]);
    expect([...ids].sort()).toEqual(stored.map((c) => c.id).sort());
  });
});

describe('bm25', () => {
  it('scores zero without hits and more for more hits', () => {
    // p=1, c=1, n=10, a=[5], l=[5], x=[hits, allHits, docsWithHits]
    const info = (hits: number) => new Uint8Array(new Uint32Array([1, 1, 10, 5, 5, hits, 12, 3]).buffer);
    expect(bm25(info(0), [1])).toBe(0);
    expect(bm25(info(2), [1])).toBeGreaterThan(bm25(info(1), [1]));
    expect(bm25(info(1), [2])).toBeCloseTo(2 * bm25(info(1), [1]));
  });
});
