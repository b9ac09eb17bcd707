// `npm test`: every runner (Vitest unit + browser projects, Playwright e2e), then one line
// "N passed, N failed" summed over all of them. Exits non-zero if anything failed or a
// runner crashed without reporting.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const reports = '.vitest-reports';
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const run = (args, env = {}) => spawnSync(npx, args, { stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

const vitestStatus = run(['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reports}/vitest.json`]);
const e2eStatus = run(['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: `${reports}/e2e.json` });

let passed = 0;
let failed = 0;
let problems = [];

const vitestFile = `${reports}/vitest.json`;
if (existsSync(vitestFile)) {
  const v = JSON.parse(readFileSync(vitestFile, 'utf8'));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  if (v.numTotalTests === 0) problems.push('vitest ran no test');
} else problems.push('vitest wrote no report');
if (vitestStatus !== 0 && failed === 0) problems.push(`vitest exited with ${vitestStatus}`);

const e2eFile = `${reports}/e2e.json`;
if (existsSync(e2eFile)) {
  const p = JSON.parse(readFileSync(e2eFile, 'utf8'));
  passed += p.stats.expected + p.stats.flaky;
  failed += p.stats.unexpected;
  if (p.stats.expected + p.stats.unexpected + p.stats.flaky === 0) problems.push('playwright ran no test');
  if (p.errors?.length) problems.push(`playwright reported ${p.errors.length} error(s) outside tests`);
} else problems.push('playwright wrote no report');
if (e2eStatus !== 0 && failed === 0) problems.push(`playwright exited with ${e2eStatus}`);

for (const p of problems) console.error(`test runner problem: ${p}`);
// Problems without a failing test count as one failure so the summary never reads green.
if (problems.length && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
