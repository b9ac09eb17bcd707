import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { isShelfError, type ShelfErrorCode } from '../../../src/errors/index.ts';
import { sha256Hex, type ChunkStore, type CodeSnapshotStore } from '../../../src/snapshot/index.ts';
import { chunk, openTestStore } from './helpers.ts';

async function expectCode(promise: Promise<unknown>, code: ShelfErrorCode, mentions?: string): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(isShelfError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  if (mentions) expect((error as Error).message).toContain(mentions);
}

describe('ChunkStore', () => {
  let store: CodeSnapshotStore;
  let cs: ChunkStore;

  beforeEach(async () => {
    store = await openTestStore();
    cs = store.chunks;
    await cs.saveRepository('app', { url: 'https://example.com/app.git' });
    await cs.createSnapshot('app', 'c1', { branch: 'main' });
  });

  describe('repositories', () => {
    it('saves, gets, lists, and updates the url only when given', async () => {
      const repo = await cs.getRepository('app');
      expect(repo).toMatchObject({ name: 'app', url: 'https://example.com/app.git' });
      const again = await cs.saveRepository('app');
      expect(again).toEqual(repo);
      const moved = await cs.saveRepository('app', { url: null });
      expect(moved).toEqual({ ...repo, url: null });
      await cs.saveRepository('lib');
      expect((await cs.listRepositories()).map((r) => r.name)).toEqual(['app', 'lib']);
      expect(await cs.getRepository('nope')).toBeUndefined();
    });

    it('refuses bad names', async () => {
      await expectCode(cs.saveRepository(''), 'INVALID_ARGUMENT', 'name');
      await expectCode(cs.saveRepository(42 as unknown as string), 'INVALID_ARGUMENT', 'name');
      await expectCode(cs.saveRepository('x', { url: 3 as unknown as string }), 'INVALID_ARGUMENT', 'options.url');
    });
  });

  describe('snapshots', () => {
    it('creates with branch and parent, returns an existing one unchanged, lists oldest first', async () => {
      const c1 = (await cs.getSnapshot('app', 'c1'))!;
      expect(c1).toMatchObject({ commitHash: 'c1', branch: 'main', parentId: null });
      const c2 = await cs.createSnapshot('app', 'c2', { parent: 'c1', branch: 'dev' });
      expect(c2).toMatchObject({ commitHash: 'c2', branch: 'dev', parentId: c1.id, repoId: c1.repoId });
      expect(await cs.createSnapshot('app', 'c2', { branch: 'other' })).toEqual(c2);
      expect((await cs.listSnapshots('app')).map((s) => s.commitHash)).toEqual(['c1', 'c2']);
      expect(await cs.getSnapshot('app', 'zzz')).toBeUndefined();
    });

    it('is NOT_FOUND for an unknown repository or parent', async () => {
      await expectCode(cs.createSnapshot('ghost', 'c1'), 'NOT_FOUND', 'repo');
      await expectCode(cs.createSnapshot('app', 'c9', { parent: 'nope' }), 'NOT_FOUND', 'options.parent');
      await expectCode(cs.getSnapshot('ghost', 'c1'), 'NOT_FOUND');
      await expectCode(cs.listSnapshots('ghost'), 'NOT_FOUND');
      expect(await cs.getSnapshot('app', 'c9')).toBeUndefined();
    });
  });

  describe('chunks', () => {
    it('saves one chunk with a SHA-256 content hash and reads it back', async () => {
      const saved = await cs.saveChunk('app', 'c1', chunk('src/a.ts', 'a.f', 'const x = 1;'));
      expect(saved).toMatchObject({ filePath: 'src/a.ts', fqn: 'a.f', content: 'const x = 1;', isDeleted: false });
      // Checked against Node's own SHA-256, independent of WebCrypto.
      expect(saved.contentHash).toBe(createHash('sha256').update('const x = 1;', 'utf8').digest('hex'));
      expect(await sha256Hex('héllo 🌍')).toBe(createHash('sha256').update('héllo 🌍', 'utf8').digest('hex'));
      expect(await cs.getChunk(saved.id)).toEqual(saved);
      expect(await cs.getChunkByFqn('app', 'c1', 'a.f')).toEqual(saved);
    });

    it('saveChunks writes a batch in one go; the later duplicate wins; ids come back in order', async () => {
      const ids = await cs.saveChunks('app', 'c1', [
        chunk('b.ts', 'b.g', 'g1'), chunk('a.ts', 'a.f', 'f1'), chunk('b.ts', 'b.g', 'g2'),
      ]);
      expect(ids[0]).toBe(ids[2]);
      const all = await cs.getChunks('app', 'c1');
      expect(all.map((c) => [c.filePath, c.fqn, c.content])).toEqual([['a.ts', 'a.f', 'f1'], ['b.ts', 'b.g', 'g2']]);
      expect((await cs.getChunksByFile('app', 'c1', 'b.ts')).map((c) => c.content)).toEqual(['g2']);
    });

    it('a batch longer than one statement takes (600 rows) is written whole, in order, texts exact', async () => {
      // Rows travel as bound VALUES lists of at most 256 rows: this batch spans three, and a
      // duplicate in the last one must still win over its first entry in the first.
      const texts = (i: number) => `line ${i} é ✓ 🌍 \u0000 "quoted" \\ end`;
      const batch = Array.from({ length: 599 }, (_, i) => chunk(`f${i % 7}.ts`, `m.c${i}`, texts(i)));
      batch.push(chunk('f3.ts', 'm.c3', 'the later one'));
      const ids = await cs.saveChunks('app', 'c1', batch);
      expect(ids).toHaveLength(600);
      expect(ids[599]).toBe(ids[3]);
      expect(new Set(ids).size).toBe(599);
      const all = await cs.getChunks('app', 'c1');
      expect(all).toHaveLength(599);
      const byFqn = new Map(all.map((c) => [c.fqn, c]));
      expect(byFqn.get('m.c3')!.content).toBe('the later one');
      expect(byFqn.get('m.c598')).toMatchObject({ filePath: 'f3.ts', content: texts(598) });
      expect(byFqn.get('m.c598')!.contentHash).toBe(createHash('sha256').update(texts(598), 'utf8').digest('hex'));
      for (const [i, id] of ids.entries()) expect((await cs.getChunk(id))!.fqn).toBe(`m.c${i === 599 ? 3 : i}`);
    });

    it('a bad chunk anywhere in a batch writes nothing and names the entry', async () => {
      await expectCode(
        cs.saveChunks('app', 'c1', [chunk('a.ts', 'a.f'), chunk('a.ts', 'a.g', 'x', { endLine: 0 })]),
        'INVALID_ARGUMENT', 'chunks[1].endLine',
      );
      await expectCode(cs.saveChunks('app', 'c1', [chunk('a.ts', '')]), 'INVALID_ARGUMENT', 'chunks[0].fqn');
      await expectCode(cs.saveChunks('app', 'c1', [{ ...chunk('a.ts', 'a'), content: 5 as unknown as string }]),
        'INVALID_ARGUMENT', 'chunks[0].content');
      await expectCode(cs.saveChunks('app', 'c1', [chunk('a.ts', 'a', 'x', { startLine: -1 })]), 'INVALID_ARGUMENT', 'startLine');
      await expectCode(cs.saveChunks('app', 'c1', 'nope' as never), 'INVALID_ARGUMENT', 'chunks');
      expect(await cs.getChunks('app', 'c1')).toEqual([]);
    });

    it('refuses names, paths and FQNs with a lone surrogate, which SQLite text cannot hold', async () => {
      // Before: saved as U+FFFD, the chunk's key no longer matched and its id came back null.
      await expectCode(cs.saveChunks('app', 'c1', [chunk('a.ts', 'a.\uD800f')]), 'INVALID_ARGUMENT', 'chunks[0].fqn');
      await expectCode(cs.saveChunk('app', 'c1', chunk('src/\uDC00.ts', 'a.f')), 'INVALID_ARGUMENT', 'filePath');
      await expectCode(cs.createSnapshot('app', 'c\uD83D'), 'INVALID_ARGUMENT', 'commit');
      await expectCode(cs.saveRepository('\uDE00app'), 'INVALID_ARGUMENT', 'name');
      expect(await cs.getChunks('app', 'c1')).toEqual([]);
      // A well-formed pair is fine, and comes back with its id.
      const [id] = await cs.saveChunks('app', 'c1', [chunk('src/😀.ts', 'a.😀')]);
      expect(id).toEqual(expect.any(Number));
      expect(await cs.getChunk(id!)).toMatchObject({ filePath: 'src/😀.ts', fqn: 'a.😀' });
      // Texts may hold one (stored with U+FFFD in its place), and a search for it still
      // works: queries and glob patterns are never stored, so the rule is not theirs.
      await cs.saveChunks('app', 'c1', [chunk('b.ts', 'b.f', 'hello wor\uD800ld zebra')]);
      expect((await cs.searchContent('wor\uD800ld', { pathGlob: 'b\uDC00*' })).length).toBe(0);
      expect((await cs.searchContent('wor\uD800ld')).map((h) => h.chunk.fqn)).toEqual(['b.f']);
    });

    it('is NOT_FOUND for chunks of an unknown snapshot or repository', async () => {
      await expectCode(cs.saveChunk('app', 'nope', chunk('a.ts', 'a')), 'NOT_FOUND', 'commit');
      await expectCode(cs.saveChunks('ghost', 'c1', [chunk('a.ts', 'a')]), 'NOT_FOUND', 'repo');
      await expectCode(cs.getChunks('app', 'nope'), 'NOT_FOUND');
      await expectCode(cs.getChunksByFile('app', 'nope', 'a.ts'), 'NOT_FOUND');
      await expectCode(cs.getChunkByFqn('app', 'nope', 'a'), 'NOT_FOUND');
    });

    it('soft-deletes a file; reads hide it unless asked; an upsert revives the chunk', async () => {
      const [a, b] = await cs.saveChunks('app', 'c1', [chunk('a.ts', 'a.f'), chunk('a.ts', 'a.g'), chunk('b.ts', 'b.h')]);
      expect(await cs.softDeleteFileChunks('app', 'c1', 'a.ts')).toBe(2);
      expect(await cs.softDeleteFileChunks('app', 'c1', 'a.ts')).toBe(0);
      expect((await cs.getChunks('app', 'c1')).map((c) => c.fqn)).toEqual(['b.h']);
      expect(await cs.getChunk(a!)).toBeUndefined();
      expect((await cs.getChunk(a!, { includeDeleted: true }))?.isDeleted).toBe(true);
      expect(await cs.getChunksByFile('app', 'c1', 'a.ts')).toEqual([]);
      expect(await cs.getChunksByFile('app', 'c1', 'a.ts', { includeDeleted: true })).toHaveLength(2);
      expect(await cs.getChunkByFqn('app', 'c1', 'a.f')).toBeUndefined();
      expect((await cs.getChunkByFqn('app', 'c1', 'a.f', { includeDeleted: true }))?.id).toBe(a);
      expect(await cs.getChunks('app', 'c1', { includeDeleted: true })).toHaveLength(3);

      const revived = await cs.saveChunk('app', 'c1', chunk('a.ts', 'a.g', 'new body'));
      expect(revived).toMatchObject({ id: b, isDeleted: false, content: 'new body' });
      expect((await cs.getChunks('app', 'c1')).map((c) => c.fqn)).toEqual(['a.g', 'b.h']);
    });

    it('commits writes issued together in the order they were called', async () => {
      // No await between the calls: each write commits inside its call, before the next starts.
      const saved = cs.saveChunks('app', 'c1', [chunk('a.ts', 'a.f')]);
      const deleted = cs.softDeleteFileChunks('app', 'c1', 'a.ts');
      const revived = cs.saveChunk('app', 'c1', chunk('a.ts', 'a.f', 'again'));
      await Promise.all([saved, deleted, revived]);
      expect(await deleted).toBe(1);
      expect((await cs.getChunksByFile('app', 'c1', 'a.ts')).map((c) => c.content)).toEqual(['again']);
    });

    it('keeps `updated` when an identical chunk is saved again and bumps it on change', async () => {
      const first = await cs.saveChunk('app', 'c1', chunk('a.ts', 'a.f', 'x'));
      const same = await cs.saveChunk('app', 'c1', chunk('a.ts', 'a.f', 'x'));
      expect(same.updated).toBe(first.updated);
      const changed = await cs.saveChunk('app', 'c1', chunk('a.ts', 'a.f', 'y'));
      expect(changed.updated).toBeGreaterThan(first.updated);
      expect(changed.id).toBe(first.id);
    });

    it('getChunkByFqn picks the first file when several define the FQN', async () => {
      await cs.saveChunks('app', 'c1', [chunk('z.ts', 'dup'), chunk('m.ts', 'dup')]);
      expect((await cs.getChunkByFqn('app', 'c1', 'dup'))?.filePath).toBe('m.ts');
    });

    it('refuses bad ids and options', async () => {
      await expectCode(cs.getChunk(0), 'INVALID_ARGUMENT', 'id');
      await expectCode(cs.getChunk(1.5), 'INVALID_ARGUMENT', 'id');
      await expectCode(cs.getChunks('app', 'c1', { includeDeleted: 'yes' as never }), 'INVALID_ARGUMENT', 'options.includeDeleted');
      expect(await cs.getChunk(999)).toBeUndefined();
    });
  });

  describe('dependencies', () => {
    it('saves edges, resolves targets by FQN and keeps them current', async () => {
      const [f, g] = await cs.saveChunks('app', 'c1', [chunk('a.ts', 'a.f'), chunk('a.ts', 'a.g')]);
      const [e1, e2] = await cs.saveDependencies([
        { fromChunkId: f!, toFqn: 'a.g', kind: 'calls' },
        { fromChunkId: f!, toFqn: 'b.h', kind: 'calls' },
      ]);
      expect(await cs.saveDependencies([{ fromChunkId: f!, toFqn: 'a.g', kind: 'calls' }])).toEqual([e1]);
      let from = await cs.getDependenciesFrom(f!);
      expect(from.map((d) => [d.toFqn, d.toChunkId])).toEqual([['a.g', g], ['b.h', null]]);
      expect((await cs.getDependenciesTo(g!)).map((d) => d.id)).toEqual([e1]);

      // A chunk named b.h appears: the dangling edge now resolves to it.
      const [h] = await cs.saveChunks('app', 'c1', [chunk('b.ts', 'b.h')]);
      from = await cs.getDependenciesFrom(f!);
      expect(from.find((d) => d.id === e2)?.toChunkId).toBe(h);

      // Its file is soft-deleted: the edge dangles again, and a deleted source hides its edges.
      await cs.softDeleteFileChunks('app', 'c1', 'b.ts');
      expect((await cs.getDependenciesFrom(f!)).find((d) => d.id === e2)?.toChunkId).toBeNull();
      await cs.softDeleteFileChunks('app', 'c1', 'a.ts');
      expect(await cs.getDependenciesFrom(f!)).toEqual([]);
    });

    it('is NOT_FOUND for an unknown or deleted source chunk, and writes none of the batch', async () => {
      const [f] = await cs.saveChunks('app', 'c1', [chunk('a.ts', 'a.f')]);
      await expectCode(cs.saveDependencies([
        { fromChunkId: f!, toFqn: 'x', kind: 'calls' },
        { fromChunkId: 999, toFqn: 'y', kind: 'calls' },
      ]), 'NOT_FOUND', 'deps[1].fromChunkId');
      expect(await cs.getDependenciesFrom(f!)).toEqual([]);
      await expectCode(cs.saveDependencies([{ fromChunkId: f!, toFqn: '', kind: 'calls' }]), 'INVALID_ARGUMENT', 'deps[0].toFqn');
      await expectCode(cs.saveDependencies([{ fromChunkId: -1, toFqn: 'a', kind: 'calls' }]), 'INVALID_ARGUMENT', 'deps[0].fromChunkId');
    });

    it('walks transitive dependencies breadth-first, once each, through cycles', async () => {
      // a → b → c → a (cycle), a → d, d → c, c → e; x unreachable.
      const names = ['a', 'b', 'c', 'd', 'e', 'x'];
      const ids = await cs.saveChunks('app', 'c1', names.map((n) => chunk('g.ts', n)));
      const id = (n: string) => ids[names.indexOf(n)]!;
      const edges: [string, string][] = [['a', 'b'], ['b', 'c'], ['c', 'a'], ['a', 'd'], ['d', 'c'], ['c', 'e']];
      await cs.saveDependencies(edges.map(([from, to]) => ({ fromChunkId: id(from), toFqn: to, kind: 'calls' })));

      const all = await cs.getTransitiveDependencies(id('a'), 10);
      expect(all.map((t) => [t.chunk.fqn, t.depth])).toEqual([['b', 1], ['d', 1], ['c', 2], ['e', 3]]);
      const shallow = await cs.getTransitiveDependencies(id('a'), 2);
      expect(shallow.map((t) => t.chunk.fqn)).toEqual(['b', 'd', 'c']);
      const fromC = await cs.getTransitiveDependencies(id('c'), 50);
      expect(fromC.map((t) => [t.chunk.fqn, t.depth])).toEqual([['a', 1], ['e', 1], ['b', 2], ['d', 2]]);
      expect(await cs.getTransitiveDependencies(id('x'), 5)).toEqual([]);
      await expectCode(cs.getTransitiveDependencies(id('a'), 0), 'INVALID_ARGUMENT', 'maxDepth');
    });

    it('matches a breadth-first oracle on random graphs with cycles', async () => {
      const n = 40;
      const names = Array.from({ length: n }, (_, i) => `n${i}`);
      const ids = await cs.saveChunks('app', 'c1', names.map((name) => chunk('g.ts', name)));
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const adj = new Map<number, Set<number>>();
      for (let i = 0; i < n * 2; i++) {
        const from = Math.floor(rand() * n);
        const to = Math.floor(rand() * n);
        if (!adj.has(from)) adj.set(from, new Set());
        adj.get(from)!.add(to);
      }
      await cs.saveDependencies([...adj].flatMap(([from, tos]) =>
        [...tos].map((to) => ({ fromChunkId: ids[from]!, toFqn: names[to]!, kind: 'calls' }))));
      for (const start of [0, 5, 17]) {
        for (const depth of [1, 3, 100]) {
          const dist = new Map<number, number>([[start, 0]]);
          let frontier = [start];
          for (let d = 1; d <= depth && frontier.length; d++) {
            const next: number[] = [];
            for (const u of frontier) for (const v of adj.get(u) ?? []) if (!dist.has(v)) { dist.set(v, d); next.push(v); }
            frontier = next;
          }
          dist.delete(start);
          const got = await cs.getTransitiveDependencies(ids[start]!, depth);
          expect(new Map(got.map((t) => [names.indexOf(t.chunk.fqn), t.depth]))).toEqual(dist);
        }
      }
    });
  });

  describe('file metadata', () => {
    it('saves, replaces, gets and lists', async () => {
      const meta = { path: 'a.ts', contentHash: 'h1', size: 10, language: 'typescript', chunkCount: 2 };
      const saved = await cs.saveFileMetadata('app', 'c1', meta);
      expect(saved).toMatchObject(meta);
      expect(await cs.getFileMetadata('app', 'c1', 'a.ts')).toEqual(saved);
      await cs.saveFileMetadata('app', 'c1', { ...meta, contentHash: 'h2' });
      await cs.saveFileMetadata('app', 'c1', { ...meta, path: '0.ts' });
      expect((await cs.listFileMetadata('app', 'c1')).map((m) => [m.path, m.contentHash])).toEqual([['0.ts', 'h1'], ['a.ts', 'h2']]);
      expect(await cs.getFileMetadata('app', 'c1', 'zz.ts')).toBeUndefined();
      await expectCode(cs.saveFileMetadata('app', 'c1', { ...meta, size: -1 }), 'INVALID_ARGUMENT', 'metadata.size');
      await expectCode(cs.saveFileMetadata('app', 'nope', meta), 'NOT_FOUND');
    });
  });

  it('is CLOSED after close()', async () => {
    store.close();
    await expectCode(cs.listRepositories(), 'CLOSED');
    await expectCode(cs.saveRepository('x'), 'CLOSED');
    expect(() => store.exportDatabase()).toThrow(/closed/);
  });
});
