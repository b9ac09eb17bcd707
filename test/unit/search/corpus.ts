import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A document of the test corpus: real third-party code from node_modules. */
export interface CorpusDoc {
  id: string;
  path: string;
  text: string;
  language: string;
  kind: string;
  tags: string[];
  fields: Record<string, string>;
}

const MODULES = fileURLToPath(new URL('../../../node_modules/', import.meta.url));

/** [directory, byte budget] pairs; files are taken in sorted order until the budget is spent. */
const SOURCES: [string, number][] = [
  ['typescript/lib', 900_000],
  ['vite/dist/node', 450_000],
  ['msgpackr', 250_000],
  ['fast-check/lib', 300_000],
  ['fflate/esm', 120_000],
  ['idb/build', 60_000],
  ['comlink/src', 40_000],
  ['vitest/dist', 250_000],
];

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isDirectory()) {
      if (name !== 'node_modules') walk(full, out);
    } else if (/\.(?:[cm]?js|d\.ts|ts)$/.test(name) && !/\.min\.js$/.test(name)) out.push(full);
  }
}

function languageOf(path: string): string {
  if (path.endsWith('.d.ts')) return 'dts';
  if (path.endsWith('.ts')) return 'ts';
  return 'js';
}

let cached: CorpusDoc[] | null = null;

function pieces(text: string): [number, string][] {
  if (text.length <= 120_000) return [[0, text]];
  const out: [number, string][] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', Math.min(start + 60_000, text.length));
    end = end === -1 ? text.length : end + 1;
    out.push([out.length, text.slice(start, end)]);
    start = end;
  }
  return out;
}

/**
 * Loads about `scale` × 2.6 MB of .js/.ts/.d.ts files (bundles cut into ~60 KB pieces) from a fixed list
 * of installed packages, deterministically.
 */
export function loadCorpus(scale = 1): CorpusDoc[] {
  if (scale === 1 && cached !== null) return cached;
  const docs: CorpusDoc[] = [];
  for (const [dir, budget] of SOURCES) {
    const files: string[] = [];
    try {
      walk(join(MODULES, dir), files);
    } catch {
      continue; // a package layout changed: the corpus just gets smaller
    }
    let used = 0;
    for (const file of files) {
      if (statSync(file).size === 0) continue;
      const path = relative(MODULES, file).split('\\').join('/');
      const pkg = path.split('/')[0]!;
      // Bundles are cut at line boundaries into ~60 KB pieces, each its own document; at most
      // two pieces per file keep the mix varied.
      for (const [piece, text] of pieces(readFileSync(file, 'utf8')).slice(0, 2)) {
        if (used + text.length > budget * scale) break;
        used += text.length;
        const id = piece === 0 ? path : `${path}#${piece}`;
        docs.push({
          id,
          path: id,
          text,
          language: languageOf(path),
          kind: pkg === 'typescript' ? 'lib' : 'dist',
          tags: [pkg, ...(path.includes('/esm/') ? ['esm'] : [])],
          fields: { package: pkg },
        });
      }
    }
  }
  if (scale === 1) cached = docs;
  return docs;
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random element of a non-empty list. */
export function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}
