// Save/load and LRU work for bench/collections, inside a dedicated worker: codeshelf's
// collection engine on OPFS beside JSON (stringify + write / read + parse) on OPFS.
import { expose } from 'comlink';
import { Packr } from 'msgpackr';
import { ByteLru, CollectionEngine, MemoryBlobStore, OpfsBlobStore } from '../src/index.ts';
import { packedSize } from '../src/collections/doc-size.ts';
import { makeAnalysisDocs } from './analysis-docs.ts';

// Each timed phase starts from a collected heap (gc() exists when the browser runs with
// --expose-gc, as bench/run.mjs starts it), so that no contender pays for the garbage of
// the one before (100k documents built for each round, a 46 MB JSON string).
const collect = () => (globalThis as { gc?: () => void }).gc?.();

type SyncHandle = { write(b: Uint8Array, o?: { at?: number }): number; read(b: Uint8Array, o?: { at?: number }): number; getSize(): number; truncate(n: number): void; flush(): void; close(): void };

async function dir(path: string): Promise<FileSystemDirectoryHandle> {
  let d = await navigator.storage.getDirectory();
  for (const p of path.split('/')) d = await d.getDirectoryHandle(p, { create: true });
  return d;
}

async function syncHandle(d: FileSystemDirectoryHandle, name: string): Promise<SyncHandle> {
  const f = await d.getFileHandle(name, { create: true });
  return (f as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle();
}

const api = {
  /**
   * codeshelf: save (encode + write new generation) then load (fresh engine, read + decode);
   * `compressionWorkers: 0` deflates on the worker's own thread. `cloned`: the documents
   * are a structured clone, as documents the page sent are (each string its own; the
   * generated ones share their literals), and JSON's baseline takes the same.
   */
  async codeshelf(n: number, path: string, compressionWorkers?: number, cloned = false) {
    const docs = cloned ? structuredClone(makeAnalysisDocs(n)) : makeAnalysisDocs(n);
    const storage = await OpfsBlobStore.open(path);
    const options = { storage, saveIntervalMs: 0, memoryLimitBytes: 1e10, ...(compressionWorkers === undefined ? {} : { compressionWorkers }) };
    let engine = await CollectionEngine.open(options);
    if (!engine.list().includes('analysis')) await engine.create('analysis');
    else await engine.drop('analysis').then(() => engine.create('analysis'));
    await engine.insertMany('analysis', docs);
    collect();
    let t0 = performance.now();
    await engine.save('analysis');
    const saveMs = performance.now() - t0;
    const files = (await storage.list()).filter((f) => f.startsWith('analysis.') && f.endsWith('.csc'));
    const bytes = (await storage.size(files[0]!)) ?? 0;
    await engine.close();
    engine = await CollectionEngine.open(options);
    collect();
    t0 = performance.now();
    const count = await engine.count('analysis');
    const loadMs = performance.now() - t0;
    if (count !== n) throw new Error(`loaded ${count} of ${n}`);
    // A few changes to the loaded collection, then a save: the blocks they do not touch are
    // copied from the file as they are. The first such save after a full one reads every
    // block's ids (a full save writes no id index); the next one has the index.
    const resave = async (round: number) => {
      for (let i = 0; i < 10; i++) await engine.update('analysis', docs[(i * 9973 + round * 101) % n]!._id, { complexity: -i - round });
      const reusedBefore = engine.stats().blocksReused;
      collect();
      const t = performance.now();
      await engine.save('analysis');
      return { ms: performance.now() - t, reused: engine.stats().blocksReused - reusedBefore };
    };
    const first = await resave(1);
    const next = await resave(2);
    await engine.close();
    return { saveMs, loadMs, bytes, resaveMs: first.ms, reused: first.reused, resaveIndexedMs: next.ms, reusedIndexed: next.reused };
  },
  /** Baseline: JSON.stringify + write through a sync handle; read + JSON.parse. */
  async json(n: number, path: string, cloned = false) {
    const docs = cloned ? structuredClone(makeAnalysisDocs(n)) : makeAnalysisDocs(n);
    const d = await dir(path);
    collect();
    let t0 = performance.now();
    const text = new TextEncoder().encode(JSON.stringify(docs));
    let h = await syncHandle(d, 'analysis.json');
    h.truncate(0);
    h.write(text, { at: 0 });
    h.flush();
    h.close();
    const saveMs = performance.now() - t0;
    collect();
    t0 = performance.now();
    h = await syncHandle(d, 'analysis.json');
    const buf = new Uint8Array(h.getSize());
    h.read(buf, { at: 0 });
    h.close();
    const back = JSON.parse(new TextDecoder().decode(buf)) as unknown[];
    const loadMs = performance.now() - t0;
    if (back.length !== n) throw new Error('json round trip lost documents');
    return { saveMs, loadMs, bytes: text.length };
  },
  /**
   * Inserting `n` documents (insertMany into a memory-backed engine), and sizing them for
   * the memory limit as an insert does (packedSize) beside packing each one with msgpackr,
   * as inserts did before; the two sizes must agree.
   */
  async insert(n: number) {
    const docs = makeAnalysisDocs(n);
    const packr = new Packr({ useRecords: false });
    collect();
    let t0 = performance.now();
    let packed = 0;
    for (const d of docs) packed += packr.pack(d).length;
    const packMs = performance.now() - t0;
    collect();
    t0 = performance.now();
    let counted = 0;
    for (const d of docs) counted += packedSize(d);
    const countMs = performance.now() - t0;
    if (counted !== packed) throw new Error(`sizes differ: counted ${counted}, packed ${packed}`);
    const engine = await CollectionEngine.open({ storage: new MemoryBlobStore(), saveIntervalMs: 0, memoryLimitBytes: 1e10 });
    await engine.create('c');
    const fresh = makeAnalysisDocs(n);
    collect();
    t0 = performance.now();
    await engine.insertMany('c', fresh);
    const insertMs = performance.now() - t0;
    await engine.close();
    return { packMs, countMs, insertMs };
  },
  /** Mixed LRU get/put over `keys` keys; returns ops per second. */
  lru(ops: number, keys: number) {
    const lru = new ByteLru<number, number>(keys * 50);
    for (let i = 0; i < keys; i++) lru.set(i, i, 100);
    let x = 12345;
    const t0 = performance.now();
    for (let i = 0; i < ops; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const k = x % keys;
      if (i & 1) lru.get(k);
      else lru.set(k, i, 100);
    }
    const ms = performance.now() - t0;
    return { opsPerSec: (ops / ms) * 1000, ms };
  },
  /** Sends `n` documents to the page in one message (the baseline of a large read from the page). */
  produce(n: number) {
    return makeAnalysisDocs(n);
  },
  /** Receives documents posted from the page in one message (the baseline of a write from the page). */
  receive(docs: unknown[]) {
    return docs.length;
  },
  async cleanup(path: string) {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry(path.split('/')[0]!, { recursive: true }).catch(() => undefined);
  },
};

expose(api);
export type CollectionsBenchApi = typeof api;
