import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { ByteLru, CollectionEngine, createMemoryKv, KvBlobStore, MemoryBlobStore, ShelfError } from '../../src/index.ts';
import fc from 'fast-check';
import { blockIdHashes, decodeCollectionBytes, readCollectionBlocks } from '../../src/collections/collection-file.ts';
import { BufferPool } from '../../src/codec/buffer-pool.ts';
import { crc32, decodeFramePayloadAsync, FRAME_HEADER_BYTES, readFrameInfo } from '../../src/codec/index.ts';
import { decodeDocBatch } from '../../src/collections/packed-batch.ts';
import { runCollectionsConformance } from '../conformance/collections-conformance.ts';
import { HeldStore } from './held-store.ts';

runCollectionsConformance('memory blobs', async () => ({ storage: new MemoryBlobStore(), dispose: async () => undefined }));
runCollectionsConformance('KV blobs (memory KV)', async () => {
  const kv = createMemoryKv();
  return { storage: new KvBlobStore(kv), dispose: () => kv.close() };
});

/** The newest file of a collection. */
const newest = async (storage: MemoryBlobStore, name: string) => {
  const files = (await storage.list()).filter((f) => f.startsWith(`${name}.`) && f.endsWith('.csc'));
  return files.sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1])).at(-1)!;
};
/** An engine (blocks of 10) with collection `c` of 100 documents, saved in full: 10 blocks, no id index. */
const hundredSaved = async (storage: MemoryBlobStore) => {
  const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 10 });
  await engine.create('c');
  await engine.insertMany('c', Array.from({ length: 100 }, (_, i) => ({ _id: `d${i}`, n: i })));
  await engine.save('c');
  return engine;
};
/** The header of a collection's newest file. */
const headerOf = async (storage: MemoryBlobStore, name: string) => {
  const file = await newest(storage, name);
  const bytes = await storage.read(file);
  const head = bytes.subarray(0, readFrameInfo(bytes, { name: file }).totalBytes);
  return (await decodeFramePayloadAsync(head, { kind: 'COLH', name: file })).value as { format: number; idHashes?: Uint32Array[] };
};

describe('KvBlobStore', () => {
  it('reads ranges across 256 KiB chunks and shrinks cleanly', async () => {
    const kv = createMemoryKv();
    const blobs = new KvBlobStore(kv);
    const big = new Uint8Array(700_000).map((_, i) => i % 251);
    await blobs.write('f', big);
    expect(await blobs.size('f')).toBe(700_000);
    expect([...(await blobs.read('f', 262_140, 10))]).toEqual([...big.subarray(262_140, 262_150)]);
    expect((await blobs.read('f')).length).toBe(700_000);
    await blobs.write('f', big.subarray(0, 10));
    expect(await kv.count({ prefix: 'blob:f\u0000' })).toBe(2);
    expect(await blobs.list()).toEqual(['f']);
    await blobs.remove('f');
    expect(await kv.count()).toBe(0);
  });
});

describe('ByteLru', () => {
  it('orders by recency and proposes victims by bytes', () => {
    const lru = new ByteLru<string, number>(100);
    lru.set('a', 1, 40);
    lru.set('b', 2, 40);
    lru.set('c', 3, 40);
    expect(lru.bytes).toBe(120);
    lru.get('a');
    expect(lru.victims()).toEqual(['b']);
    expect(lru.victims((k) => k === 'b')).toEqual(['c']);
    lru.resize('a', 10);
    expect(lru.victims()).toEqual([]);
    expect(lru.get('zz')).toBeUndefined();
    expect([lru.hits, lru.misses]).toEqual([1, 1]);
  });
});

