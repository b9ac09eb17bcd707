/**
 * The id index kept in memory (Entry.idIndex in engine.ts) at its edges: cases where it
 * could be used for a file other than the one it describes, or describe it wrongly.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CollectionEngine, MemoryBlobStore } from '../../src/index.ts';
import { decodeCollectionBytes } from '../../src/collections/collection-file.ts';
import { decodeDocBatch } from '../../src/collections/packed-batch.ts';
import { idHash } from '../../src/collections/doc-table.ts';
import { HeldStore } from './held-store.ts';

const newest = async (storage: MemoryBlobStore, name: string) => {
  const files = (await storage.list()).filter((f) => f.startsWith(`${name}.`) && f.endsWith('.csc'));
  return files.sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1])).at(-1)!;
};
const fileDocs = async (storage: MemoryBlobStore, name: string) => decodeCollectionBytes(await storage.read(await newest(storage, name)), name);
const packed = async (engine: CollectionEngine, name: string) => {
  const out: unknown[] = [];
  for await (const bytes of engine.packedBatches(name)) out.push(...decodeDocBatch(bytes, 't'));
  return out;
};
const open = (storage: MemoryBlobStore, blockDocs = 10) => CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs, compressionWorkers: 0 });

describe('the id index kept in memory, at the edges', () => {
  it('a format-1 file: the index a load computed serves streams of its changes; the save is full', async () => {
    const storage = new MemoryBlobStore();
    await storage.write('legacy.3.csc', new Uint8Array(readFileSync(new URL('./fixtures/collection-format1.csc', import.meta.url))));
    const engine = await open(storage, 1000);
    const ids = (await engine.findAll('legacy')).map((d) => d._id);
    await engine.update('legacy', ids[0]!, { line: 99 });
    await engine.delete('legacy', ids[ids.length - 1]!);
    await engine.insert('legacy', { _id: 'new', x: 1 });
    expect(await packed(engine, 'legacy')).toEqual(structuredClone(await engine.findAll('legacy')));
    await engine.save('legacy');
    expect(await fileDocs(storage, 'legacy')).toEqual(structuredClone(await engine.findAll('legacy')));
    await engine.update('legacy', ids[1]!, { line: -1 });
    expect(await packed(engine, 'legacy')).toEqual(structuredClone(await engine.findAll('legacy')));
    await engine.save('legacy');
    expect(await fileDocs(storage, 'legacy')).toEqual(structuredClone(await engine.findAll('legacy')));
    await engine.close();
  });

  it('a load that falls back from a torn newest file keeps the index of the file it read', async () => {
    const storage = new MemoryBlobStore();
    let engine = await open(storage);
    await engine.create('c');
    await engine.insertMany('c', Array.from({ length: 100 }, (_, i) => ({ _id: `d${i}`, n: i })));
    await engine.save('c');
    // A torn newer file whose blocks hold the documents in another order.
    await engine.close();
    const other = new MemoryBlobStore();
    const e2 = await open(other);
    await e2.create('c');
    await e2.insertMany('c', Array.from({ length: 100 }, (_, i) => ({ _id: `d${99 - i}`, n: -i })));
    await e2.close();
    const full = await other.read(await newest(other, 'c'));
    await storage.write('c.9.csc', full.subarray(0, full.length - 5));
    engine = await open(storage);
    const memory = structuredClone(await engine.findAll('c'));
    expect(memory[0]).toEqual({ _id: 'd0', n: 0 });
    expect(engine.stats().recoveredSaves).toBe(1);
    await engine.update('c', 'd95', { n: 'x' });
    expect(await packed(engine, 'c')).toEqual(structuredClone(await engine.findAll('c')));
    await engine.save('c');
    expect(engine.stats().blocksReused).toBe(9);
    expect(await fileDocs(storage, 'c')).toEqual(structuredClone(await engine.findAll('c')));
    await engine.close();
  });

  it('ids whose hashes collide: a change to one reads both blocks, never skips one', async () => {
    expect(idHash('k32728')).toBe(idHash('k261234'));
    const storage = new MemoryBlobStore();
    const engine = await open(storage);
    await engine.create('c');
    const docs = Array.from({ length: 100 }, (_, i) => ({ _id: i === 3 ? 'k32728' : i === 57 ? 'k261234' : `d${i}`, n: i }));
    await engine.insertMany('c', docs);
    await engine.save('c');
    for (const id of ['k261234', 'k32728']) {
      await engine.update('c', id, { n: `changed ${id}` });
      expect(await packed(engine, 'c')).toEqual(structuredClone(await engine.findAll('c')));
      await engine.save('c');
      expect(await fileDocs(storage, 'c')).toEqual(structuredClone(await engine.findAll('c')));
    }
    await engine.delete('c', 'k32728');
    await engine.save('c');
    expect(await fileDocs(storage, 'c')).toEqual(structuredClone(await engine.findAll('c')));
    await engine.close();
  });

  it('a stream started at any microtask around the end of a save sends what memory held', async () => {
    for (let k = 0; k < 40; k++) {
      const storage = new HeldStore();
      const engine = await open(storage);
      await engine.create('c');
      await engine.insertMany('c', Array.from({ length: 100 }, (_, i) => ({ _id: `d${i}`, n: i })));
      await engine.save('c');
      await engine.update('c', 'd5', { n: 'before' });
      await engine.delete('c', 'd15');
      await engine.insert('c', { _id: 'new1' });
      const held = storage.holdNextWrite();
      const saving = engine.save('c');
      await held.started;
      await engine.update('c', 'd25', { n: 'raced' });
      await engine.update('c', 'd5', { n: 'raced too' });
      await engine.delete('c', 'd35');
      await engine.insert('c', { _id: 'new2' });
      await engine.delete('c', 'new1');
      await engine.insert('c', { _id: 'new1', again: true });
      const expected = structuredClone(await engine.findAll('c'));
      held.release();
      for (let i = 0; i < k; i++) await Promise.resolve();
      const got = await packed(engine, 'c');
      await saving;
      expect(got, `k=${k}`).toEqual(expected);
      expect(await packed(engine, 'c'), `k=${k}`).toEqual(expected);
      await engine.save('c');
      expect(await fileDocs(storage, 'c')).toEqual(expected);
      await engine.close();
    }
  });
});
