// Runs a benchmark page in real Chromium with a persistent profile, writes
// bench/results/<name>.json and prints a markdown table.
//   node bench/run.mjs kv [--records 100000] [--rounds 3] [--pointReads 100000]
// The page and its workers are a production build (vite build, then vite preview), as an
// app ships the library; BENCH_DEV=1 serves them from sources through Vite's dev server
// instead, where every worker's first start also fetches and transforms its modules.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright';
import { build, createServer, preview } from 'vite';
import { launchOptions } from '../scripts/chromium.mjs';
import { loadCorpus } from './search-corpus.mjs';

const [name = 'kv', ...rest] = process.argv.slice(2);
const query = new URLSearchParams();
for (let i = 0; i < rest.length; i += 2) query.set(rest[i].replace(/^--/, ''), rest[i + 1]);

// The search benchmark reads its corpus from /__corpus.json, served from node_modules.
let corpus;
const serveCorpus = (server) => {
  server.middlewares.use('/__corpus.json', (req, res) => {
    corpus ??= JSON.stringify(loadCorpus(Number(query.get('corpusMb') ?? 70) * 1024 * 1024));
    res.setHeader('content-type', 'application/json');
    res.end(corpus);
  });
};
const corpusPlugin = { name: 'bench-corpus', configureServer: serveCorpus, configurePreviewServer: serveCorpus };
// Cross-origin isolation lets the search benchmark measure memory with
// performance.measureUserAgentSpecificMemory(), which counts ArrayBuffers too, and gives
// every page 5 µs timers instead of 100 µs (the snapshot and KV latencies are a few ms).
// The collections benchmark, whose rows are tens of ms, runs as most apps do, without it:
// streams to the page measured 10-25% slower with it.
const isolation = name === 'collections' ? {} : { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const listen = { port: 0, host: '127.0.0.1', headers: isolation };
const dev = process.env.BENCH_DEV === '1';
const outDir = dev ? undefined : mkdtempSync(join(tmpdir(), 'codeshelf-bench-build-'));
let server;
if (dev) {
  server = await createServer({ logLevel: 'error', server: listen, plugins: [corpusPlugin] });
  await server.listen();
} else {
  await build({ logLevel: 'error', build: { outDir, emptyOutDir: true, rollupOptions: { input: { [name]: `bench/${name}.html` } } } });
  server = await preview({ logLevel: 'error', build: { outDir }, preview: listen, plugins: [corpusPlugin] });
}
const { port } = server.httpServer.address();
const profile = mkdtempSync(join(tmpdir(), 'codeshelf-bench-'));
const base = launchOptions();
// Heap figures for the search benchmark: precise performance.memory and a callable gc().
// The snapshot benchmark calls gc() between phases, so that one phase's garbage (the naive
// baseline exports whole databases) is not collected during the next phase's samples.
const args = name === 'search'
  ? [...base.args, '--enable-precise-memory-info', '--js-flags=--expose-gc', '--enable-blink-features=ForceEagerMeasureMemory']
  : name === 'snapshot' || name === 'collections' ? [...base.args, '--js-flags=--expose-gc'] : base.args;
const context = await chromium.launchPersistentContext(profile, { headless: true, ...base, args });
try {
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error('[page]', m.text()));
  await page.goto(`http://127.0.0.1:${port}/bench/${name}.html?${query}`);
  const handle = await page.waitForFunction(() => window.__benchResult ?? window.__benchError, null, { timeout: 30 * 60_000, polling: 500 });
  const result = await handle.jsonValue();
  if (typeof result === 'string') throw new Error(`benchmark failed in the page:\n${result}`);
  result.browser = context.browser()?.version() ?? 'chromium';
  result.date = new Date().toISOString();
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/${name}.json`, JSON.stringify(result, null, 2) + '\n');
  const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en') : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  console.log(`\n${name}: ${result.rounds} rounds/samples, ${result.records} records, persistent profile, Chromium ${result.browser}\n`);
  if (name === 'kv') {
    console.log('| workload | codeshelf (page → worker) | raw IndexedDB (in worker) | codeshelf ops/s | raw ops/s | codeshelf / raw speed |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of result.rows) {
      console.log(`| ${r.name} | ${fmt(r.codeshelfMs)} ms | ${fmt(r.rawMs)} ms | ${fmt(r.codeshelfOpsPerSec)} | ${fmt(r.rawOpsPerSec)} | ${r.speedVsRaw.toFixed(2)}× |`);
    }
  } else {
    console.log(`| workload | codeshelf | ${result.baseline ?? 'baseline'} | baseline / codeshelf |`);
    console.log('| --- | ---: | ---: | ---: |');
    for (const r of result.rows) {
      const show = (v) => (typeof v === 'string' ? v : `${fmt(v)} ${r.unit}`);
      const base = r.baseline === null ? '—' : show(r.baseline);
      const ratio = r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`;
      console.log(`| ${r.name} | ${show(r.codeshelf)} | ${base} | ${ratio} |`);
    }
  }
  console.log(`\nwritten to bench/results/${name}.json`);
} finally {
  await context.close();
  await server.close();
  rmSync(profile, { recursive: true, force: true });
  if (outDir) rmSync(outDir, { recursive: true, force: true });
}
