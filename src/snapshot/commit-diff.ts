import type { ChunkChange, ChunkSummary, CommitDiff, FileDiffSummary } from './types.ts';

function groupByFqn(chunks: readonly ChunkSummary[]): Map<string, ChunkSummary[]> {
  const groups = new Map<string, ChunkSummary[]>();
  for (const c of chunks) {
    const group = groups.get(c.fqn);
    if (group) group.push(c);
    else groups.set(c.fqn, [c]);
  }
  return groups;
}

function byPath(chunks: readonly ChunkSummary[]): Map<string, ChunkSummary> {
  return new Map(chunks.map((c) => [c.filePath, c]));
}

const pathOf = (change: ChunkChange) => (change.after ?? change.before)!.filePath;

function compareChanges(x: ChunkChange, y: ChunkChange): number {
  if (x.fqn !== y.fqn) return x.fqn < y.fqn ? -1 : 1;
  const px = pathOf(x);
  const py = pathOf(y);
  return px < py ? -1 : px > py ? 1 : 0;
}

/**
 * The semantic diff of two snapshots' live chunks, keyed by FQN.
 *
 * An FQN defined once on each side is one pair, even if its file moved: it is `modified`
 * when the content hash differs, else unchanged. An FQN defined in several files on either
 * side is paired by (FQN, file path) instead, so each definition is matched with the one in
 * the same file. Unpaired chunks of `b` are `added`, of `a` `deleted`. Lists are sorted by
 * FQN then path; `files` counts each change in the file of its `after` (else `before`).
 * @internal
 */
export function diffChunks(a: readonly ChunkSummary[], b: readonly ChunkSummary[]): CommitDiff {
  const before = groupByFqn(a);
  const after = groupByFqn(b);
  const added: ChunkChange[] = [];
  const modified: ChunkChange[] = [];
  const deleted: ChunkChange[] = [];

  const pair = (fqn: string, x: ChunkSummary | undefined, y: ChunkSummary | undefined) => {
    if (x && y) {
      if (x.contentHash !== y.contentHash) modified.push({ fqn, before: x, after: y });
    } else if (y) added.push({ fqn, after: y });
    else if (x) deleted.push({ fqn, before: x });
  };

  for (const fqn of new Set([...before.keys(), ...after.keys()])) {
    const xs = before.get(fqn) ?? [];
    const ys = after.get(fqn) ?? [];
    if (xs.length <= 1 && ys.length <= 1) {
      pair(fqn, xs[0], ys[0]);
      continue;
    }
    const xByPath = byPath(xs);
    const yByPath = byPath(ys);
    for (const path of new Set([...xByPath.keys(), ...yByPath.keys()])) pair(fqn, xByPath.get(path), yByPath.get(path));
  }

  added.sort(compareChanges);
  modified.sort(compareChanges);
  deleted.sort(compareChanges);
  return { added, modified, deleted, files: summarizeFiles(added, modified, deleted) };
}

function summarizeFiles(added: ChunkChange[], modified: ChunkChange[], deleted: ChunkChange[]): FileDiffSummary[] {
  const files = new Map<string, { added: number; modified: number; deleted: number }>();
  const count = (changes: ChunkChange[], key: 'added' | 'modified' | 'deleted') => {
    for (const change of changes) {
      const path = pathOf(change);
      let entry = files.get(path);
      if (!entry) files.set(path, (entry = { added: 0, modified: 0, deleted: 0 }));
      entry[key]++;
    }
  };
  count(added, 'added');
  count(modified, 'modified');
  count(deleted, 'deleted');
  return [...files.entries()]
    .sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))
    .map(([path, c]) => ({ path, ...c }));
}
