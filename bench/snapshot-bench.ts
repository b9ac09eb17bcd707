// bench/snapshot: page side. The work runs in bench/snapshot.worker.ts; this page collects
// the results for bench/run.mjs (window.__benchResult).
import { wrap } from 'comlink';
import type { SnapshotBenchApi } from './snapshot.worker.ts';

const params = new URLSearchParams(location.search);
const sizes = (params.get('sizes') ?? '1,10,50,100').split(',').map(Number);
// 150 commits a size: a p95 is then the 8th slowest, not (with 60) the 4th, which a single
// scheduling or collection pause of this shared machine could set.
const samples = Number(params.get('samples') ?? 150);
const files = Number(params.get('files') ?? 5000);

async function run() {
  const bench = wrap<SnapshotBenchApi>(new Worker(new URL('./snapshot.worker.ts', import.meta.url), { type: 'module' }));
  const root = `bench-snapshot-${Date.now()}`;
  const latency = await bench.commitLatency(sizes, samples, root);
  const inc = await bench.incremental(files, root);
  await bench.cleanup(root);
  const rows = [
    ...latency.rows.map((r) => ({
      name: `100-chunk replaceFile at ${(r.bytes / 1048576).toFixed(1)} MB (p50 / p95)`,
      codeshelf: `${r.durableP50.toFixed(1)} / ${r.durableP95.toFixed(1)} ms`,
      baseline: `${r.naiveP50.toFixed(1)} / ${r.naiveP95.toFixed(1)} ms`,
      ratio: r.naiveP95 / r.durableP95,
    })),
    { name: `snapshot of ${inc.files} files, 1 changed: incremental vs full (medians of ${inc.incRuns} / ${inc.fullRuns})`, codeshelf: `${inc.incMs.toFixed(1)} ms`, baseline: `${inc.fullMs.toFixed(0)} ms`, ratio: inc.fullMs / inc.incMs },
    { name: `same, until searchable (with the index upkeep each leaves)`, codeshelf: `${inc.incSearchableMs.toFixed(1)} ms`, baseline: `${inc.fullSearchableMs.toFixed(0)} ms`, ratio: inc.fullSearchableMs / inc.incSearchableMs },
    { name: `index upkeep after the commit runs (${latency.upkeep.steps} steps)`, codeshelf: `${latency.upkeep.ms.toFixed(0)} ms`, baseline: null, ratio: null },
    ...latency.ops.map((o) => ({ name: `${o.name} (p50 / p95)`, codeshelf: `${o.p50.toFixed(2)} / ${o.p95.toFixed(2)} ms`, baseline: null, ratio: null })),
  ];
  (window as unknown as { __benchResult: unknown }).__benchResult = { kind: 'snapshot', baseline: 'naive export + write / full snapshot', rounds: samples, records: latency.chunkCount, rows, raw: { latency, inc } };
}

run().catch((error: unknown) => {
  (window as unknown as { __benchError: string }).__benchError = String((error as Error)?.stack ?? error);
});
