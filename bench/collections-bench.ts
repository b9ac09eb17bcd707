// bench/collections: save+load and size against JSON, LRU ops/s, and documents streamed to
// the page per second. Driven by bench/run.mjs, which reads window.__benchResult.
import { wrap } from 'comlink';
import { openShelf } from '../src/index.ts';
import { makeAnalysisDocs } from './analysis-docs.ts';
import type { CollectionsBenchApi } from './collections.worker.ts';

const params = new URLSearchParams(location.search);
const N = Number(params.get('records') ?? 100_000);
const ROUNDS = Number(params.get('rounds') ?? 7);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function run() {
  const log = (s: string) => (document.getElementById('out')!.textContent += `\n${s}`);
  const bench = wrap<CollectionsBenchApi>(new Worker(new URL('./collections.worker.ts', import.meta.url), { type: 'module' }));
  const path = `bench-collections-${Date.now()}/c`;
  const cs = { save: [] as number[], load: [] as number[], bytes: 0, resave: [] as number[], reused: 0, resaveIndexed: [] as number[], reusedIndexed: 0 };
  const one = { save: [] as number[], load: [] as number[], bytes: 0 };
  const js = { save: [] as number[], load: [] as number[], bytes: 0 };
  // The same documents after a structured clone, as documents sent from the page are.
  const csCloned = { save: [] as number[], load: [] as number[], bytes: 0 };
  const jsCloned = { save: [] as number[], load: [] as number[], bytes: 0 };
  // One unmeasured round first, so that no contender's medians count the worker's first
  // compile of its code, a helper worker's start or the first OPFS files (first streams
  // after opening a shelf are measured below, on their own).
  const warmup: Record<string, { saveMs: number; loadMs: number }> = {};
  for (const who of ['codeshelf', 'one-thread', 'json'] as const) {
    const res = who === 'json' ? await bench.json(N, path) : await bench.codeshelf(N, path, who === 'one-thread' ? 0 : undefined);
    warmup[who] = { saveMs: res.saveMs, loadMs: res.loadMs };
    log(`warm-up ${who}: save ${res.saveMs.toFixed(0)} ms, load ${res.loadMs.toFixed(0)} ms`);
  }
  for (let r = 0; r < ROUNDS; r++) {
    // Rotated each round, so no contender always runs first (or after the same one).
    const order = (['codeshelf', 'one-thread', 'json', 'cloned', 'json-cloned'] as const).map((_, i, all) => all[(i + r) % all.length]!);
    for (const who of order) {
      let res: { saveMs: number; loadMs: number; bytes: number };
      if (who === 'json' || who === 'json-cloned') res = await bench.json(N, path, who === 'json-cloned');
      else {
        const ours = await bench.codeshelf(N, path, who === 'one-thread' ? 0 : undefined, who === 'cloned');
        if (who === 'codeshelf') {
          cs.resave.push(ours.resaveMs);
          cs.reused = ours.reused;
          cs.resaveIndexed.push(ours.resaveIndexedMs);
          cs.reusedIndexed = ours.reusedIndexed;
        }
        res = ours;
      }
      const into = { codeshelf: cs, 'one-thread': one, json: js, cloned: csCloned, 'json-cloned': jsCloned }[who];
      into.save.push(res.saveMs);
      into.load.push(res.loadMs);
      into.bytes = res.bytes;
      log(`round ${r} ${who}: save ${res.saveMs.toFixed(0)} ms, load ${res.loadMs.toFixed(0)} ms, ${res.bytes} B`);
    }
  }
  const lruRuns = [];
  for (let r = 0; r < ROUNDS; r++) lruRuns.push((await bench.lru(2_000_000, 10_000)).opsPerSec);
  const inserts = [];
  for (let r = 0; r < ROUNDS; r++) inserts.push(await bench.insert(N));
  await bench.cleanup(path);

  // Streaming to the page: from memory (loaded) and from the OPFS file (unloaded).
  const name = `bench-stream-${Date.now()}`;
  let shelf = await openShelf({ name, collections: { saveIntervalMs: 0, memoryLimitBytes: 1e10 } });
  await shelf.collections.create('analysis');
  const docs = makeAnalysisDocs(N);
  for (let i = 0; i < docs.length; i += 20_000) await shelf.collections.insertMany('analysis', docs.slice(i, i + 20_000));
  await shelf.collections.save('analysis');
  const streamRate = async () => {
    const t0 = performance.now();
    let n = 0;
    for await (const batch of shelf.collections.iterate('analysis', { batchSize: 2000 })) n += batch.length;
    if (n !== N) throw new Error(`streamed ${n} of ${N}`);
    return (n / (performance.now() - t0)) * 1000;
  };
  // Loaded and saved: unchanged since, it streams its file's blocks.
  const fromMemory = [];
  for (let r = 0; r < ROUNDS; r++) fromMemory.push(await streamRate());
  // Loaded with one unsaved change: the file's blocks, the one holding the change packed again.
  const dirty = [];
  for (let r = 0; r < ROUNDS; r++) {
    await shelf.collections.update('analysis', docs[r]!._id, { complexity: -r });
    dirty.push(await streamRate());
  }
  await shelf.collections.save('analysis');
  // From the file of an unloaded collection: the first stream of a freshly opened shelf
  // (its worker's code and WebAssembly still warming up), then a second one.
  const fromFile = [];
  const fromFileAgain = [];
  for (let r = 0; r < ROUNDS; r++) {
    await shelf.close();
    shelf = await openShelf({ name, collections: { saveIntervalMs: 0 } });
    fromFile.push(await streamRate());
    fromFileAgain.push(await streamRate());
  }
  // Writing from the page: insertMany of N fresh documents through the shelf (sent in
  // slices with the page's event loop running between them), against posting the same
  // documents to a worker in one message. The longest stall is the longest the page's own
  // timer (every 1 ms, 4 ms once nested) waited while the write was under way.
  // Each from a collected heap (as the worker's phases are): the documents of the rounds
  // before are garbage, and a major GC of them would stall whichever write or read came next.
  const stall = async (work: () => Promise<unknown>) => {
    (globalThis as { gc?: () => void }).gc?.();
    let longest = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 1);
    const t0 = performance.now();
    await work();
    const end = performance.now();
    clearInterval(timer);
    return { longest: Math.max(longest, end - last), ms: end - t0 };
  };
  const fromPage = { ours: [] as { longest: number; ms: number }[], posted: [] as { longest: number; ms: number }[] };
  // Reading a large result on the page: findAll of the N documents (packed batches, rebuilt
  // a batch per task), against N documents a worker sends in one message.
  const toPage = { ours: [] as { longest: number; ms: number }[], posted: [] as { longest: number; ms: number }[] };
  await shelf.collections.findAll('analysis'); // loads the collection: not measured
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of r % 2 ? (['posted', 'ours'] as const) : (['ours', 'posted'] as const)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      let got = 0;
      const res = await stall(async () => {
        got = (who === 'ours' ? await shelf.collections.findAll('analysis') : await bench.produce(N)).length;
      });
      if (got !== N) throw new Error(`read ${got} of ${N}`);
      toPage[who].push(res);
    }
  }
  await shelf.collections.drop('analysis');
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of r % 2 ? (['posted', 'ours'] as const) : (['ours', 'posted'] as const)) {
      const fresh = makeAnalysisDocs(N);
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (who === 'ours') {
        await shelf.collections.create('written');
        fromPage.ours.push(await stall(() => shelf.collections.insertMany('written', fresh)));
        await shelf.collections.drop('written');
      } else fromPage.posted.push(await stall(() => bench.receive(fresh)));
    }
  }
  await shelf.close();
  indexedDB.deleteDatabase(`codeshelf:${name}:kv`);

  const csTotal = median(cs.save) + median(cs.load);
  const oneTotal = median(one.save) + median(one.load);
  const jsTotal = median(js.save) + median(js.load);
  const clonedTotal = median(csCloned.save) + median(csCloned.load);
  const jsClonedTotal = median(jsCloned.save) + median(jsCloned.load);
  const rows = [
    { name: `save ${N} analysis docs`, codeshelf: median(cs.save), baseline: median(js.save), unit: 'ms', ratio: median(js.save) / median(cs.save) },
    { name: `load ${N} analysis docs`, codeshelf: median(cs.load), baseline: median(js.load), unit: 'ms', ratio: median(js.load) / median(cs.load) },
    { name: 'save + load', codeshelf: csTotal, baseline: jsTotal, unit: 'ms', ratio: jsTotal / csTotal },
    { name: `save after 10 updates to the loaded ${N} docs, first after a full save, loaded again (${cs.reused} of ${Math.ceil(N / 1000)} blocks copied, found by the ids the load read; JSON writes everything again)`, codeshelf: median(cs.resave), baseline: median(js.save), unit: 'ms', ratio: median(js.save) / median(cs.resave) },
    { name: `the next save after 10 more updates (${cs.reusedIndexed} blocks copied, found by the file's id index)`, codeshelf: median(cs.resaveIndexed), baseline: median(js.save), unit: 'ms', ratio: median(js.save) / median(cs.resaveIndexed) },
    { name: `save ${N} docs, compressing on the worker's thread only`, codeshelf: median(one.save), baseline: median(js.save), unit: 'ms', ratio: median(js.save) / median(one.save) },
    { name: "save + load, compressing on the worker's thread only", codeshelf: oneTotal, baseline: jsTotal, unit: 'ms', ratio: jsTotal / oneTotal },
    { name: `save ${N} docs received by structured clone, as from the page (JSON saves the same)`, codeshelf: median(csCloned.save), baseline: median(jsCloned.save), unit: 'ms', ratio: median(jsCloned.save) / median(csCloned.save) },
    { name: 'save + load of those', codeshelf: clonedTotal, baseline: jsClonedTotal, unit: 'ms', ratio: jsClonedTotal / clonedTotal },
    { name: 'file size', codeshelf: cs.bytes, baseline: js.bytes, unit: 'bytes', ratio: js.bytes / cs.bytes },
    { name: 'LRU get/put (10k keys)', codeshelf: median(lruRuns), baseline: null, unit: 'ops/s', ratio: null },
    { name: `size ${N} docs for the memory limit (baseline: msgpackr pack of each, as inserts did)`, codeshelf: median(inserts.map((i) => i.countMs)), baseline: median(inserts.map((i) => i.packMs)), unit: 'ms', ratio: median(inserts.map((i) => i.packMs)) / median(inserts.map((i) => i.countMs)) },
    { name: `insertMany ${N} docs (memory-backed engine)`, codeshelf: median(inserts.map((i) => i.insertMs)), baseline: null, unit: 'ms', ratio: null },
    { name: 'stream to page, loaded collection (unchanged since saved: its file)', codeshelf: median(fromMemory), baseline: null, unit: 'docs/s', ratio: null },
    { name: 'stream to page, loaded collection with 1 unsaved change (its file, one block packed again)', codeshelf: median(dirty), baseline: null, unit: 'docs/s', ratio: null },
    { name: 'stream to page, from OPFS file (first stream after opening the shelf)', codeshelf: median(fromFile), baseline: null, unit: 'docs/s', ratio: null },
    { name: 'stream to page, from OPFS file (second stream, same worker)', codeshelf: median(fromFileAgain), baseline: null, unit: 'docs/s', ratio: null },
    { name: `insertMany ${N} docs from the page: the page's longest stall (baseline: the documents posted to a worker in one message)`, codeshelf: median(fromPage.ours.map((x) => x.longest)), baseline: median(fromPage.posted.map((x) => x.longest)), unit: 'ms', ratio: median(fromPage.posted.map((x) => x.longest)) / median(fromPage.ours.map((x) => x.longest)) },
    { name: `findAll of ${N} docs on the page: the page's longest stall (baseline: the documents sent by a worker in one message)`, codeshelf: median(toPage.ours.map((x) => x.longest)), baseline: median(toPage.posted.map((x) => x.longest)), unit: 'ms', ratio: median(toPage.posted.map((x) => x.longest)) / median(toPage.ours.map((x) => x.longest)) },
    { name: `findAll of ${N} docs on the page, until it has them (baseline: until sent and received)`, codeshelf: median(toPage.ours.map((x) => x.ms)), baseline: median(toPage.posted.map((x) => x.ms)), unit: 'ms', ratio: median(toPage.posted.map((x) => x.ms)) / median(toPage.ours.map((x) => x.ms)) },
    { name: `insertMany ${N} docs from the page, until written (baseline: until posted and received)`, codeshelf: median(fromPage.ours.map((x) => x.ms)), baseline: median(fromPage.posted.map((x) => x.ms)), unit: 'ms', ratio: median(fromPage.posted.map((x) => x.ms)) / median(fromPage.ours.map((x) => x.ms)) },
  ];
  // Every round's save and load time, in round order, beside the medians of the rows.
  const samples = { codeshelf: { save: cs.save, load: cs.load }, json: { save: js.save, load: js.load }, warmup };
  (window as unknown as { __benchResult: unknown }).__benchResult = { kind: 'collections', baseline: 'JSON on OPFS', records: N, rounds: ROUNDS, rows, samples };
  log('done');
}

run().catch((error: unknown) => {
  (window as unknown as { __benchError: string }).__benchError = String((error as Error)?.stack ?? error);
});
