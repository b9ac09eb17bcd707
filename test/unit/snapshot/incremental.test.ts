import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isShelfError } from '../../../src/errors/index.ts';
import type { AnalyzedFile, CodeSnapshotStore, FileChunkInput, JournalStatement } from '../../../src/snapshot/index.ts';
import { dumpDatabase, openTestStore } from './helpers.ts';

type Repo = Record<string, AnalyzedFile>;

const FQNS = ['f', 'g', 'h', 'k'];
const PATHS = ['a.ts', 'b.ts', 'c.ts', 'd/e.ts', 'd/f.ts', 'g.ts'];

const fileArb: fc.Arbitrary<AnalyzedFile> = fc.uniqueArray(fc.constantFrom(...FQNS), { minLength: 0, maxLength: 3 })
  .chain((fqns) => fc.record({
    chunks: fc.tuple(...fqns.map((fqn) => fc.constantFrom('v1', 'v2').map((content): FileChunkInput =>
      ({ fqn, kind: 'function', language: 'ts', startLine: 1, endLine: 4, content: `${fqn} ${content}` })))),
    dependencies: fqns.length === 0 ? fc.constant([]) : fc.array(fc.record({
      fromFqn: fc.constantFrom(...fqns), toFqn: fc.constantFrom(...FQNS, 'ext.lib'), kind: fc.constantFrom('calls', 'imports'),
    }), { maxLength: 4 }),
  }));

const repoArb: fc.Arbitrary<Repo> = fc.dictionary(fc.constantFrom(...PATHS), fileArb, { maxKeys: PATHS.length });

/** Builds a snapshot from nothing, one replaceFile per file. */
async function buildFull(store: CodeSnapshotStore, commit: string, repo: Repo): Promise<void> {
  await store.chunks.createSnapshot('app', commit);
  for (const [path, file] of Object.entries(repo)) {
    await store.replaceFile('app', commit, commit, path, file.chunks, file.dependencies ?? [], file.file);
  }
}

/** A snapshot's content with ids replaced by names, so two snapshots can be compared. */
async function logical(store: CodeSnapshotStore, commit: string) {
  const chunks = await store.chunks.getChunks('app', commit);
  const byId = new Map(chunks.map((c) => [c.id, `${c.filePath}#${c.fqn}`]));
  const edges: string[] = [];
  for (const c of chunks) {
    for (const d of await store.chunks.getDependenciesFrom(c.id)) {
      edges.push(`${c.filePath}#${c.fqn} -${d.kind}-> ${d.toFqn} @ ${d.toChunkId === null ? 'null' : byId.get(d.toChunkId)}`);
    }
  }
  return {
    chunks: chunks.map((c) => [c.filePath, c.fqn, c.kind, c.language, c.startLine, c.endLine, c.content, c.contentHash]),
    edges: edges.sort(),
    files: (await store.chunks.listFileMetadata('app', commit)).map(({ snapshotId: _, ...m }) => m),
  };
}