describe('background saving', () => {
  it('saves dirty collections on the interval and flushes on close', async () => {
    // Only the interval is faked: compression runs on real (native stream) time.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const storage = new MemoryBlobStore();
      const engine = await CollectionEngine.open({ storage, saveIntervalMs: 1000 });
      await engine.create('bg');
      await engine.insert('bg', { _id: 'a' });
      expect(engine.state('bg')).toBe('dirty');
      vi.advanceTimersByTime(999);
      expect(engine.state('bg')).toBe('dirty');
      vi.advanceTimersByTime(1);
      await vi.waitFor(() => expect(engine.state('bg')).toBe('loaded'));
      await engine.insert('bg', { _id: 'b' });
      await engine.close();
      const again = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
      expect(await again.count('bg')).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('loads that inflate blocks into the buffers of blocks rebuilt before them', () => {
  const saved = async (storage: MemoryBlobStore, docs: Record<string, unknown>[]) => {
    const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 10, compressionWorkers: 0 });
    await engine.create('c');
    await engine.insertMany('c', docs as { _id: string }[]);
    await engine.close();
    return CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 10, compressionWorkers: 0 });
  };

  it('reuses buffers for documents of strings, numbers and arrays', async () => {
    const storage = new MemoryBlobStore();
    const docs = Array.from({ length: 60 }, (_, i) => ({ _id: `d${i}`, n: i, s: `text ${i}`.repeat(i % 7), tags: [`t${i % 3}`, i] }));
    const engine = await saved(storage, docs);
    const take = vi.spyOn(BufferPool.prototype, 'take');
    try {
      expect(await engine.findAll('c')).toEqual(docs);
      // Six blocks: the first into a new buffer, the next five into the one before's.
      expect(take.mock.results.filter((r) => r.value !== undefined)).toHaveLength(5);
    } finally {
      take.mockRestore();
      await engine.close();
    }
  });

  it('a document holding bytes keeps its block\'s own bytes alive, not a pooled buffer', async () => {
    const storage = new MemoryBlobStore();
    const engine = await saved(storage, Array.from({ length: 60 }, (_, i) => ({ _id: `d${i}`, bin: Buffer.alloc(20, i) })));
    try {
      const docs = await engine.findAll('c');
      const kept = new Set(docs.map((d) => (d.bin as Uint8Array).buffer));
      // Views of the pool's buffers (64 KiB each, one per block) kept 393,216 bytes alive.
      expect([...kept].reduce((n, b) => n + b.byteLength, 0)).toBeLessThan(6 * 4096);
      expect(docs.map((d) => Array.from(d.bin as Uint8Array))).toEqual(Array.from({ length: 60 }, (_, i) => new Array(20).fill(i)));
    } finally {
      await engine.close();
    }
  });

  it('keeps the bytes a document holds: its block is not reused', async () => {
    const storage = new MemoryBlobStore();
    // MessagePack bin values (what a Node Buffer packs as) hold bytes of their block.
    const docs = Array.from({ length: 60 }, (_, i) => ({ _id: `d${i}`, bin: Buffer.alloc(200, i), n: i }));
    const engine = await saved(storage, docs);
    try {
      const loaded = await engine.findAll('c');
      expect(loaded.map((d) => d._id)).toEqual(docs.map((d) => d._id));
      // (Bytes, not a Buffer, come back: compared as bytes.)
      expect(loaded.map((d) => Array.from(d.bin as Uint8Array))).toEqual(docs.map((d) => Array.from(d.bin)));
    } finally {
      await engine.close();
    }
  });
});

