// bench/kv: codeshelf from the page through the storage worker, beside raw IndexedDB doing
// the same work inside a worker. Driven by bench/run.mjs, which reads window.__benchResult.
import { wrap } from 'comlink';
import { openShelf, type BatchOp } from '../src/index.ts';
import type { RawIdbApi } from './raw-idb.worker.ts';

const params = new URLSearchParams(location.search);
const N = Number(params.get('records') ?? 100_000);
const ROUNDS = Number(params.get('rounds') ?? 3);
const POINT_READS = Number(params.get('pointReads') ?? 100_000);
const IN_FLIGHT = 1000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function makeData(n: number): { keys: string[]; values: Uint8Array[] } {
  const keys: string[] = [];
  const values: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    keys.push(`rec:${String(i).padStart(6, '0')}`);
    const v = new Uint8Array(100);
    crypto.getRandomValues(v);
    values.push(v);
  }
  return { keys, values };
}

function sample(keys: string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(keys[Math.floor(Math.random() * keys.length)]!);
  return out;
}

async function run() {
  const log = (s: string) => (document.getElementById('out')!.textContent += `\n${s}`);
  const stamp = Date.now();
  const shelf = await openShelf({ name: `bench-kv-${stamp}` });
  const raw = wrap<RawIdbApi>(new Worker(new URL('./raw-idb.worker.ts', import.meta.url), { type: 'module' }));
  await raw.open(`bench-raw-${stamp}`);
  const { keys, values } = makeData(N);

  const results: Record<string, { codeshelf: number[]; raw: number[]; unit: string; ops: number }> = {};
  const record = (name: string, unit: string, ops: number, codeshelf: number, rawMs: number) => {
    results[name] ??= { codeshelf: [], raw: [], unit, ops };
    results[name]!.codeshelf.push(codeshelf);
    results[name]!.raw.push(rawMs);
  };

  for (let round = 0; round < ROUNDS; round++) {
    // Batch write: alternate who goes first so neither always gets the warmer disk.
    await shelf.kvBytes.clear();
    await raw.clear();
    const ops: BatchOp[] = keys.map((key, i) => ({ type: 'put', key, value: values[i]! }));
    const rawFirst = round % 2 === 1;
    let rawMs = 0;
    if (rawFirst) rawMs = await raw.batchWrite(keys, values);
    let t0 = performance.now();
    await shelf.kvBytes.batch(ops);
    const csMs = performance.now() - t0;
    if (!rawFirst) rawMs = await raw.batchWrite(keys, values);
    record(`batch write ${N} × 100 B`, 'ms', N, csMs, rawMs);
    log(`round ${round} batch: codeshelf ${csMs.toFixed(0)} ms, raw ${rawMs.toFixed(0)} ms`);

    const reads = sample(keys, POINT_READS);
    t0 = performance.now();
    for (let i = 0; i < reads.length; i += IN_FLIGHT) await Promise.all(reads.slice(i, i + IN_FLIGHT).map((k) => shelf.kvBytes.get(k)));
    const csRead = performance.now() - t0;
    const rawRead = await raw.pointReads(reads, IN_FLIGHT);
    record(`${POINT_READS} point reads (${IN_FLIGHT} in flight)`, 'ms', POINT_READS, csRead, rawRead);
    log(`round ${round} point reads: codeshelf ${csRead.toFixed(0)} ms, raw ${rawRead.toFixed(0)} ms`);

    for (let rep = 0; rep < 10; rep++) {
      const many = sample(keys, 1000);
      t0 = performance.now();
      const got = await shelf.kvBytes.getMany(many);
      const csMany = performance.now() - t0;
      if (got.some((v) => v?.byteLength !== 100)) throw new Error('getMany returned a wrong value');
      record('getMany 1,000 keys', 'ms', 1000, csMany, await raw.getMany(many));

      const start = Math.floor(Math.random() * (N / 100 - 1));
      const prefix = `rec:${String(start).padStart(4, '0')}`;
      t0 = performance.now();
      const page = await shelf.kvBytes.scan({ prefix, limit: 100 });
      const csScan = performance.now() - t0;
      if (page.keys.length !== 100) throw new Error(`scan returned ${page.keys.length} rows`);
      record('prefix scan, 100 rows', 'ms', 100, csScan, await raw.scan(prefix, 100));
    }
  }

  const rows = Object.entries(results).map(([name, r]) => {
    const cs = median(r.codeshelf);
    const rw = median(r.raw);
    return {
      name,
      samples: r.codeshelf.length,
      codeshelfMs: cs,
      rawMs: rw,
      codeshelfOpsPerSec: (r.ops / cs) * 1000,
      rawOpsPerSec: (r.ops / rw) * 1000,
      // > 1 means codeshelf is faster than raw IndexedDB.
      speedVsRaw: rw / cs,
    };
  });
  await shelf.kvBytes.clear();
  await raw.clear();
  await shelf.close();
  raw.close();
  indexedDB.deleteDatabase(`codeshelf:bench-kv-${stamp}:kv`);
  indexedDB.deleteDatabase(`bench-raw-${stamp}`);
  (window as unknown as { __benchResult: unknown }).__benchResult = { records: N, rounds: ROUNDS, userAgent: navigator.userAgent, rows };
  log('done');
}

run().catch((error: unknown) => {
  (window as unknown as { __benchError: string }).__benchError = String((error as Error)?.stack ?? error);
});
