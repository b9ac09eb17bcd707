/**
 * One conformance suite for the collection engine over every BlobStore: memory and KV in
 * Node, OPFS in Chromium.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CollectionEngine, ShelfError, type BlobStore, type Doc } from '../../src/index.ts';

export interface CollectionsTarget {
  storage: BlobStore;
  dispose(): Promise<void>;
}

/** The code of the `ShelfError` a call fails with (anything else fails the test), undefined if it succeeds. */
export async function code(run: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof run === 'function' ? run() : run);
  } catch (error) {
    expect(error).toBeInstanceOf(ShelfError);
    return (error as ShelfError).code;
  }
  return undefined;
}

const outline = (i: number) => ({
  _id: `src/file-${i}.ts`,
  language: i % 3 === 0 ? 'python' : 'typescript',
  lines: 100 + i,
  symbols: [{ name: `fn${i}`, kind: 'function', line: i }],
  meta: { owner: i % 2 ? 'core' : 'ui' },
});

export function runCollectionsConformance(label: string, open: () => Promise<CollectionsTarget>): void {
  describe(`collections conformance: ${label}`, () => {
    let target: CollectionsTarget;
    let engine: CollectionEngine;
    const reopen = async (options: { memoryLimitBytes?: number } = {}) => {
      await engine.close();
      engine = await CollectionEngine.open({ storage: target.storage, saveIntervalMs: 0, ...options });
      return engine;
    };

    beforeEach(async () => {
      target = await open();
      engine = await CollectionEngine.open({ storage: target.storage, saveIntervalMs: 0 });
    });
    afterEach(async () => {
      await engine.close().catch(() => undefined);
      await target.dispose();
    });

    it('creates, lists, renames and drops collections, durably', async () => {
      await engine.create('b');
      await engine.create('a');
      expect(await code(engine.create('a'))).toBe('INVALID_ARGUMENT');
      expect(engine.list()).toEqual(['a', 'b']);
      await engine.insert('a', { _id: 'x', v: 1 });
      await engine.rename('a', 'renamed/with spaces');
      expect(engine.list()).toEqual(['b', 'renamed/with spaces']);
      await engine.drop('b');
      await reopen();
      expect(engine.list()).toEqual(['renamed/with spaces']);
      expect(await engine.get('renamed/with spaces', 'x')).toEqual({ _id: 'x', v: 1 });
      expect(await code(engine.get('b', 'x'))).toBe('NOT_FOUND');
    });

    it('inserts, gets, updates, replaces and deletes documents', async () => {
      await engine.create('docs');
      const id = await engine.insert('docs', { title: 'generated id' });
      expect(typeof id).toBe('string');
      expect((await engine.get('docs', id))?.title).toBe('generated id');
      const ids = await engine.insertMany('docs', [outline(1), outline(2)]);
      expect(ids).toEqual(['src/file-1.ts', 'src/file-2.ts']);
      expect(await engine.update('docs', 'src/file-1.ts', { lines: 7 })).toMatchObject({ _id: 'src/file-1.ts', lines: 7, language: 'typescript' });
      expect(await engine.replace('docs', 'src/file-2.ts', { only: true })).toEqual({ _id: 'src/file-2.ts', only: true });
      expect(await engine.delete('docs', 'src/file-2.ts')).toBe(true);
      expect(await engine.delete('docs', 'src/file-2.ts')).toBe(false);
      expect(await code(engine.update('docs', 'nope', { a: 1 }))).toBe('NOT_FOUND');
      expect(await engine.count('docs')).toBe(2);
      await reopen();
      expect(await engine.get('docs', 'src/file-1.ts')).toMatchObject({ lines: 7 });
      expect(await engine.get('docs', 'src/file-2.ts')).toBeUndefined();
    });

    it('insertMany is all or nothing', async () => {
      await engine.create('c');
      await engine.insert('c', { _id: 'taken' });
      expect(await code(engine.insertMany('c', [{ _id: 'new1' }, { _id: 'taken' }]))).toBe('INVALID_ARGUMENT');
      expect(await code(engine.insertMany('c', [{ _id: 'new2' }, 5 as unknown as Doc]))).toBe('INVALID_ARGUMENT');
      expect(await code(engine.insertMany('c', [{ _id: 'dup' }, { _id: 'dup' }]))).toBe('INVALID_ARGUMENT');
      expect((await engine.findAll('c')).map((d) => d._id)).toEqual(['taken']);
    });

    it('finds with equality, ranges, $in, nested paths, paging and count', async () => {
      await engine.create('o');
      await engine.insertMany('o', Array.from({ length: 30 }, (_, i) => outline(i)));
      expect((await engine.find('o', { language: 'python' })).length).toBe(10);
      expect((await engine.find('o', { lines: { $gte: 120, $lt: 125 } })).map((d) => d.lines)).toEqual([120, 121, 122, 123, 124]);
      expect(await engine.count('o', { 'meta.owner': 'core', language: { $in: ['python'] } })).toBe(5);
      expect(await engine.count('o', { language: { $nin: ['python'] }, lines: { $exists: true } })).toBe(20);
      expect((await engine.find('o', {}, { offset: 5, limit: 3 })).map((d) => d._id)).toEqual(['src/file-5.ts', 'src/file-6.ts', 'src/file-7.ts']);
      expect(await code(engine.find('o', { lines: { $near: 3 } }))).toBe('INVALID_ARGUMENT');
    });

    it('tracks states: unloaded → loaded → dirty → loaded, sharing one load', async () => {
      await engine.create('s');
      await engine.insertMany('s', [outline(1)]);
      expect(engine.state('s')).toBe('dirty');
      await engine.save('s');
      expect(engine.state('s')).toBe('loaded');
      await reopen();
      expect(engine.state('s')).toBe('unloaded');
      const loads = engine.stats().loads;
      const [a, b] = await Promise.all([engine.get('s', 'src/file-1.ts'), engine.get('s', 'src/file-1.ts')]);
      expect(a).toEqual(b);
      expect(engine.stats().loads).toBe(loads + 1);
      expect(engine.state('s')).toBe('loaded');
    });

    it('streams a collection in batches, from memory and from its file, several at once', async () => {
      await engine.create('big');
      await engine.insertMany('big', Array.from({ length: 2500 }, (_, i) => ({ _id: `d${String(i).padStart(5, '0')}`, i })));
      const collect = async () => {
        const ids: string[] = [];
        const sizes: number[] = [];
        for await (const batch of engine.iterate('big', { batchSize: 1000 })) {
          sizes.push(batch.length);
          ids.push(...batch.map((d) => d._id));
        }
        return { ids, sizes };
      };
      const fromMemory = await collect();
      expect(fromMemory.sizes).toEqual([1000, 1000, 500]);
      await reopen();
      const [one, two] = await Promise.all([collect(), collect()]);
      expect(engine.state('big')).toBe('unloaded');
      expect(one.ids).toEqual(fromMemory.ids);
      expect(two.ids).toEqual(fromMemory.ids);
      const reader = engine.stream('big', { batchSize: 700, filter: { i: { $lt: 10 } } }).getReader();
      const first = await reader.read();
      expect(first.value?.map((d) => d.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect((await reader.read()).done).toBe(true);
    });

    it('a stream from a file survives a save that supersedes the file', async () => {
      await engine.create('live');
      await engine.insertMany('live', Array.from({ length: 3000 }, (_, i) => ({ _id: `k${i}`, i })));
      await reopen();
      const it = engine.iterate('live', { batchSize: 1000 });
      const first = await it.next();
      expect(first.value).toHaveLength(1000);
      await engine.insert('live', { _id: 'late' });
      await engine.save('live');
      let rest = 0;
      for (let n = await it.next(); !n.done; n = await it.next()) rest += n.value.length;
      expect(rest).toBe(2000);
    });

    it('keeps memory under the limit while 50 collections are filled and read in random order', async () => {
      const limit = 200_000;
      await reopen({ memoryLimitBytes: limit });
      const names = Array.from({ length: 50 }, (_, i) => `c${i}`);
      for (const n of names) await engine.create(n);
      let seed = 42;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      let peak = 0;
      const expected = new Map<string, number>();
      for (let step = 0; step < 300; step++) {
        const name = names[Math.floor(rand() * names.length)]!;
        if (rand() < 0.6) {
          const docs = Array.from({ length: 20 }, (_, i) => ({ _id: `${step}-${i}`, payload: 'x'.repeat(100), step }));
          await engine.insertMany(name, docs);
          expected.set(name, (expected.get(name) ?? 0) + 20);
        } else {
          expect(await engine.count(name)).toBe(expected.get(name) ?? 0);
        }
        peak = Math.max(peak, engine.stats().memoryUsed);
      }
      const stats = engine.stats();
      expect(peak).toBeLessThanOrEqual(limit);
      expect(stats.evictions).toBeGreaterThan(0);
      expect(stats.loadedCollections).toBeLessThan(50);
      // Everything written, including what eviction saved, is still there after a reopen.
      await reopen({ memoryLimitBytes: limit });
      for (const [name, n] of expected) expect(await engine.count(name)).toBe(n);
    });

    it('refuses bad input and calls after close', async () => {
      expect(await code(engine.create(''))).toBe('INVALID_ARGUMENT');
      expect(await code(engine.insert('nope', {}))).toBe('NOT_FOUND');
      await engine.create('x');
      expect(await code(engine.insert('x', [] as unknown as Doc))).toBe('INVALID_ARGUMENT');
      expect(await code(engine.insert('x', { _id: '' }))).toBe('INVALID_ARGUMENT');
      await engine.close();
      expect(await code(engine.get('x', 'a'))).toBe('CLOSED');
    });

    it('reports a damaged only file as CORRUPT naming the collection', async () => {
      await engine.create('fragile');
      await engine.insertMany('fragile', [outline(1)]);
      await reopen();
      const [file] = (await target.storage.list()).filter((f) => f.startsWith('fragile.'));
      const bytes = await target.storage.read(file!);
      bytes[bytes.length - 5]! ^= 0xff;
      await target.storage.write(file!, bytes);
      const error = await engine.get('fragile', 'x').catch((e: unknown) => e as ShelfError);
      expect(error).toBeInstanceOf(ShelfError);
      expect((error as ShelfError).code).toBe('CORRUPT');
      expect((error as ShelfError).message).toMatch(/"fragile"/);
    });

    it('falls back to the previous generation when the newest save is torn', async () => {
      await engine.create('torn');
      await engine.insertMany('torn', [{ _id: 'kept' }]);
      await engine.save('torn');
      const [good] = (await target.storage.list()).filter((f) => f.startsWith('torn.'));
      // Simulate a crash mid-save: a half-written newer generation beside the good one.
      const next = good!.replace(/\.(\d+)\.csc$/, (_, g: string) => `.${Number(g) + 1}.csc`);
      const full = await target.storage.read(good!);
      await target.storage.write(next, full.subarray(0, Math.floor(full.length / 2)));
      await reopen();
      expect(await engine.get('torn', 'kept')).toEqual({ _id: 'kept' });
      expect(engine.stats().recoveredSaves).toBe(1);
      expect((await target.storage.list()).filter((f) => f.startsWith('torn.'))).toEqual([good]);
    });
  });
}
