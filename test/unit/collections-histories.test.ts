/**
 * Random histories of a collection over more paths than the property tests in
 * collections.test.ts (evictions by the LRU and reloads, failed saves, refused removals,
 * reopenings with another blockDocs, renames there and back, drops and creates, saves during
 * streams, ids outside ASCII), checking every save's file and every stream against memory:
 * what the id index kept in memory (Entry.idIndex in engine.ts) must never get wrong.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CollectionEngine, type Doc } from '../../src/index.ts';
import { decodeCollectionBytes } from '../../src/collections/collection-file.ts';
import { decodeDocBatch } from '../../src/collections/packed-batch.ts';
import { HeldStore } from './held-store.ts';

const newest = async (storage: HeldStore, name: string) => {
  const files = (await storage.list()).filter((f) => f.startsWith(`${name}.`) && f.endsWith('.csc'));
  return files.sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1])).at(-1)!;
};

const idOf = (i: number) => [`d${i}`, `é${i}`, `😀${i}`, `ࠀ${i}`, `x${i}\u0000`, `\ud800${i}`][i % 6]!;

type Kind =
  | 'insert' | 'insertMany' | 'update' | 'delete' | 'reinsert' | 'save' | 'save-racing' | 'save-reading' | 'save-fails' | 'save-noremove'
  | 'evict' | 'reopen' | 'rename' | 'recreate' | 'packed' | 'packed-save' | 'bulk';
const kinds: Kind[] = ['insert', 'insertMany', 'update', 'delete', 'reinsert', 'save', 'save-racing', 'save-reading', 'save-fails', 'save-noremove', 'evict', 'reopen', 'rename', 'recreate', 'packed', 'packed-save', 'bulk'];

describe('collections over random histories', () => {
  it('every save writes what memory held when it started; every stream sends what memory held', async () => {
    const totals = { reused: 0, evictions: 0, loads: 0, reuseFailures: 0 };
    const op = fc.record({ kind: fc.constantFrom(...kinds), at: fc.nat(500), bd: fc.constantFrom(3, 7, 10) });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const storage = new HeldStore();
        const opts = (blockDocs: number) => ({ storage, saveIntervalMs: 0, blockDocs, compressionWorkers: 0, memoryLimitBytes: 18_000 });
        let engine = await CollectionEngine.open(opts(7));
        await engine.create('o');
        await engine.insertMany('o', Array.from({ length: 200 }, (_, i) => ({ _id: `o${i}`, pad: 'x'.repeat(20) })));
        await engine.create('c');
        await engine.insertMany('c', Array.from({ length: 100 }, (_, i) => ({ _id: idOf(i), n: i })));
        await engine.save('c');
        await engine.save('o');
        let next = 100;
        const deleted: string[] = [];
        const fileHolds = async (expected: unknown[]) => {
          expect(await decodeCollectionBytes(await storage.read(await newest(storage, 'c')), 'c')).toEqual(expected);
        };
        const packed = async (during?: () => Promise<void>) => {
          const out: unknown[] = [];
          let first = true;
          for await (const bytes of engine.packedBatches('c')) {
            out.push(...decodeDocBatch(bytes, 't'));
            if (first && during) await during();
            first = false;
          }
          return out;
        };
        for (const { kind, at, bd } of ops) {
          const all = (await engine.findAll('c')).map((d) => d._id);
          const id = all[at % Math.max(1, all.length)];
          if (kind === 'insert') await engine.insert('c', { _id: idOf(next++), n: -at });
          else if (kind === 'insertMany') await engine.insertMany('c', Array.from({ length: 1 + (at % 9) }, () => ({ _id: idOf(next++), m: at })));
          else if (kind === 'update' && id) await engine.update('c', id, { n: at, s: `changed ${at}` });
          else if (kind === 'delete' && id) {
            await engine.delete('c', id);
            deleted.push(id);
          } else if (kind === 'reinsert' && deleted.length) {
            const back = deleted.pop()!;
            if (!(await engine.get('c', back))) await engine.insert('c', { _id: back, back: at });
          } else if (kind === 'bulk') for (const each of all.slice(0, 40)) await engine.update('c', each, { bulk: at });
          else if (kind === 'save') {
            const expected = structuredClone(await engine.findAll('c'));
            await engine.save('c');
            await fileHolds(expected);
          } else if (kind === 'save-racing' && id) {
            await engine.update('c', id, { before: at });
            const expected = structuredClone(await engine.findAll('c'));
            const held = storage.holdNextWrite();
            const saving = engine.save('c');
            await held.started;
            await engine.update('c', id, { raced: at });
            if (all.length > 2) await engine.delete('c', all[(at + 3) % all.length]!).then((d) => d && deleted.push(all[(at + 3) % all.length]!));
            await engine.insert('c', { _id: idOf(next++), raced: true });
            held.release();
            await saving;
            await fileHolds(expected);
          } else if (kind === 'save-reading' && id) {
            await engine.update('c', id, { before: at });
            const held = storage.holdNextRead();
            const saving = engine.save('c');
            await Promise.race([held.started, saving]);
            await engine.update('c', id, { raced: at });
            await engine.insert('c', { _id: idOf(next++), raced: true });
            held.cancel();
            held.release();
            await saving;
          } else if (kind === 'save-fails' && id) {
            await engine.update('c', id, { failing: at });
            storage.failWrites = 'c.';
            await expect(engine.save('c')).rejects.toThrow();
            storage.failWrites = undefined;
          } else if (kind === 'save-noremove' && id) {
            await engine.update('c', id, { noremove: at });
            storage.refuseRemoves = 1;
            await engine.save('c');
            storage.refuseRemoves = 0;
          } else if (kind === 'evict') {
            await engine.count('o'); // loads o, evicts c (saved first)
            await engine.update('o', `o${at % 200}`, { t: at });
          } else if (kind === 'reopen') {
            const expected = structuredClone(await engine.findAll('c'));
            await engine.close();
            engine = await CollectionEngine.open(opts(bd));
            expect(await engine.findAll('c')).toEqual(expected);
          } else if (kind === 'rename') {
            await engine.rename('c', 't');
            if (at % 2) await engine.save('t');
            await engine.rename('t', 'c');
          } else if (kind === 'recreate' && at % 4 === 0) {
            await engine.drop('c');
            await engine.create('c');
            await engine.insertMany('c', Array.from({ length: 30 + (at % 50) }, () => ({ _id: idOf(next++), fresh: at })));
            deleted.length = 0;
          } else if (kind === 'packed') {
            const expected = structuredClone(await engine.findAll('c'));
            expect(await packed()).toEqual(expected);
          } else if (kind === 'packed-save' && id) {
            const expected = structuredClone(await engine.findAll('c'));
            const got = await packed(async () => {
              await engine.update('c', id, { mid: at });
              await engine.save('c');
              await engine.insert('c', { _id: idOf(next++), mid: true });
            });
            expect(got).toEqual(expected);
          }
          // The stream of the collection as it now is, after every step.
          expect(await packed()).toEqual(structuredClone(await engine.findAll('c')));
        }
        const expected = structuredClone(await engine.findAll('c'));
        const st = engine.stats();
        totals.reused += st.blocksReused;
        totals.evictions += st.evictions;
        totals.loads += st.loads;
        totals.reuseFailures += st.reuseFailures;
        await engine.close();
        engine = await CollectionEngine.open(opts(7));
        expect(await engine.findAll('c')).toEqual(expected);
        await engine.close();
      }),
      { numRuns: 200 },
    );
    // The histories went through saves that kept blocks and through evictions.
    expect(totals.reused).toBeGreaterThan(300);
    expect(totals.evictions).toBeGreaterThan(10);
  }, 300_000);
});