describe('streams of a loaded collection with unsaved changes', () => {
  const decodeAll = async (engine: CollectionEngine, name: string, during?: () => Promise<void>) => {
    const out: unknown[] = [];
    let first = true;
    for await (const bytes of engine.packedBatches(name)) {
      out.push(...decodeDocBatch(bytes, 'test'));
      if (first && during) await during(); // changes made mid-stream do not show
      first = false;
    }
    return out;
  };

  it('send the same documents in the same order as memory holds them, whatever was changed and saved', async () => {
    // `recent`: the op picks among the last documents (the inserted ones) rather than any.
    // `save-racing`: the document is updated while a save, its documents already taken, writes.
    // `bulk`: so many updates that the engine stops recording changes until the next save.
    type Op = { kind: 'insert' | 'update' | 'replace' | 'delete' | 'reinsert' | 'save' | 'save-racing' | 'bulk' | 'stream'; at: number; recent: boolean };
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('insert', 'update', 'replace', 'delete', 'reinsert', 'save', 'save-racing', 'bulk', 'stream'),
      at: fc.nat(400),
      recent: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const storage = new HeldStore();
        const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 7 });
        await engine.create('c');
        await engine.insertMany('c', Array.from({ length: 100 }, (_, i) => ({ _id: `d${i}`, n: i, s: `text ${i}` })));
        await engine.save('c');
        let next = 100;
        const deleted: string[] = [];
        for (const { kind, at, recent } of [...ops, { kind: 'stream', at: 0, recent: false } as Op]) {
          const all = (await engine.findAll('c')).map((d) => d._id);
          const ids = recent ? all.slice(-4) : all;
          const id = ids[at % Math.max(1, ids.length)];
          if (kind === 'insert') await engine.insert('c', { _id: `d${next++}`, n: -at, extra: [at] });
          else if (kind === 'update' && id) await engine.update('c', id, { n: at, s: `changed ${at}` });
          else if (kind === 'replace' && id) await engine.replace('c', id, { other: true });
          else if (kind === 'delete' && id) {
            await engine.delete('c', id);
            deleted.push(id);
          } else if (kind === 'reinsert' && deleted.length) await engine.insert('c', { _id: deleted.pop()!, back: at });
          else if (kind === 'save') await engine.save('c');
          else if (kind === 'bulk') for (const each of all.slice(0, 70)) await engine.update('c', each, { bulk: at });
          else if (kind === 'save-racing' && id) {
            const held = storage.holdNextWrite();
            await engine.update('c', id, { before: at }); // dirty, so the save writes
            const saving = engine.save('c');
            await held.started;
            await engine.update('c', id, { raced: at });
            held.release();
            await saving;
          } else if (kind === 'stream') {
            const expected = structuredClone(await engine.findAll('c'));
            const victim = ids[(at + 1) % Math.max(1, ids.length)];
            const got = await decodeAll(engine, 'c', async () => {
              if (victim) await engine.update('c', victim, { late: true });
              await engine.insert('c', { _id: `d${next++}`, late: true });
            });
            expect(got).toEqual(expected);
          }
        }
        await engine.close();
      }),
      { numRuns: 200 },
    );
  });

  it('send the unchanged blocks of the file as they are', async () => {
    const storage = new MemoryBlobStore();
    const engine = await hundredSaved(storage);
    await engine.update('c', 'd55', { n: -1 });
    await engine.delete('c', 'd3');
    await engine.insert('c', { _id: 'new', n: 1000 });
    const file = (await storage.list()).find((f) => f.endsWith('.csc'))!;
    const stored: Uint8Array[] = [];
    for await (const block of readCollectionBlocks(storage, file, 'c')) stored.push(block.payload);
    const sent = [];
    for await (const bytes of engine.packedBatches('c')) sent.push(bytes);
    // Blocks 0 (d3 deleted) and 5 (d55 changed) are packed again, the rest sent as stored; then the insert.
    expect(sent).toHaveLength(11);
    const same = sent.slice(0, 10).map((b, i) => b.length === stored[i]!.length && b.every((x, j) => x === stored[i]![j]));
    expect(same).toEqual([false, true, true, true, true, false, true, true, true, true]);
    expect(decodeDocBatch(sent[10]!, 't')).toEqual([{ _id: 'new', n: 1000 }]);
    await engine.close();
  });
});

