// The snapshot panel: snapshots the sample repository twice (the second time with one file
// edited), then shows the FQN diff between the two commits and a dependency walk. The
// snapshot store lives in the storage worker (sql.js, journaled to OPFS).
import type { Shelf } from '../src/index.ts';

interface Chunk { filePath: string; fqn: string; kind: string; language: string; startLine: number; endLine: number; content: string }

const DECL = /^\s*(?:export\s+)?(?:abstract\s+)?(class|interface|function|def|type)\s+([A-Za-z_]\w*)/;

/** Splits a file at top-level declarations (a stand-in for the tree-sitter chunker). */
export function chunkFile(path: string, text: string, language: string): Chunk[] {
  const module = path.replace(/\.[^.]+$/, '').replaceAll('/', '.');
  const lines = text.split('\n');
  const starts: { line: number; kind: string; name: string }[] = [];
  lines.forEach((line, i) => {
    const m = DECL.exec(line);
    if (m && !/^\s/.test(line)) starts.push({ line: i, kind: m[1]!, name: m[2]! });
  });
  return starts.map((s, i) => {
    const end = (starts[i + 1]?.line ?? lines.length) - 1;
    return { filePath: path, fqn: `${module}.${s.name}`, kind: s.kind, language, startLine: s.line + 1, endLine: end + 1, content: lines.slice(s.line, end + 1).join('\n') };
  });
}

/** `uses` edges: a chunk mentions another chunk's simple name. */
function dependenciesOf(chunks: Chunk[], all: Chunk[]) {
  const deps: { fromFqn: string; toFqn: string; kind: string }[] = [];
  for (const c of chunks) {
    for (const other of all) {
      const name = other.fqn.split('.').pop()!;
      if (other.fqn !== c.fqn && new RegExp(`\\b${name}\\b`).test(c.content)) deps.push({ fromFqn: c.fqn, toFqn: other.fqn, kind: 'uses' });
    }
  }
  return deps;
}

const EDIT = {
  path: 'src/lru-cache.ts',
  apply: (text: string) =>
    text.replace('  get size(): number {', '  clear(): void {\n    this.entries.clear();\n  }\n\n  get size(): number {').replace('this.events.emit(\'hit\', key);', "this.events.emit('hit', key); // counted by trackStats"),
};

export async function runSnapshotPanel(shelf: Shelf, files: { path: string; text: string; language: string }[], out: HTMLElement): Promise<void> {
  const s = shelf.snapshots;
  const code = files.filter((f) => f.language !== 'markdown');
  const v1 = code.flatMap((f) => chunkFile(f.path, f.text, f.language));
  const stamp = Date.now().toString(36);
  const [a, b] = [`v1-${stamp}`, `v2-${stamp}`];
  if (!(await s.chunks.getRepository('sample'))) await s.chunks.saveRepository('sample');
  await s.chunks.createSnapshot('sample', a, { branch: 'main' });
  const ids = await s.chunks.saveChunks('sample', a, v1);
  const idOf = new Map(v1.map((c, i) => [c.fqn, ids[i]!]));
  await s.chunks.saveDependencies(dependenciesOf(v1, v1).map((d) => ({ fromChunkId: idOf.get(d.fromFqn)!, toFqn: d.toFqn, kind: d.kind })));

  // Second commit: one file edited; only that file is analysed, the rest is copied in SQLite.
  const edited = code.find((f) => f.path === EDIT.path)!;
  const stats = await s.createIncrementalSnapshot('sample', a, b, [EDIT.path], async (path: string) => {
    const chunks = chunkFile(path, EDIT.apply(edited.text), edited.language);
    return { chunks, dependencies: dependenciesOf(chunks, v1).map((d) => ({ fromFqn: d.fromFqn, toFqn: d.toFqn, kind: d.kind })) };
  });
  const diff = await s.compareCommits('sample', a, b);
  const start = await s.chunks.getChunkByFqn('sample', b, 'src.stats.trackStats');
  const walk = start ? await s.chunks.getTransitiveDependencies(start.id, 5) : [];
  const durability = await s.stats();

  const list = (label: string, items: { fqn: string }[]) => `<li><b>${label}</b> ${items.map((i) => `<code>${i.fqn}</code>`).join(', ') || '—'}</li>`;
  out.innerHTML = `
    <p class="meta">${a} → ${b}: ${stats.filesAnalyzed} file analysed, ${stats.filesSkipped} copied (${stats.chunksCopied} chunks) in ${stats.durationMs.toFixed(1)} ms · journal generation ${durability.generation}</p>
    <ul data-testid="snapshot-diff">${list('added', diff.added)}${list('modified', diff.modified)}${list('deleted', diff.deleted)}</ul>
    <p class="meta">dependency walk from <code>src.stats.trackStats</code>:</p>
    <ul data-testid="snapshot-walk">${walk.map((w) => `<li>${'· '.repeat(w.depth)}<code>${w.chunk.fqn}</code></li>`).join('') || '<li>—</li>'}</ul>`;
}
