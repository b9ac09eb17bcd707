import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isShelfError } from '../../../src/errors/index.ts';
import { sha256Hex, type CodeSnapshotStore, type FileChunkInput, type FileDependencyInput, type JournalStatement } from '../../../src/snapshot/index.ts';
import { dumpDatabase, openTestStore, sqlJs } from './helpers.ts';

const fileChunk = (fqn: string, content = `body ${fqn}`): FileChunkInput =>
  ({ fqn, kind: 'function', language: 'ts', startLine: 1, endLine: 2, content });

async function seeded(): Promise<CodeSnapshotStore> {
  const store = await openTestStore();
  await store.chunks.saveRepository('app');
  await store.chunks.createSnapshot('app', 'c1', { branch: 'main' });
  await store.replaceFile('app', 'c1', 'c1', 'src/a.ts', [fileChunk('a.f'), fileChunk('a.g')], [
    { fromFqn: 'a.f', toFqn: 'a.g', kind: 'calls' },
    { fromFqn: 'a.g', toFqn: 'b.h', kind: 'calls' },
  ]);
  await store.replaceFile('app', 'c1', 'c1', 'src/b.ts', [fileChunk('b.h')], [{ fromFqn: 'b.h', toFqn: 'a.f', kind: 'calls' }]);
  return store;
}

/** Reopens a store's bytes with extra SQL applied behind its back (used to plant failures). */
async function withTriggers(store: CodeSnapshotStore, journal: JournalStatement[][], ...sql: string[]): Promise<CodeSnapshotStore> {
  const SQL = await sqlJs();
  const raw = new SQL.Database(store.exportDatabase());
  for (const s of sql) raw.run(s);
  const bytes = raw.export();
  raw.close();
  return openTestStore({ data: bytes, journal });
}