describe('saves that keep the blocks no change touched', () => {
  const blocksOf = async (storage: MemoryBlobStore, name: string) => {
    const out: { frame: Uint8Array; docs: number }[] = [];
    for await (const block of readCollectionBlocks(storage, await newest(storage, name), name)) out.push({ frame: block.frame.slice(), docs: block.count });
    return out;
  };
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
  /** The newest file's id index, checked against its blocks' ids (undefined when it has none). */
  const checkedIndex = async (storage: MemoryBlobStore, name: string) => {
    const header = await headerOf(storage, name);
    if (header.idHashes === undefined) return undefined;
    const actual: number[][] = [];
    for await (const block of readCollectionBlocks(storage, await newest(storage, name), name)) actual.push([...blockIdHashes(block)]);
    expect(header.idHashes.map((h) => [...h])).toEqual(actual);
    return header.idHashes;
  };

  it('copy untouched blocks byte for byte, encode touched ones again, and read back as memory holds the documents', async () => {
    const storage = new MemoryBlobStore();
    let engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 10 });
    await engine.create('c');
    await engine.insertMany('c', Array.from({ length: 100 }, (_, i) => ({ _id: `d${i}`, n: i, s: `text ${i}` })));
    await engine.save('c');
    expect(engine.stats().blocksReused).toBe(0); // 100 inserts: too many changes recorded, a full save
    const before = await blocksOf(storage, 'c');
    expect(before).toHaveLength(10);
    await engine.update('c', 'd55', { n: -1 });
    await engine.delete('c', 'd3');
    await engine.insert('c', { _id: 'new', n: 1000 });
    await engine.delete('c', 'd71');
    await engine.insert('c', { _id: 'd71', back: true }); // deleted and inserted again: now at the end
    await engine.save('c');
    expect(engine.stats().blocksReused).toBe(7); // all but blocks 0, 5 and 7
    const after = await blocksOf(storage, 'c');
    expect(after.map((b) => b.docs)).toEqual([9, 10, 10, 10, 10, 10, 10, 9, 10, 10, 2]);
    expect(after.slice(0, 10).map((b, i) => same(b.frame, before[i]!.frame))).toEqual([false, true, true, true, true, false, true, false, true, true]);
    const memory = structuredClone(await engine.findAll('c'));
    expect(memory.at(-2)).toEqual({ _id: 'new', n: 1000 });
    expect(await decodeCollectionBytes(await storage.read(await newest(storage, 'c')), 'c')).toEqual(memory);
    await engine.close();
    engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 10 });
    expect(await engine.findAll('c')).toEqual(memory);
    await engine.close();
  });

  it('after a full save or a load, find the touched blocks by the id index kept in memory, without reading the others', async () => {
    // Block 5's deflate stream is damaged behind a valid checksum: a save that reads every
    // block's ids fails on it (and falls back to writing everything); one that knows the
    // file's ids never inflates it and copies it as it is.
    const damageBlock = async (storage: MemoryBlobStore, index: number) => {
      const file = await newest(storage, 'c');
      const bytes = await storage.read(file);
      let offset = 0;
      for (let i = -1; i < index; i++) offset += readFrameInfo(bytes.subarray(offset), { name: 't' }).totalBytes;
      const frame = bytes.subarray(offset, offset + readFrameInfo(bytes.subarray(offset), { name: 't' }).totalBytes);
      for (let k = FRAME_HEADER_BYTES; k < frame.length; k++) frame[k] = 0xff;
      new DataView(frame.buffer, frame.byteOffset).setUint32(20, crc32(frame, FRAME_HEADER_BYTES, frame.length, crc32(frame, 4, 20)), true);
      await storage.write(file, bytes);
    };
    for (const after of ['full save', 'load'] as const) {
      const storage = new MemoryBlobStore();
      let engine = await hundredSaved(storage);
      if (after === 'load') {
        await engine.close();
        engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 10 });
        expect(await engine.count('c')).toBe(100);
      }
      expect((await headerOf(storage, 'c')).idHashes).toBeUndefined();
      await engine.update('c', 'd3', { n: -3 });
      // A stream with that change, its blocks picked by the same index (a stream inflates
      // every block it sends, so it runs before the damage).
      const sent: Uint8Array[] = [];
      for await (const bytes of engine.packedBatches('c')) sent.push(bytes);
      expect(sent.flatMap((b) => decodeDocBatch(b, 't'))).toEqual(await engine.findAll('c'));
      await damageBlock(storage, 5);
      await engine.save('c');
      expect(engine.stats().reuseFailures).toBe(0);
      expect(engine.stats().blocksReused).toBe(9);
      await engine.close();
    }
  });

  it('write exactly what memory held when they started, whatever the changes, the racing writes and the saves before', async () => {
    // `save-racing`: writes land while the save writes its file; `save-reading`: while it
    // reads the old one (before it has made anything).
    type Op = { kind: 'insert' | 'update' | 'delete' | 'reinsert' | 'save' | 'save-racing' | 'save-reading' | 'bulk' | 'reopen' | 'packed'; at: number };
    const op = fc.record({ kind: fc.constantFrom<Op['kind']>('insert', 'update', 'delete', 'reinsert', 'save', 'save-racing', 'save-reading', 'bulk', 'reopen', 'packed'), at: fc.nat(400) });
    let reused = 0;
    let indexed = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const storage = new HeldStore();
        let engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 7 });
        await engine.create('c');
        await engine.insertMany('c', Array.from({ length: 100 }, (_, i) => ({ _id: `d${i}`, n: i })));
        await engine.save('c');
        let next = 100;
        const deleted: string[] = [];
        const fileHolds = async (expected: unknown[]) => {
          expect(await decodeCollectionBytes(await storage.read(await newest(storage, 'c')), 'c')).toEqual(expected);
          if (await checkedIndex(storage, 'c')) indexed++;
        };
        for (const { kind, at } of ops) {
          const all = (await engine.findAll('c')).map((d) => d._id);
          const id = all[at % Math.max(1, all.length)];
          if (kind === 'insert') await engine.insert('c', { _id: `d${next++}`, n: -at });
          else if (kind === 'update' && id) await engine.update('c', id, { n: at, s: `changed ${at}` });
          else if (kind === 'delete' && id) {
            await engine.delete('c', id);
            deleted.push(id);
          } else if (kind === 'reinsert' && deleted.length) await engine.insert('c', { _id: deleted.pop()!, back: at });
          else if (kind === 'bulk') for (const each of all.slice(0, 40)) await engine.update('c', each, { bulk: at });
          else if (kind === 'save') {
            const expected = structuredClone(await engine.findAll('c'));
            const was = engine.stats().blocksReused;
            await engine.save('c');
            reused += engine.stats().blocksReused - was;
            await fileHolds(expected);
          } else if (kind === 'save-racing' && id) {
            await engine.update('c', id, { before: at }); // dirty, so the save writes
            const expected = structuredClone(await engine.findAll('c'));
            const held = storage.holdNextWrite();
            const saving = engine.save('c');
            await held.started;
            await engine.update('c', id, { raced: at });
            await engine.insert('c', { _id: `d${next++}`, raced: true });
            held.release();
            await saving;
            await fileHolds(expected); // the racing writes wait for the next save
          } else if (kind === 'save-reading' && id) {
            await engine.update('c', id, { before: at });
            const expected = structuredClone(await engine.findAll('c'));
            const held = storage.holdNextRead();
            const saving = engine.save('c');
            // A full save reads nothing: then the gate never closes and the writes come after it.
            await Promise.race([held.started, saving]);
            const victim = all[(at + 7) % all.length];
            await engine.update('c', id, { raced: at });
            if (victim && victim !== id) await engine.delete('c', victim);
            await engine.insert('c', { _id: `d${next++}`, raced: true });
            held.cancel();
            held.release();
            await saving;
            if (held.hit) await fileHolds(expected);
          } else if (kind === 'packed') {
            // A stream of the collection as the page reads it: the file's blocks with the changes since.
            const streamed: unknown[] = [];
            for await (const bytes of engine.packedBatches('c')) streamed.push(...decodeDocBatch(bytes, 't'));
            expect(streamed).toEqual(await engine.findAll('c'));
          } else if (kind === 'reopen') {
            const expected = structuredClone(await engine.findAll('c'));
            await engine.close();
            await fileHolds(expected);
            engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 7 });
            expect(await engine.findAll('c')).toEqual(expected);
          }
        }
        const expected = structuredClone(await engine.findAll('c'));
        await engine.close();
        engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 7 });
        expect(await engine.findAll('c')).toEqual(expected);
        await engine.close();
      }),
      { numRuns: 150 },
    );
    expect(reused).toBeGreaterThan(100); // the property ran through saves that kept blocks
    expect(indexed).toBeGreaterThan(50); // ... and through files with an id index
  }, 60_000);

  it('with an id index in the old file, blocks the changes do not touch are copied without being inflated', async () => {
    const storage = new MemoryBlobStore();
    const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 10 });
    await engine.create('c');
    await engine.insertMany('c', Array.from({ length: 100 }, (_, i) => ({ _id: `d${i}`, n: i })));
    await engine.save('c'); // full save: no index
    expect(await checkedIndex(storage, 'c')).toBeUndefined();
    await engine.update('c', 'd5', { n: -5 });
    await engine.save('c'); // every block inflated to find d5; the new file gets an index
    expect((await checkedIndex(storage, 'c'))!.map((h) => h.length)).toEqual(Array(10).fill(10));
    // Block 7's deflate stream replaced by zeros, its checksum made to match: it checks, but
    // cannot be inflated. A save that inflated it would fail to read the old file and fall
    // back to a full save (nothing reused).
    const file = await newest(storage, 'c');
    const bytes = (await storage.read(file)).slice();
    let at = readFrameInfo(bytes, { name: file }).totalBytes;
    for (let i = 0; i < 7; i++) at += readFrameInfo(bytes.subarray(at), { name: file }).totalBytes;
    const end = at + readFrameInfo(bytes.subarray(at), { name: file }).totalBytes;
    bytes.fill(0, at + FRAME_HEADER_BYTES, end);
    new DataView(bytes.buffer).setUint32(at + 20, crc32(bytes, at + FRAME_HEADER_BYTES, end, crc32(bytes, at + 4, at + 20)), true);
    await storage.write(file, bytes);
    const was = engine.stats().blocksReused;
    await engine.update('c', 'd55', { n: -55 });
    await engine.save('c');
    expect(engine.stats().blocksReused - was).toBe(9); // all but block 5, block 7 among them, not inflated
    await engine.close();
  });

  it('a damaged old file: the save writes every document from memory', async () => {
    const storage = new MemoryBlobStore();
    const engine = await hundredSaved(storage);
    const file = await newest(storage, 'c');
    const bytes = (await storage.read(file)).slice();
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff; // inside a middle block: its checksum fails
    await storage.write(file, bytes);
    await engine.update('c', 'd1', { n: 'changed' });
    await engine.save('c');
    expect(engine.stats().blocksReused).toBe(0);
    const memory = structuredClone(await engine.findAll('c'));
    expect(await decodeCollectionBytes(await storage.read(await newest(storage, 'c')), 'c')).toEqual(memory);
    await engine.close();
  });

  it('an old file that cannot be read for any reason: the save writes every document from memory', async () => {
    class FlakyStore extends MemoryBlobStore {
      failReads = false;
      override async read(name: string, offset?: number, length?: number): Promise<Uint8Array> {
        if (this.failReads) throw new ShelfError('INTERNAL', 'the disk said no');
        return super.read(name, offset, length);
      }
    }
    const storage = new FlakyStore();
    const engine = await hundredSaved(storage);
    await engine.update('c', 'd1', { n: 'changed' });
    storage.failReads = true;
    await engine.save('c');
    expect(engine.state('c')).toBe('loaded'); // saved, not dirty
    expect(engine.stats().blocksReused).toBe(0);
    expect(engine.stats().reuseFailures).toBe(1); // and said so
    expect(engine.lastReuseError).toMatchObject({ code: 'INTERNAL' });
    storage.failReads = false;
    expect(await decodeCollectionBytes(await storage.read(await newest(storage, 'c')), 'c')).toEqual(await engine.findAll('c'));
    await engine.close();
  });

  it('blocks larger than the engine makes are cut to size by a full save, then kept', async () => {
    const storage = new MemoryBlobStore();
    let engine = await hundredSaved(storage); // blocks of 10
    await engine.close();
    engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 3 });
    await engine.update('c', 'd5', { n: -5 });
    await engine.save('c');
    expect(engine.stats().blocksReused).toBe(0);
    expect(Math.max(...(await blocksOf(storage, 'c')).map((b) => b.docs))).toBe(3);
    await engine.update('c', 'd50', { n: -50 });
    await engine.save('c');
    expect(engine.stats().blocksReused).toBe(33); // 34 blocks, one touched
    expect(engine.stats().reuseFailures).toBe(0);
    expect(await decodeCollectionBytes(await storage.read(await newest(storage, 'c')), 'c')).toEqual(await engine.findAll('c'));
    await engine.close();
  });

  it('a format-1 old file is saved in full, in a column format', async () => {
    const storage = new MemoryBlobStore();
    await storage.write('legacy.3.csc', new Uint8Array(readFileSync(new URL('./fixtures/collection-format1.csc', import.meta.url))));
    const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    await engine.update('legacy', 'doc-0', { line: 99 });
    await engine.save('legacy');
    expect(engine.stats().blocksReused).toBe(0);
    expect((await headerOf(storage, 'legacy')).format).toBeGreaterThanOrEqual(2);
    expect(await decodeCollectionBytes(await storage.read(await newest(storage, 'legacy')), 'legacy')).toEqual(await engine.findAll('legacy'));
    await engine.close();
  });

  it('short blocks left by deletes and inserts are packed again by a full save before they pile up', async () => {
    const storage = new MemoryBlobStore();
    const engine = await hundredSaved(storage);
    const counts: number[] = [];
    for (let i = 0; i < 30; i++) {
      await engine.insert('c', { _id: `x${i}`, n: i }); // one document a save: a block of its own
      await engine.save('c');
      counts.push((await blocksOf(storage, 'c')).length);
    }
    const docs = 130;
    // Never more than a quarter more blocks than a fresh file (13 here) would have, plus 2 ...
    expect(Math.max(...counts)).toBeLessThanOrEqual(Math.ceil(docs / 10) + 3);
    // ... and blocks were kept in most saves: the full save only came now and then.
    expect(engine.stats().blocksReused).toBeGreaterThan(20 * 10);
    expect(await decodeCollectionBytes(await storage.read(await newest(storage, 'c')), 'c')).toEqual(await engine.findAll('c'));
    await engine.close();
  });
});