describe('CodeSnapshotStore.createIncrementalSnapshot', () => {
  it('equals a snapshot built from scratch, and analyzes only the changed paths', async () => {
    const store = await openTestStore();
    await store.chunks.saveRepository('app');
    let run = 0;
    await fc.assert(fc.asyncProperty(repoArb, repoArb, fc.subarray(PATHS), async (base, next, extra) => {
      const id = run++;
      await buildFull(store, `base${id}`, base);
      // Changed = every path whose file differs (added, modified, deleted), plus a few
      // unchanged ones, which analyze() may legitimately be asked about as well.
      const differs = PATHS.filter((p) => JSON.stringify(base[p]) !== JSON.stringify(next[p]));
      const changed = [...new Set([...differs, ...extra])];
      const calls: string[] = [];
      const stats = await store.createIncrementalSnapshot('app', `base${id}`, `inc${id}`, [...changed, ...changed],
        async (path) => {
          calls.push(path);
          return next[path] ?? null;
        });
      await buildFull(store, `full${id}`, next);

      expect(calls).toEqual(changed);
      expect(await logical(store, `inc${id}`)).toEqual(await logical(store, `full${id}`));
      const skipped = Object.keys(base).filter((p) => !changed.includes(p));
      expect(stats.filesAnalyzed).toBe(changed.length);
      expect(stats.filesSkipped).toBe(skipped.length);
      expect(stats.chunksCopied).toBe(skipped.reduce((n, p) => n + base[p]!.chunks.length, 0));
      expect(stats.snapshot.parentId).toBe((await store.chunks.getSnapshot('app', `base${id}`))!.id);
      expect(stats.durationMs).toBeGreaterThanOrEqual(0);
    }), { numRuns: 30 });
  });

  it('shares unchanged files with one statement, whatever their size, and copies a shared file on its first write', async () => {
    const journal: JournalStatement[][] = [];
    const store = await openTestStore({ journal });
    await store.chunks.saveRepository('app');
    const big: Repo = {};
    for (let i = 0; i < 50; i++) {
      big[`src/f${i}.ts`] = { chunks: [1, 2, 3].map((j) => ({ fqn: `f${i}.c${j}`, kind: 'function', language: 'ts',
        startLine: j, endLine: j, content: `code ${i} ${j}` })), dependencies: [{ fromFqn: `f${i}.c1`, toFqn: `f${(i + 1) % 50}.c2`, kind: 'calls' }] };
    }
    await buildFull(store, 'c1', big);
    const rowsBefore = await dumpDatabase(store.exportDatabase());
    journal.length = 0;
    const stats = await store.createIncrementalSnapshot('app', 'c1', 'c2', ['src/f7.ts'], () => ({
      chunks: [{ fqn: 'f7.only', kind: 'function', language: 'ts', startLine: 1, endLine: 1, content: 'new' }],
    }));
    expect(stats).toMatchObject({ filesSkipped: 49, filesAnalyzed: 1, chunksCopied: 147 });
    expect(journal).toHaveLength(1);
    const sql = journal[0]!.map((s) => s.sql.replace(/\s+/g, ' ').trim());
    // The 49 unchanged files: one statement of map rows; no chunk, edge or version is copied.
    expect(sql.filter((s) => /^INSERT INTO snapshot_files .* SELECT .* FROM snapshot_files /.test(s))).toHaveLength(1);
    // The analyzed file's own writes: one new version, one chunk upsert reading a VALUES list.
    expect(sql.filter((s) => s.startsWith('INSERT INTO file_versions'))).toEqual([expect.stringContaining('FROM json_each')]);
    expect(sql.filter((s) => s.startsWith('INSERT INTO chunks '))).toEqual([expect.stringContaining('FROM (VALUES (?,?,?,?,?,?,?,?)')]);
    expect(sql.filter((s) => s.startsWith('INSERT INTO dependencies'))).toEqual([]);
    expect(sql.length).toBeLessThan(15);
    const rowsAfter = await dumpDatabase(store.exportDatabase());
    expect(rowsAfter.chunks!.length - rowsBefore.chunks!.length).toBe(1); // f7.only
    expect(rowsAfter.file_versions!.length - rowsBefore.file_versions!.length).toBe(1); // src/f7.ts in c2
    expect(rowsAfter.snapshot_files!.length - rowsBefore.snapshot_files!.length).toBe(50);
    expect((await store.chunks.getChunks('app', 'c2')).length).toBe(148);
    // The edge f6.c1 → f7.c2 is shared, but f7.c2 no longer exists in c2: there it dangles,
    // while c1 still resolves it.
    const f6 = (await store.chunks.getChunkByFqn('app', 'c2', 'f6.c1'))!;
    expect((await store.chunks.getDependenciesFrom(f6.id))[0]!.toChunkId).toBeNull();
    const f6InC1 = (await store.chunks.getChunkByFqn('app', 'c1', 'f6.c1'))!;
    const c1Target = (await store.chunks.getDependenciesFrom(f6InC1.id))[0]!.toChunkId!;
    expect(await store.chunks.getChunk(c1Target)).toMatchObject({ fqn: 'f7.c2', snapshotId: f6InC1.snapshotId });
    const f8 = (await store.chunks.getChunkByFqn('app', 'c2', 'f8.c1'))!;
    const target = (await store.chunks.getDependenciesFrom(f8.id))[0]!.toChunkId!;
    expect((await store.chunks.getChunk(target))).toMatchObject({ fqn: 'f9.c2', snapshotId: stats.snapshot.id });

    // A write through c2 to a shared file copies that one file (3 chunks, 1 edge), keeps the
    // ids of its chunks in c2, and leaves c1 as it was.
    const idsInC2 = (await store.chunks.getChunksByFile('app', 'c2', 'src/f3.ts')).map((c) => [c.fqn, c.id]);
    const c1Before = await store.chunks.getChunksByFile('app', 'c1', 'src/f3.ts');
    const saved = await store.chunks.saveChunk('app', 'c2', { filePath: 'src/f3.ts', fqn: 'f3.c2', kind: 'function',
      language: 'ts', startLine: 2, endLine: 2, content: 'edited in c2' });
    expect(saved.id).toBe(idsInC2.find(([fqn]) => fqn === 'f3.c2')![1]);
    expect((await store.chunks.getChunksByFile('app', 'c2', 'src/f3.ts')).map((c) => [c.fqn, c.id])).toEqual(idsInC2);
    expect(await store.chunks.getChunksByFile('app', 'c1', 'src/f3.ts')).toEqual(c1Before);
    const rowsCopied = await dumpDatabase(store.exportDatabase());
    expect(rowsCopied.chunks!.length - rowsAfter.chunks!.length).toBe(3);
    expect(rowsCopied.dependencies!.length - rowsAfter.dependencies!.length).toBe(1);
    const f3 = (await store.chunks.getChunkByFqn('app', 'c2', 'f3.c1'))!;
    expect((await store.chunks.getDependenciesFrom(f3.id)).map((d) => [d.toFqn, d.fromChunkId, d.snapshotId]))
      .toEqual([['f4.c2', f3.id, stats.snapshot.id]]);
    expect((await store.chunks.getDependenciesTo(saved.id)).map((d) => d.fromChunkId))
      .toEqual([(await store.chunks.getChunkByFqn('app', 'c2', 'f2.c1'))!.id]);
  });

  it('writes nothing when analyze throws or returns bad chunks, and checks targets before analyzing', async () => {
    const store = await openTestStore();
    await store.chunks.saveRepository('app');
    await buildFull(store, 'c1', { 'a.ts': { chunks: [{ fqn: 'a', kind: 'k', language: 'ts', startLine: 1, endLine: 1, content: 'x' }] } });
    const before = await dumpDatabase(store.exportDatabase());
    const boom = new Error('analyzer crashed');
    expect(await store.createIncrementalSnapshot('app', 'c1', 'c2', ['a.ts'], () => { throw boom; }).catch((e: unknown) => e)).toBe(boom);
    const bad = await store.createIncrementalSnapshot('app', 'c1', 'c2', ['a.ts'], () => ({
      chunks: [{ fqn: '', kind: 'k', language: 'ts', startLine: 1, endLine: 1, content: 'x' }],
    })).catch((e: unknown) => e);
    expect(isShelfError(bad, 'INVALID_ARGUMENT')).toBe(true);
    expect((bad as Error).message).toContain('analyze("a.ts").chunks[0].fqn');
    expect(await dumpDatabase(store.exportDatabase())).toEqual(before);

    let called = 0;
    const analyze = () => { called++; return null; };
    const exists = await store.createIncrementalSnapshot('app', 'c1', 'c1', ['a.ts'], analyze).catch((e: unknown) => e);
    expect(isShelfError(exists, 'INVALID_ARGUMENT') && (exists as Error).message.startsWith('next')).toBe(true);
    const noBase = await store.createIncrementalSnapshot('app', 'zz', 'c2', ['a.ts'], analyze).catch((e: unknown) => e);
    expect(isShelfError(noBase, 'NOT_FOUND')).toBe(true);
    const badPaths = await store.createIncrementalSnapshot('app', 'c1', 'c2', ['a.ts', ''], analyze).catch((e: unknown) => e);
    expect(isShelfError(badPaths, 'INVALID_ARGUMENT') && (badPaths as Error).message.includes('changedPaths[1]')).toBe(true);
    expect(called).toBe(0);
  });
});