describe('CodeSnapshotStore.replaceFile', () => {
  it('makes the file hold exactly the given chunks, edges and metadata', async () => {
    const store = await seeded();
    const cs = store.chunks;
    const before = (await cs.getChunksByFile('app', 'c1', 'src/a.ts')).find((c) => c.fqn === 'a.g')!;
    const result = await store.replaceFile('app', 'c1', 'c2', 'src/a.ts', [fileChunk('a.g', 'changed'), fileChunk('a.k')],
      [{ fromFqn: 'a.k', toFqn: 'b.h', kind: 'imports' }], { contentHash: 'file-hash', size: 99 });
    expect(result.snapshot).toMatchObject({ commitHash: 'c2', branch: 'main' });
    expect(result.snapshot.parentId).toBe((await cs.getSnapshot('app', 'c1'))!.id);
    expect(result.softDeleted).toBe(0); // c2 was new: nothing of the file lived there yet
    // Only the replaced file lives in c2; the base is untouched.
    expect((await cs.getChunks('app', 'c2')).map((c) => c.fqn)).toEqual(['a.g', 'a.k']);
    expect((await cs.getChunks('app', 'c1')).map((c) => c.fqn)).toEqual(['a.f', 'a.g', 'b.h']);
    expect((await cs.getChunk(before.id))!.content).toBe('body a.g');
    expect(await cs.getFileMetadata('app', 'c2', 'src/a.ts')).toMatchObject({ contentHash: 'file-hash', size: 99, chunkCount: 2, language: 'ts' });

    // In place: a.f goes (soft), a.g changes, its edge to b.h goes, a.k arrives with a new edge.
    const inPlace = await store.replaceFile('app', 'c1', 'c1', 'src/a.ts', [fileChunk('a.g', 'v2'), fileChunk('a.k')],
      [{ fromFqn: 'a.k', toFqn: 'b.h', kind: 'imports' }]);
    expect(inPlace.softDeleted).toBe(1);
    expect(inPlace.chunkIds[0]).toBe(before.id);
    const live = await cs.getChunksByFile('app', 'c1', 'src/a.ts');
    expect(live.map((c) => [c.fqn, c.content])).toEqual([['a.g', 'v2'], ['a.k', 'body a.k']]);
    expect(await cs.getDependenciesFrom(before.id)).toEqual([]);
    const bh = (await cs.getChunkByFqn('app', 'c1', 'b.h'))!;
    expect((await cs.getDependenciesTo(bh.id)).map((d) => d.kind)).toEqual(['imports']);
    // b.h → a.f now dangles, since a.f is deleted.
    expect((await cs.getDependenciesFrom(bh.id))[0]!.toChunkId).toBeNull();
    const meta = (await cs.getFileMetadata('app', 'c1', 'src/a.ts'))!;
    expect(meta.chunkCount).toBe(2);
    expect(meta.contentHash).toBe(await sha256Hex('v2\nbody a.k'));
    expect(meta.size).toBe(new TextEncoder().encode('v2\nbody a.k').byteLength);

    // Back again: a.f is revived with its old id.
    const f = (await cs.getChunksByFile('app', 'c1', 'src/a.ts', { includeDeleted: true })).find((c) => c.fqn === 'a.f')!;
    const back = await store.replaceFile('app', 'c1', 'c1', 'src/a.ts', [fileChunk('a.f')], []);
    expect(back.chunkIds).toEqual([f.id]);
    expect((await cs.getDependenciesFrom(bh.id))[0]!.toChunkId).toBe(f.id);
  });

  it('null deletes the file: chunks soft-deleted, edges and metadata gone', async () => {
    const store = await seeded();
    const cs = store.chunks;
    const result = await store.replaceFile('app', 'c1', 'c1', 'src/a.ts', null);
    expect(result.softDeleted).toBe(2);
    expect(await cs.getChunksByFile('app', 'c1', 'src/a.ts')).toEqual([]);
    expect(await cs.getFileMetadata('app', 'c1', 'src/a.ts')).toBeUndefined();
    const a = await cs.getChunksByFile('app', 'c1', 'src/a.ts', { includeDeleted: true });
    for (const c of a) expect(await cs.getDependenciesFrom(c.id)).toEqual([]);
  });

  it('refuses bad input before writing, naming the argument', async () => {
    const store = await seeded();
    const before = await dumpDatabase(store.exportDatabase());
    const cases: [Promise<unknown>, string][] = [
      [store.replaceFile('app', 'c1', 'c1', 'src/a.ts', [fileChunk('x'), fileChunk('x')]), 'chunks[1].fqn'],
      [store.replaceFile('app', 'c1', 'c1', 'src/a.ts', [fileChunk('x')], [{ fromFqn: 'y', toFqn: 'z', kind: 'k' }]), 'deps[0].fromFqn'],
      [store.replaceFile('app', 'c1', 'c1', 'src/a.ts', [{ ...fileChunk('x'), filePath: 'other.ts' }]), 'chunks[0].filePath'],
      [store.replaceFile('app', 'c1', 'c1', '', []), 'path'],
      [store.replaceFile('app', 'c1', 'c1', 'a.ts', null, [{ fromFqn: 'y', toFqn: 'z', kind: 'k' }]), 'deps'],
      [store.replaceFile('app', 'c1', 'c1', 'a.ts', [], [], { size: -4 }), 'file.size'],
    ];
    for (const [promise, argument] of cases) {
      const error = await promise.catch((e: unknown) => e);
      expect(isShelfError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toContain(argument);
    }
    const missing = await store.replaceFile('app', 'nope', 'c2', 'a.ts', []).catch((e: unknown) => e);
    expect(isShelfError(missing, 'NOT_FOUND') && (missing as Error).message.startsWith('base')).toBe(true);
    expect(await dumpDatabase(store.exportDatabase())).toEqual(before);
  });

  it('is atomic: a failure after some rows were written rolls everything back', async () => {
    const seededStore = await seeded();
    // c2 shares c1's files: a write to one of them through either snapshot copies it first.
    await seededStore.createIncrementalSnapshot('app', 'c1', 'c2', [], () => null);
    const journal: JournalStatement[][] = [];
    const store = await withTriggers(seededStore, journal,
      "CREATE TRIGGER boom_chunk BEFORE INSERT ON chunks WHEN new.fqn = 'boom' BEGIN SELECT RAISE(ABORT, 'planted chunk failure'); END",
      "CREATE TRIGGER boom_dep BEFORE INSERT ON dependencies WHEN new.to_fqn = 'boom.dep' BEGIN SELECT RAISE(ABORT, 'planted dep failure'); END",
      "CREATE TRIGGER boom_meta BEFORE UPDATE OF content_hash ON file_versions WHEN new.path = 'boom.ts' BEGIN SELECT RAISE(ABORT, 'planted meta failure'); END",
    );
    const before = await dumpDatabase(store.exportDatabase());
    const attempts: [string, Promise<unknown>][] = [
      // good chunks (one changed, one new) before the bad one, a good one after
      ['chunk', store.replaceFile('app', 'c1', 'c1', 'src/a.ts',
        [fileChunk('a.f', 'changed'), fileChunk('a.new'), fileChunk('boom'), fileChunk('a.after')])],
      // every chunk fine, an edge fails after the chunks and soft-deletes were written
      ['dep', store.replaceFile('app', 'c1', 'c1', 'src/a.ts', [fileChunk('a.f', 'changed')],
        [{ fromFqn: 'a.f', toFqn: 'ok', kind: 'calls' }, { fromFqn: 'a.f', toFqn: 'boom.dep', kind: 'calls' }])],
      // a new snapshot is created first, then the metadata write fails
      ['meta', store.replaceFile('app', 'c1', 'c9', 'boom.ts', [fileChunk('m.x')])],
      // the shared file is copied (versions, chunks, edges, map) before the bad chunk; and
      // before the bad edge
      ['chunk', store.replaceFile('app', 'c2', 'c2', 'src/a.ts', [fileChunk('a.f', 'changed'), fileChunk('boom')])],
      ['dep', store.replaceFile('app', 'c1', 'c1', 'src/b.ts', [fileChunk('b.h')], [{ fromFqn: 'b.h', toFqn: 'boom.dep', kind: 'calls' }])],
    ];
    for (const [what, attempt] of attempts) {
      const error = await attempt.catch((e: unknown) => e);
      expect(isShelfError(error, 'INTERNAL'), what).toBe(true);
      expect((error as Error).message).toContain(`planted ${what} failure`);
      expect(await dumpDatabase(store.exportDatabase())).toEqual(before);
    }
    expect(await store.chunks.getSnapshot('app', 'c9')).toBeUndefined();
    expect(journal).toEqual([]); // failed commits are not journaled
    // The store is still usable afterwards.
    await store.replaceFile('app', 'c1', 'c1', 'src/a.ts', [fileChunk('a.f', 'fine')]);
    expect(journal).toHaveLength(1);
    expect((await store.chunks.getChunksByFile('app', 'c1', 'src/a.ts')).map((c) => c.content)).toEqual(['fine']);
  });

  it('is idempotent: running it twice leaves identical tables, timestamps included', async () => {
    const fqnPool = ['m.a', 'm.b', 'm.c', 'm.d', 'm.e'];
    const fileArb = fc.uniqueArray(fc.constantFrom(...fqnPool), { maxLength: 5 }).chain((fqns) => fc.record({
      chunks: fc.tuple(...fqns.map((fqn) => fc.constantFrom('x', 'y', 'z').map((content) => fileChunk(fqn, content)))),
      deps: fqns.length === 0 ? fc.constant([] as FileDependencyInput[]) : fc.array(fc.record({
        fromFqn: fc.constantFrom(...fqns), toFqn: fc.constantFrom(...fqnPool, 'other.q'), kind: fc.constantFrom('calls', 'reads'),
      }), { maxLength: 6 }),
    }));
    const store = await seeded();
    await fc.assert(fc.asyncProperty(fc.array(fileArb, { minLength: 1, maxLength: 3 }), async (versions) => {
      for (const v of versions) {
        await store.replaceFile('app', 'c1', 'c1', 'src/m.ts', v.chunks, v.deps);
        const once = await dumpDatabase(store.exportDatabase());
        await store.replaceFile('app', 'c1', 'c1', 'src/m.ts', v.chunks, v.deps);
        expect(await dumpDatabase(store.exportDatabase())).toEqual(once);
        // And the file holds exactly this version.
        const live = await store.chunks.getChunksByFile('app', 'c1', 'src/m.ts');
        expect(live.map((c) => `${c.fqn}=${c.content}`).sort()).toEqual(v.chunks.map((c) => `${c.fqn}=${c.content}`).sort());
        const edges = new Set<string>();
        for (const c of live) for (const d of await store.chunks.getDependenciesFrom(c.id)) edges.add(`${c.fqn}>${d.kind}>${d.toFqn}`);
        expect(edges).toEqual(new Set(v.deps.map((d) => `${d.fromFqn}>${d.kind}>${d.toFqn}`)));
      }
    }), { numRuns: 15 });
  });
});