describe('streamed file reads through a moving window', () => {
  it('give the same blocks as a whole-file read, whatever the window, with the next window read ahead', async () => {
    /** Counts reads and how many run at once. */
    class CountingStore extends MemoryBlobStore {
      reads = 0;
      running = 0;
      most = 0;
      override async read(name: string, offset?: number, length?: number): Promise<Uint8Array> {
        this.reads++;
        this.most = Math.max(this.most, ++this.running);
        try {
          await new Promise((r) => setTimeout(r, 0));
          return await super.read(name, offset, length);
        } finally {
          this.running--;
        }
      }
    }
    let readAhead = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 20_000 }), async (count, blockDocs, windowBytes) => {
        const storage = new CountingStore();
        const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs, compressionWorkers: 0 });
        await engine.create('c');
        await engine.insertMany('c', Array.from({ length: count }, (_, i) => ({ _id: `d${i}`, text: `value ${i} `.repeat(i % 17) })));
        await engine.close();
        const file = (await storage.list()).find((f) => f.endsWith('.csc'))!;
        const whole: Uint8Array[] = [];
        for await (const block of readCollectionBlocks(storage, file, 'c')) whole.push(block.payload);
        storage.most = 0;
        const windowed: Uint8Array[] = [];
        for await (const block of readCollectionBlocks(storage, file, 'c', windowBytes, 0)) {
          windowed.push(block.payload);
          if (storage.running > 0) readAhead++; // a read is under way while this block is worked on
        }
        expect(windowed.map((b) => Buffer.from(b).toString('hex'))).toEqual(whole.map((b) => Buffer.from(b).toString('hex')));
        expect(storage.most).toBeLessThanOrEqual(2); // this window and the next, no more
      }),
      { numRuns: 60 },
    );
    expect(readAhead).toBeGreaterThan(10); // the next window was being read while blocks were worked on
  });

  it('a failed read ahead fails the stream when its bytes are due, after the blocks before', async () => {
    class FailingStore extends MemoryBlobStore {
      failFrom = Infinity;
      override async read(name: string, offset = 0, length?: number): Promise<Uint8Array> {
        if (offset >= this.failFrom) throw new Error('disk gone');
        return super.read(name, offset, length);
      }
    }
    const storage = new FailingStore();
    const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 10, compressionWorkers: 0 });
    await engine.create('c');
    await engine.insertMany('c', Array.from({ length: 200 }, (_, i) => ({ _id: `d${i}`, text: `value ${i} `.repeat(i % 13) })));
    await engine.close();
    const file = (await storage.list()).find((f) => f.endsWith('.csc'))!;
    const bytes = await storage.read(file);
    // Where each block's frame ends (24-byte frame header, stored length at +12; the header frame first).
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const ends: number[] = [];
    for (let at = 24 + view.getUint32(12, true); at < bytes.length; ) ends.push((at += 24 + view.getUint32(at + 12, true)));
    expect(ends).toHaveLength(20);
    const failFrom = Math.floor(bytes.length / 2);
    storage.failFrom = failFrom;
    let docs = 0;
    const error = await (async () => {
      for await (const block of readCollectionBlocks(storage, file, 'c', 1000, 0)) docs += block.count;
    })().catch((e: unknown) => e);
    expect((error as Error).message).toBe('disk gone');
    // Every block lying wholly before the failing bytes came first; none lying wholly after them did.
    expect(docs).toBeGreaterThanOrEqual(10 * ends.filter((e) => e <= failFrom).length);
    expect(docs).toBeLessThan(10 * ends.filter((e) => e <= failFrom + 1000).length + 10);
    expect(docs).toBeLessThan(200);
  });

});

