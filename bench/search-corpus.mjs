// The search benchmark's corpus: JavaScript and TypeScript declaration files of installed
// packages (real code nobody here wrote), cut into pieces of at most ~64 KB at line ends.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// The packages with the most hand-written code first, then everything else installed.
const ROOTS = ['typescript/lib', 'vite/dist', 'vitest/dist', '@vitest', 'playwright-core/lib', 'fast-check/lib', 'msgpackr', 'fflate/esm', 'idb/build', 'comlink/dist', 'minisearch/dist/es', 'rolldown/dist', '.'];

function walk(path, out) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if (st.isFile()) {
    if (/\.(?:[cm]?js|d\.ts)$/.test(path) && !/\.min\.|\.map$/.test(path)) out.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) if (name !== 'node_modules' && !name.startsWith('.vite')) walk(join(path, name), out);
}

export function loadCorpus(minBytes = 70 * 1024 * 1024) {
  const files = [];
  for (const root of ROOTS) walk(join('node_modules', root), files);
  const unique = [...new Set(files)];
  const docs = [];
  let bytes = 0;
  for (const file of unique) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // a tool's temporary file that vanished since the walk
    }
    const path = relative('node_modules', file);
    for (let start = 0, part = 0; start < text.length; part++) {
      let end = text.indexOf('\n', Math.min(start + 64_000, text.length));
      end = end === -1 ? text.length : end + 1;
      docs.push({ id: `${path}#${part}`, path, language: path.endsWith('.d.ts') ? 'dts' : 'js', text: text.slice(start, end) });
      bytes += end - start;
      start = end;
    }
    if (bytes >= minBytes) break;
  }
  return docs;
}
