import { wrap, type Remote } from 'comlink';
import { deleteDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { OpfsBlobStore, openShelf, type BlobStore } from '../../src/index.ts';
import { runCollectionsConformance } from '../conformance/collections-conformance.ts';

let n = 0;
const unique = (p: string) => `${p}-${Date.now()}-${n++}`;

async function removeOpfsDir(path: string): Promise<void> {
  const parts = path.split('/');
  let dir = await navigator.storage.getDirectory();
  for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
  await dir.removeEntry(parts[parts.length - 1]!, { recursive: true });
}

runCollectionsConformance('OPFS, page thread (writable streams)', async () => {
  const path = `test-collections/${unique('page')}`;
  const storage = await OpfsBlobStore.open(path);
  return { storage, dispose: () => removeOpfsDir(path) };
});

runCollectionsConformance('OPFS, dedicated worker (sync access handles)', async () => {
  const path = `test-collections/${unique('worker')}`;
  const worker = new Worker(new URL('./opfs-blob.worker.ts', import.meta.url), { type: 'module' });
  const api = wrap<{ open(path: string): Promise<BlobStore> }>(worker);
  const remote = (await api.open(path)) as unknown as Remote<BlobStore>;
  // A plain store over the remote one: a Comlink proxy answers every property, so the
  // engine would take it to have `openReader` (whose reader cannot cross threads); the
  // storage worker's own store, which has it, is tested through openShelf below.
  const storage: BlobStore = {
    list: () => remote.list(),
    size: (name) => remote.size(name),
    read: (name, offset, length) => remote.read(name, offset, length),
    write: (name, bytes) => remote.write(name, bytes),
    remove: (name) => remote.remove(name),
  };
  return {
    storage,
    dispose: async () => {
      worker.terminate();
      await removeOpfsDir(path);
    },
  };
});

describe('OPFS reads in a dedicated worker', () => {
  it('go through read-only sync access handles, several at once on one file', async () => {
    const path = `test-collections/${unique('ro')}`;
    const worker = new Worker(new URL('./opfs-blob.worker.ts', import.meta.url), { type: 'module' });
    const api = wrap<{ open(path: string): Promise<BlobStore>; readTwiceThroughHandles(path: string, name: string): Promise<{ first?: number[]; second?: number[] }> }>(worker);
    const storage = (await api.open(path)) as unknown as Remote<BlobStore>;
    await storage.write('f', new Uint8Array([1, 2, 3, 4, 5]));
    // Both reads take the handle path (Chromium has handle modes): the second one while
    // another read-only handle holds the file.
    expect(await api.readTwiceThroughHandles(path, 'f')).toEqual({ first: [2, 3, 4], second: [1, 2, 3, 4, 5] });
    // A write or a removal that meets a read holding the file waits for it.
    const api2 = api as unknown as { changeWhileHeld(path: string, name: string): Promise<{ waitedToWrite: number; written: number[]; left: string[] }> };
    const changed = await api2.changeWhileHeld(path, 'f');
    expect(changed.written).toEqual([9, 9]);
    expect(changed.waitedToWrite).toBeGreaterThanOrEqual(50);
    expect(changed.left).toEqual([]);
    worker.terminate();
    await removeOpfsDir(path);
  });

  it('through a reader held open for a run of ranges, beside other reads of the file', async () => {
    const path = `test-collections/${unique('reader')}`;
    const worker = new Worker(new URL('./opfs-blob.worker.ts', import.meta.url), { type: 'module' });
    const api = wrap<{ open(path: string): Promise<BlobStore>; readerOf(path: string, name: string): Promise<Record<string, unknown>> }>(worker);
    const storage = (await api.open(path)) as unknown as Remote<BlobStore>;
    await storage.write('f', Uint8Array.from({ length: 100 }, (_, i) => i));
    expect(await api.readerOf(path, 'f')).toEqual({
      size: 100,
      ranges: [[0, 1, 2, 3], [97, 98, 99], []],
      alongside: { other: [50, 51], read: [10, 11] },
      removedWhileOpen: false,
      lastRead: [99],
      left: [],
      afterClose: 'CLOSED',
      missing: 'NOT_FOUND',
    });
    worker.terminate();
    await removeOpfsDir(path);
  });
});

async function dropShelf(name: string): Promise<void> {
  await deleteDB(`codeshelf:${name}:kv`);
  await removeOpfsDir(`codeshelf/${encodeURIComponent(name)}`).catch(() => undefined);
}

describe('collections through the storage worker', () => {
  it('streams batches to the page through a transferred ReadableStream', async () => {
    const name = unique('stream');
    const shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    await shelf.collections.create('outlines');
    await shelf.collections.insertMany('outlines', Array.from({ length: 2345 }, (_, i) => ({ _id: `f${i}`, i })));
    const sizes: number[] = [];
    let total = 0;
    for await (const batch of shelf.collections.iterate('outlines', { batchSize: 1000 })) {
      sizes.push(batch.length);
      total += batch.reduce((s, d) => s + (d.i as number), 0);
    }
    expect(sizes).toEqual([1000, 1000, 345]);
    expect(total).toBe((2344 * 2345) / 2);
    expect((await shelf.collections.stats()).totalCollections).toBe(1);
    await shelf.close();
    await dropShelf(name);
  });

  it('documents streamed earlier keep their values while later batches reuse buffers handed back', async () => {
    // Blocks of plain documents go back to the worker once rebuilt and are inflated into
    // again; a block whose documents hold bytes (views msgpackr made into the batch) must not.
    const name = unique('stream-recycle');
    let shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    await shelf.collections.create('plain');
    await shelf.collections.create('bytes');
    const plain = Array.from({ length: 30_000 }, (_, i) => ({ _id: `p${i}`, i, text: `line ${i} `.repeat(1 + (i % 7)), list: [i, `x${i}`] }));
    const bytes = Array.from({ length: 30_000 }, (_, i) => ({ _id: `b${i}`, i, data: Uint8Array.from({ length: 16 }, (_, k) => (i + k) & 255) }));
    for (let i = 0; i < 30_000; i += 10_000) {
      await shelf.collections.insertMany('plain', plain.slice(i, i + 10_000));
      await shelf.collections.insertMany('bytes', bytes.slice(i, i + 10_000));
    }
    await shelf.collections.save('plain');
    await shelf.collections.save('bytes');
    await shelf.close();
    shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    for (let round = 0; round < 2; round++) {
      const held: Record<string, unknown>[] = [];
      for await (const batch of shelf.collections.iterate('plain', { batchSize: 700 })) held.push(...batch);
      const heldBytes: Record<string, unknown>[] = [];
      for await (const batch of shelf.collections.iterate('bytes', { batchSize: 700 })) heldBytes.push(...batch);
      // Checked after both streams ended, every block's buffer long since reused or gone.
      expect(held).toEqual(plain);
      expect(heldBytes.length).toBe(30_000);
      heldBytes.forEach((d, i) => {
        expect(d.data).toBeInstanceOf(Uint8Array);
        expect(Array.from(d.data as Uint8Array)).toEqual(Array.from(bytes[i]!.data));
      });
    }
    await shelf.close();
    await dropShelf(name);
  });

  it('streams the same documents in any batch size, loaded or straight from the file, filtered or not', async () => {
    const name = unique('stream-sizes');
    let shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    await shelf.collections.create('docs');
    const docs = Array.from({ length: 2600 }, (_, i) => ({ _id: `d${i}`, i, path: `src/${i % 9}.ts`, tags: i % 4 ? ['a'] : [], odd: i % 2 === 1 }));
    await shelf.collections.insertMany('docs', docs);
    const read = async (batchSize: number, filter?: Record<string, unknown>) => {
      const batches: number[] = [];
      const seen: unknown[] = [];
      for await (const batch of shelf.collections.iterate('docs', filter ? { batchSize, filter } : { batchSize })) {
        batches.push(batch.length);
        seen.push(...batch);
      }
      return { batches, seen };
    };
    const expectBatches = (got: number[], total: number, size: number) => {
      expect(got.reduce((a, b) => a + b, 0)).toBe(total);
      expect(got.slice(0, -1).every((n) => n === size)).toBe(true);
      expect(got.at(-1)! <= size).toBe(true);
    };
    for (const loaded of [true, false]) {
      if (!loaded) {
        await shelf.close(); // saved; the new worker streams blocks from the file
        shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
        expect(await shelf.collections.state('docs')).toBe('unloaded');
      }
      for (const size of [7, 1000, 2500, 5000]) {
        const { batches, seen } = await read(size);
        expect(seen).toEqual(docs);
        expectBatches(batches, docs.length, size);
      }
      const { batches, seen } = await read(300, { odd: true });
      expect(seen).toEqual(docs.filter((d) => d.odd));
      expectBatches(batches, 1300, 300);
      if (!loaded) expect(await shelf.collections.state('docs')).toBe('unloaded');
    }
    await expect(read(0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await shelf.close();
    await dropShelf(name);
  });

  it('a reader that stops early stops the worker too: a dropped collection leaves no file behind', async () => {
    const name = unique('stream-stop');
    let shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    await shelf.collections.create('big');
    await shelf.collections.insertMany('big', Array.from({ length: 30_000 }, (_, i) => ({ _id: `d${i}`, text: `line ${i} `.repeat(8) })));
    await shelf.close();
    shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    let batches = 0;
    for await (const batch of shelf.collections.iterate('big', { batchSize: 500 })) {
      expect(batch.length).toBe(500);
      if (++batches === 2) break;
    }
    // The file a stream reads is removed only once that stream ends (see the engine).
    await shelf.collections.drop('big');
    const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('codeshelf')).getDirectoryHandle(encodeURIComponent(name));
    const files = async () => {
      const out: string[] = [];
      for await (const key of (await dir.getDirectoryHandle('collections') as unknown as { keys(): AsyncIterable<string> }).keys()) out.push(key);
      return out;
    };
    for (let i = 0; i < 50 && (await files()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await files()).toEqual([]);
    await shelf.close();
    await dropShelf(name);
  });

  it('a damaged block read by a stream arrives as CORRUPT after the good batches; close ends a stream with CLOSED', async () => {
    const name = unique('stream-errors');
    let shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    await shelf.collections.create('c');
    await shelf.collections.insertMany('c', Array.from({ length: 5000 }, (_, i) => ({ _id: `d${i}`, n: i, text: `value ${i}` })));
    await shelf.close();
    // Flip one byte near the end of the file: the last block's checksum fails.
    const dir = await (await (await (await navigator.storage.getDirectory()).getDirectoryHandle('codeshelf')).getDirectoryHandle(encodeURIComponent(name))).getDirectoryHandle('collections');
    let fileName = '';
    for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) if (key.startsWith('c.')) fileName = key;
    const bytes = new Uint8Array(await (await (await dir.getFileHandle(fileName)).getFile()).arrayBuffer());
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    const writable = await (await dir.getFileHandle(fileName)).createWritable();
    await writable.write(bytes);
    await writable.close();
    shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    let seen = 0;
    const error = await (async () => {
      for await (const batch of shelf.collections.iterate('c', { batchSize: 1000 })) seen += batch.length;
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CORRUPT' });
    expect((error as Error).message).toContain('"c"');
    expect(seen).toBe(4000);
    await shelf.close();

    // A stream that is waiting when the shelf closes fails with CLOSED instead of hanging.
    shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    await shelf.collections.create('ok');
    await shelf.collections.insertMany('ok', Array.from({ length: 3000 }, (_, i) => ({ _id: `k${i}` })));
    const iterator = shelf.collections.iterate('ok', { batchSize: 1000 })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toHaveLength(1000);
    const closing = shelf.close();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'CLOSED' });
    await closing;
    await dropShelf(name);
  });

  it('a load in the storage worker lets go of a torn or damaged file: the fall-back removes it, a drop removes it', async () => {
    const name = unique('torn');
    let shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    await shelf.collections.create('c');
    const docs = Array.from({ length: 5000 }, (_, i) => ({ _id: `f${i}`, n: i, text: `value ${i}` }));
    await shelf.collections.insertMany('c', docs);
    await shelf.close();
    const dir = await (await (await (await navigator.storage.getDirectory()).getDirectoryHandle('codeshelf')).getDirectoryHandle(encodeURIComponent(name))).getDirectoryHandle('collections');
    const files = async () => {
      const names: string[] = [];
      for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(key);
      return names.sort();
    };
    const [saved] = await files();
    const bytes = new Uint8Array(await (await (await dir.getFileHandle(saved!)).getFile()).arrayBuffer());
    const put = async (file: string, data: Uint8Array) => {
      const writable = await (await dir.getFileHandle(file, { create: true })).createWritable();
      await writable.write(data as Uint8Array<ArrayBuffer>);
      await writable.close();
    };
    // A torn newer generation (a crash mid-save): the load falls back and removes it.
    const torn = saved!.replace(/\.(\d+)\.csc$/, (_, g: string) => `.${Number(g) + 1}.csc`);
    await put(torn, bytes.subarray(0, bytes.length - 200));
    shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    expect(await shelf.collections.get('c', 'f1')).toEqual(docs[1]);
    expect((await shelf.collections.stats()).recoveredSaves).toBe(1);
    await shelf.close();
    expect(await files()).toEqual([saved]);
    // A damaged lone file: CORRUPT, and the collection can still be dropped.
    const damaged = bytes.slice();
    damaged[damaged.length - 100] = damaged[damaged.length - 100]! ^ 0xff;
    await put(saved!, damaged);
    shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    await expect(shelf.collections.get('c', 'f1')).rejects.toMatchObject({ code: 'CORRUPT' });
    await shelf.collections.drop('c');
    expect(await files()).toEqual([]);
    await shelf.close();
    await dropShelf(name);
  });

  it('close() saves dirty collections into OPFS; a new worker reads them', async () => {
    const name = unique('durable');
    const shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    await shelf.collections.create('notes');
    await shelf.collections.insert('notes', { _id: 'n1', text: 'hello' });
    expect(await shelf.collections.state('notes')).toBe('dirty');
    await shelf.close();
    const again = await openShelf({ name });
    expect(await again.collections.get('notes', 'n1')).toEqual({ _id: 'n1', text: 'hello' });
    await again.close();
    await dropShelf(name);
  });

  it('errors from the engine arrive typed', async () => {
    const name = unique('errors');
    const shelf = await openShelf({ name });
    const error = await shelf.collections.get('missing', 'x').catch((e: unknown) => e as { code: string });
    expect((error as { code: string }).code).toBe('NOT_FOUND');
    await shelf.close();
    await dropShelf(name);
  });
});

describe('where a shelf keeps its collections', () => {
  it('collections kept in IndexedDB are apart from the caller\'s KV data: kv.clear() and kv.scan() do not touch them', async () => {
    const name = unique('kvcoll');
    const shelf = await openShelf({ name, collections: { storage: 'kv', saveIntervalMs: 0 } });
    await shelf.collections.create('notes');
    await shelf.collections.insert('notes', { _id: 'n1', text: 'hello' });
    await shelf.flush();
    await shelf.kv.set('settings:theme', { dark: true });
    expect(await shelf.kv.count()).toBe(1);
    expect((await shelf.kv.scan()).keys).toEqual(['settings:theme']);
    await shelf.kv.clear();
    await shelf.close();
    const again = await openShelf({ name, collections: { storage: 'kv' } });
    expect(await again.collections.get('notes', 'n1')).toEqual({ _id: 'n1', text: 'hello' });
    await again.close();
    await deleteDB(`codeshelf:${name}:kv`);
    await deleteDB(`codeshelf:${name}:collections`);
  });

  it('collections an older build kept among the KV data are moved to their own database on open', async () => {
    const name = unique('kvlegacy');
    // The older layout, made on the page: collection files under `collections:` in the shelf's own KV store.
    const { CollectionEngine, KvBlobStore, openIndexedDbKv } = await import('../../src/index.ts');
    const kv = await openIndexedDbKv({ name });
    const engine = await CollectionEngine.open({ storage: new KvBlobStore(kv, 'collections:'), saveIntervalMs: 0, compressionWorkers: 0 });
    await engine.create('old');
    await engine.insertMany('old', Array.from({ length: 3000 }, (_, i) => ({ _id: `d${i}`, text: `document ${i} `.repeat(40) })));
    for (let c = 0; c < 40; c++) {
      await engine.create(`small${c}`);
      await engine.insert(`small${c}`, { _id: 'only', c });
    }
    await engine.close();
    await kv.set('mine', new Uint8Array([7]));
    await kv.set('collections:favorites', new Uint8Array([8])); // the caller's own key under that prefix stays
    const before = await kv.count({ prefix: 'collections:' });
    expect(before).toBeGreaterThan(64); // more than one page to move
    await kv.close();
    const shelf = await openShelf({ name, collections: { storage: 'kv' } });
    expect(await shelf.collections.count('old')).toBe(3000);
    expect(await shelf.collections.get('old', 'd2999')).toEqual({ _id: 'd2999', text: 'document 2999 '.repeat(40) });
    expect(await shelf.collections.get('small39', 'only')).toEqual({ _id: 'only', c: 39 });
    expect((await shelf.collections.list()).length).toBe(41);
    expect(await shelf.kvBytes.count()).toBe(2); // only the caller's own keys are left
    expect(await shelf.kvBytes.get('collections:favorites')).toEqual(new Uint8Array([8]));
    await shelf.close();
    // Opening again moves nothing more: the caller's key is still there.
    const again = await openShelf({ name, collections: { storage: 'kv' } });
    expect(await again.kvBytes.get('collections:favorites')).toEqual(new Uint8Array([8]));
    expect(await again.collections.count('old')).toBe(3000);
    await again.close();
    await deleteDB(`codeshelf:${name}:kv`);
    await deleteDB(`codeshelf:${name}:collections`);
  });

  it('a shelf may be named . or ..', async () => {
    for (const name of ['.', '..']) {
      const shelf = await openShelf({ name });
      await shelf.collections.create('c');
      await shelf.collections.insert('c', { _id: 'a' });
      await shelf.snapshots.chunks.saveRepository('app');
      await shelf.close();
      const again = await openShelf({ name });
      expect(await again.collections.findAll('c')).toEqual([{ _id: 'a' }]);
      expect((await again.snapshots.chunks.listRepositories()).map((r) => r.name)).toEqual(['app']);
      await again.close();
      await deleteDB(`codeshelf:${name}:kv`);
      await removeOpfsDir(`codeshelf/${name === '.' ? '%2E' : '%2E%2E'}`);
    }
  });
});

describe('crash safety', () => {
  it('a worker killed at random moments during a save loop always reopens at a complete save', async () => {
    const name = unique('crash');
    const rounds = 20;
    let progress = 0;
    for (let round = 0; round < rounds; round++) {
      const worker = new Worker(new URL('../../workers/storage.worker.ts', import.meta.url), { type: 'module' });
      const shelf = await openShelf({ name, worker, collections: { saveIntervalMs: 0 } });
      const names = ['alpha', 'beta', 'gamma'];
      const acked = new Map<string, number>();
      if (round === 0) for (const c of names) await shelf.collections.create(c);
      for (const c of names) {
        const doc = await shelf.collections.get(c, 'version');
        acked.set(c, (doc?.v as number | undefined) ?? 0);
      }
      // Each save writes version v and exactly v filler docs: a half-applied save would show.
      // Calls in flight when the worker dies never settle: the loop is abandoned, not awaited.
      let stop = false;
      void (async () => {
        for (let i = 0; !stop; i++) {
          const c = names[i % names.length]!;
          const v = acked.get(c)! + 1;
          await shelf.collections.replace(c, 'version', { v }).catch(() => shelf.collections.insert(c, { _id: 'version', v }));
          await shelf.collections.insert(c, { _id: `filler-${v}`, blob: 'x'.repeat(2000) });
          await shelf.collections.save(c);
          acked.set(c, v);
        }
      })().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 150));
      stop = true;
      worker.terminate();
      const ackedAtKill = new Map(acked);
      progress += [...acked.values()].reduce((a, b) => a + b, 0);

      const check = await openShelf({ name, collections: { saveIntervalMs: 0 } });
      for (const c of names) {
        const doc = await check.collections.get(c, 'version');
        const v = (doc?.v as number | undefined) ?? 0;
        const a = ackedAtKill.get(c)!;
        expect(v === a || v === a + 1, `${c}: found ${v}, acknowledged ${a}`).toBe(true);
        expect(await check.collections.count(c, { _id: { $ne: 'version' } })).toBe(v);
      }
      await check.close();
    }
    // The loop really ran: saves were acknowledged across the rounds.
    expect(progress).toBeGreaterThan(rounds * 3);
    await dropShelf(name);
  }, 120_000);
});
