import { deleteDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { openShelf, ShelfError, type Shelf } from '../../src/index.ts';

let n = 0;
const unique = (p: string) => `${p}-${Date.now()}-${n++}`;
const newWorker = () => new Worker(new URL('../../workers/storage.worker.ts', import.meta.url), { type: 'module' });

async function dropShelf(name: string): Promise<void> {
  await deleteDB(`codeshelf:${name}:kv`);
  const root = await navigator.storage.getDirectory();
  const top = await root.getDirectoryHandle('codeshelf');
  await top.removeEntry(encodeURIComponent(name), { recursive: true }).catch(() => undefined);
}

const chunk = (filePath: string, fqn: string, content = `function ${fqn}() {}`) => ({
  filePath, fqn, kind: 'function', language: 'typescript', startLine: 1, endLine: 2, content,
});

describe('snapshot store through the storage worker, journaled to OPFS', () => {
  it('every ChunkStore method works and everything survives a new worker', async () => {
    const name = unique('snap');
    let shelf: Shelf = await openShelf({ name });
    const c = shelf.snapshots.chunks;
    await c.saveRepository('app', { url: 'https://example.invalid/app.git' });
    expect((await c.listRepositories()).map((r) => r.name)).toEqual(['app']);
    expect((await c.getRepository('app'))?.url).toBe('https://example.invalid/app.git');
    await c.createSnapshot('app', 'c1', { branch: 'main' });
    const one = await c.saveChunk('app', 'c1', chunk('src/a.ts', 'a.main', 'export function main() { return helper() }'));
    const ids = await c.saveChunks('app', 'c1', [chunk('src/a.ts', 'a.helper'), chunk('src/b.ts', 'b.util', 'export const util = 1')]);
    expect(ids).toHaveLength(2);
    await c.saveDependencies([{ fromChunkId: one.id, toFqn: 'a.helper', kind: 'calls' }, { fromChunkId: ids[0]!, toFqn: 'b.util', kind: 'calls' }]);
    expect((await c.getDependenciesFrom(one.id)).map((d) => d.toFqn)).toEqual(['a.helper']);
    expect((await c.getDependenciesTo(ids[0]!)).length).toBe(1);
    expect((await c.getTransitiveDependencies(one.id, 10)).map((t) => [t.chunk.fqn, t.depth])).toEqual([['a.helper', 1], ['b.util', 2]]);
    await c.saveFileMetadata('app', 'c1', { path: 'src/a.ts', contentHash: 'h', size: 10, language: 'typescript', chunkCount: 2 });
    expect((await c.getFileMetadata('app', 'c1', 'src/a.ts'))?.chunkCount).toBe(2);
    const hits = await c.searchContent('helper', { snapshot: { repo: 'app', commit: 'c1' } });
    expect(hits.map((h) => h.chunk.fqn).sort()).toEqual(['a.helper', 'a.main']);
    expect(hits[0]!.snippet).toMatch(/helper/);
    const before = await c.getChunks('app', 'c1');
    await shelf.close();

    shelf = await openShelf({ name });
    const again = shelf.snapshots.chunks;
    expect(await again.getChunks('app', 'c1')).toEqual(before);
    expect((await again.getChunkByFqn('app', 'c1', 'b.util'))?.content).toBe('export const util = 1');
    expect((await again.getChunksByFile('app', 'c1', 'src/a.ts')).map((x) => x.fqn).sort()).toEqual(['a.helper', 'a.main']);
    expect(await again.softDeleteFileChunks('app', 'c1', 'src/b.ts')).toBe(1);
    expect(await again.getChunkByFqn('app', 'c1', 'b.util')).toBeUndefined();
    expect((await again.listSnapshots('app')).map((s) => s.commitHash)).toEqual(['c1']);
    expect((await again.getSnapshot('app', 'c1'))?.branch).toBe('main');
    expect((await again.getChunk(one.id))?.fqn).toBe('a.main');
    expect((await again.listFileMetadata('app', 'c1')).length).toBe(1);
    const missing = await again.createSnapshot('nope', 'x').catch((e: unknown) => e as ShelfError);
    expect((missing as ShelfError).code).toBe('NOT_FOUND');
    const stats = await shelf.snapshots.stats();
    expect(stats.recovery.replayedRecords + (stats.recovery.fromCheckpoint === null ? 0 : 1)).toBeGreaterThan(0);
    await shelf.close();
    await dropShelf(name);
  });

  it('replaceFile, compareCommits and incremental snapshots with a page-side analyze callback', async () => {
    const name = unique('diff');
    const shelf = await openShelf({ name });
    const s = shelf.snapshots;
    await s.chunks.saveRepository('app');
    await s.chunks.createSnapshot('app', 'c1');
    await s.chunks.saveChunks('app', 'c1', [chunk('src/a.ts', 'a.one'), chunk('src/a.ts', 'a.two'), chunk('src/b.ts', 'b.x')]);
    await s.replaceFile('app', 'c1', 'c2', 'src/a.ts', [chunk('src/a.ts', 'a.one', 'changed'), chunk('src/a.ts', 'a.three')]);
    // Commits leave full-text indexing to upkeep, which the worker runs by itself once idle.
    let backlog = await s.chunks.indexBacklog();
    for (let i = 0; i < 100 && backlog.pendingTexts + backlog.unsweptFiles > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      backlog = await s.chunks.indexBacklog();
    }
    expect(backlog).toEqual({ pendingTexts: 0, unsweptFiles: 0 });
    expect(await s.maintain()).toBe(0); // merges too: nothing left to do
    const diff = await s.compareCommits('app', 'c1', 'c2');
    expect(diff.added.map((x) => x.fqn)).toEqual(['a.three']);
    expect(diff.modified.map((x) => x.fqn)).toEqual(['a.one']);
    // replaceFile fills a new snapshot with the files written into it; b.ts was not.
    expect(diff.deleted.map((x) => x.fqn)).toEqual(['a.two', 'b.x']);
    const analyzed: string[] = [];
    const stats = await s.createIncrementalSnapshot('app', 'c2', 'c3', ['src/b.ts'], async (path: string) => {
      analyzed.push(path);
      return { chunks: [chunk(path, 'b.y')], dependencies: [] };
    });
    expect(analyzed).toEqual(['src/b.ts']);
    expect(stats.filesAnalyzed).toBe(1);
    expect((await s.compareCommits('app', 'c2', 'c3')).added.map((x) => x.fqn)).toEqual(['b.y']);
    const bytes = await s.exportDatabase();
    expect(new TextDecoder().decode(bytes.subarray(0, 15))).toBe('SQLite format 3');
    await shelf.close();
    await dropShelf(name);
  });
});

describe('snapshot crash safety', () => {
  it('takes upkeep timing from openShelf: with the timer off the backlog waits for maintain()', async () => {
    const name = unique('upkeep');
    const badName = unique('bad');
    // A bad option fails openShelf itself, before any store opens.
    const error = await openShelf({ name: badName, snapshots: { maintenanceDelayMs: -1 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('INVALID_ARGUMENT');
    expect((error as ShelfError).message).toContain('maintenanceDelayMs');

    const shelf = await openShelf({ name, snapshots: { maintenanceDelayMs: false } });
    const s = shelf.snapshots;
    await s.chunks.saveRepository('app');
    await s.chunks.createSnapshot('app', 'c1');
    await s.chunks.saveChunks('app', 'c1', [chunk('src/a.ts', 'a.one'), chunk('src/b.ts', 'b.two')]);
    await new Promise((r) => setTimeout(r, 100));
    expect(await s.chunks.indexBacklog()).toEqual({ pendingTexts: 2, unsweptFiles: 2 });
    expect(await s.maintain()).toBeGreaterThan(0);
    expect(await s.chunks.indexBacklog()).toEqual({ pendingTexts: 0, unsweptFiles: 0 });
    await shelf.close();
    await dropShelf(name);
  });

  it('a second worker on the same shelf is told the journal is held elsewhere (ABORTED), and the first keeps working', async () => {
    const name = unique('locked');
    const first = await openShelf({ name });
    await first.snapshots.chunks.saveRepository('app');
    const second = await openShelf({ name });
    const error = await second.snapshots.stats().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('ABORTED');
    expect((error as ShelfError).message).toMatch(/held open by another worker/);
    await first.snapshots.chunks.saveRepository('more');
    expect((await first.snapshots.chunks.listRepositories()).map((r) => r.name)).toEqual(['app', 'more']);
    await second.close().catch(() => undefined);
    await first.close();
    await dropShelf(name);
  });

  it('50 times: kill the worker mid-stream of commits; every acknowledged commit is there, none half there', async () => {
    const name = unique('crash');
    let acked = 0;
    let found = 0;
    for (let run = 0; run < 50; run++) {
      const worker = newWorker();
      const shelf = await openShelf({ name, worker, snapshots: { checkpointBytes: 64 * 1024 } });
      const s = shelf.snapshots;
      if (run === 0) {
        await s.chunks.saveRepository('app');
        await s.chunks.createSnapshot('app', 'c0');
      }
      const head = (await s.chunks.listSnapshots('app')).length - 1;
      expect(head).toBeGreaterThanOrEqual(acked);
      let next = head + 1;
      // Commit k writes k % 7 + 1 chunks to one file: a half-applied commit would show a wrong count.
      void (async () => {
        for (;;) {
          const k = next;
          const path = `src/f${k % 5}.ts`;
          const chunks = Array.from({ length: (k % 7) + 1 }, (_, i) => chunk(path, `m${k % 5}.f${i}`, `v${k}.${i}`));
          await s.replaceFile('app', `c${k - 1}`, `c${k}`, path, chunks);
          acked = k;
          next = k + 1;
        }
      })().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 120));
      worker.terminate();
      const ackedAtKill = acked;

      const check = await openShelf({ name });
      const snaps = await check.snapshots.chunks.listSnapshots('app');
      found = snaps.length - 1;
      expect(found === ackedAtKill || found === ackedAtKill + 1, `found c${found}, acknowledged c${ackedAtKill}`).toBe(true);
      const last = `c${found}`;
      if (found > 0) {
        const path = `src/f${found % 5}.ts`;
        const live = await check.snapshots.chunks.getChunksByFile('app', last, path);
        expect(live.length).toBe((found % 7) + 1);
        expect(live.every((c) => c.content.startsWith(`v${found}.`))).toBe(true);
        // Full-text search sees the recovered commit (indexing it first if upkeep had not).
        const hits = await check.snapshots.chunks.searchContent(`v${found}`, { snapshot: { repo: 'app', commit: last }, limit: 20 });
        expect(hits.map((h) => h.chunk.id).sort()).toEqual(live.map((c) => c.id).sort());
      }
      acked = found;
      await check.close();
    }
    expect(found).toBeGreaterThan(50);
    await dropShelf(name);
  }, 240_000);
});