describe('writes and streams racing other work', () => {
  /** A store whose next write can be held open until the test lets it finish. */
  const all = async (engine: CollectionEngine, name: string) => {
    const out: unknown[] = [];
    for await (const bytes of engine.packedBatches(name)) out.push(...decodeDocBatch(bytes, 't'));
    return out;
  };

  it('a stream packed from memory holds the documents as they were when it started', async () => {
    const engine = await CollectionEngine.open({ storage: new MemoryBlobStore(), saveIntervalMs: 0 });
    await engine.create('c');
    await engine.insertMany('c', Array.from({ length: 2500 }, (_, i) => ({ _id: `d${i}`, n: i })));
    const expected = structuredClone(await engine.findAll('c'));
    const got: unknown[] = [];
    let first = true;
    for await (const bytes of engine.packedBatches('c')) {
      got.push(...decodeDocBatch(bytes, 't'));
      if (!first) continue;
      first = false;
      await engine.delete('c', 'd5');
      await engine.insert('c', { _id: 'd5', n: 'again' });
      await engine.delete('c', 'd2000');
      await engine.update('c', 'd1500', { n: -1 });
    }
    expect(got).toEqual(expected);
    await engine.close();
  });

  it('a collection dropped while its save writes, then created again, keeps the new documents', async () => {
    const storage = new HeldStore();
    let engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    await engine.create('c');
    await engine.insert('c', { _id: 'old' });
    const held = storage.holdNextWrite();
    const saving = engine.save('c');
    await held.started;
    const dropping = engine.drop('c');
    await engine.create('c');
    await engine.insert('c', { _id: 'new' });
    await engine.save('c');
    held.release();
    await saving;
    await dropping;
    expect(await all(engine, 'c')).toEqual([{ _id: 'new' }]);
    await engine.close();
    engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    expect(await engine.findAll('c')).toEqual([{ _id: 'new' }]);
    await engine.close();
  });

  it('a write is never acknowledged into documents the LRU evicted meanwhile', async () => {
    const storage = new MemoryBlobStore();
    let engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, memoryLimitBytes: 3000 });
    await engine.create('a');
    await engine.insert('a', { _id: 'd1', n: 1 });
    await engine.save('a');
    await engine.create('big');
    // The insert into 'big' evicts 'a' while the update of 'a' waits for its documents.
    const [, updated] = await Promise.all([engine.insert('big', { _id: 'x', text: 'x'.repeat(4000) }), engine.update('a', 'd1', { n: 'changed' })]);
    expect(updated).toEqual({ _id: 'd1', n: 'changed' });
    expect(await engine.get('a', 'd1')).toEqual({ _id: 'd1', n: 'changed' });
    await engine.close();
    engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    expect(await engine.get('a', 'd1')).toEqual({ _id: 'd1', n: 'changed' });
    await engine.close();
  });

  it('a write right as a load ends lands in the documents that stay loaded', async () => {
    const storage = new MemoryBlobStore();
    let engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    await engine.create('c');
    await engine.insertMany('c', [{ _id: 'd1', n: 1 }, { _id: 'd2', n: 2 }]);
    await engine.close();
    engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    const first = engine.update('c', 'd1', { n: 'first' });
    // Poll between microtasks; the moment the load is no longer 'loading', write again.
    let second: Promise<unknown> | undefined;
    for (let i = 0; i < 10_000 && !second; i++) {
      await Promise.resolve();
      if (engine.state('c') !== 'loading') second = engine.update('c', 'd2', { n: 'second' });
    }
    await Promise.all([first, second]);
    expect(await engine.findAll('c')).toEqual([{ _id: 'd1', n: 'first' }, { _id: 'd2', n: 'second' }]);
    expect(engine.stats().loads).toBe(1);
    await engine.close();
  });

  it('a rename copies the documents: the new name streams and reopens as it holds them', async () => {
    const storage = new HeldStore();
    let engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    await engine.create('a');
    await engine.insertMany('a', Array.from({ length: 5 }, (_, i) => ({ _id: `d${i}`, n: i })));
    const held = storage.holdNextWrite();
    const renaming = engine.rename('a', 'b');
    await held.started;
    await engine.update('a', 'd3', { n: 'late' }).catch(() => undefined); // the old name, going away
    held.release();
    await renaming;
    const memory = await engine.findAll('b');
    expect(await all(engine, 'b')).toEqual(memory);
    await engine.close();
    engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    expect(await engine.findAll('b')).toEqual(memory);
    expect(engine.list()).toEqual(['b']);
    await engine.close();
  });
});

describe('saves whose old file cannot be removed', () => {
  it('succeed, and the old file goes with a later save', async () => {
    class Stubborn extends MemoryBlobStore {
      refuse = 1;
      override async remove(name: string): Promise<void> {
        if (this.refuse > 0) {
          this.refuse--;
          throw new Error('file is busy');
        }
        return super.remove(name);
      }
    }
    const storage = new Stubborn();
    const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    await engine.create('c'); // c.1
    await engine.insert('c', { _id: 'a' });
    await engine.save('c'); // writes c.2; removing c.1 fails, and the save still resolves
    expect((await storage.list()).sort()).toEqual(['c.1.csc', 'c.2.csc']);
    expect(await engine.findAll('c')).toEqual([{ _id: 'a' }]);
    await engine.insert('c', { _id: 'b' });
    await engine.save('c'); // writes c.3, removes c.1 and c.2
    expect(await storage.list()).toEqual(['c.3.csc']);
    await engine.close();
    const again = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    expect(await again.findAll('c')).toEqual([{ _id: 'a' }, { _id: 'b' }]);
    await again.close();
  });
});
