import { summaryColumns, toChunkSummary, type ChunkSummaryRow } from './rows.ts';
import type { SqlDb } from './sql-db.ts';
import type { ChunkChange, ChunkSummary, CommitDiff, FileDiffSummary } from './types.ts';

const SQL = {
  // FQNs of live chunks in files whose version differs between snapshots ?1 and ?2 (or
  // that only one of them has). A file both map to the same version is the same on both sides.
  changedFqns: `WITH changed (version_id) AS (
      SELECT x.version_id FROM snapshot_files x WHERE x.snapshot_id = ?1 AND NOT EXISTS (SELECT 1 FROM snapshot_files y
        WHERE y.snapshot_id = ?2 AND y.path = x.path AND y.version_id = x.version_id)
      UNION
      SELECT y.version_id FROM snapshot_files y WHERE y.snapshot_id = ?2 AND NOT EXISTS (SELECT 1 FROM snapshot_files x
        WHERE x.snapshot_id = ?1 AND x.path = y.path AND x.version_id = y.version_id))
    SELECT DISTINCT c.fqn AS fqn FROM changed JOIN chunks c ON c.version_id = changed.version_id WHERE c.is_deleted = 0`,
  // Every live chunk of snapshot ?1 named by one of the FQNs in ?2, wherever its file changed or not.
  named: `SELECT ${summaryColumns('c', 'f')} FROM json_each(?2) j CROSS JOIN chunks c ON c.fqn = j.value
    CROSS JOIN snapshot_files f ON f.version_id = c.version_id AND f.snapshot_id = ?1 WHERE c.is_deleted = 0`,
} as const;

/**
 * {@link diffChunks} of snapshots `a` and `b`, reading only what can differ: the chunks
 * whose FQN is defined in a file that differs between them, on both sides, including
 * definitions of those FQNs in unchanged files (they decide how definitions pair up). Any
 * other FQN has the same definitions, in the same files, on both sides, so it is unchanged.
 * The cost is O(files + chunks of changed files), not O(chunks).
 * @internal
 */
export function diffSnapshots(db: SqlDb, a: number, b: number): CommitDiff {
  const fqns = JSON.stringify(db.query<{ fqn: string }>(SQL.changedFqns, [a, b]).map((r) => r.fqn));
  return diffChunks(
    db.query<ChunkSummaryRow>(SQL.named, [a, fqns]).map(toChunkSummary),
    db.query<ChunkSummaryRow>(SQL.named, [b, fqns]).map(toChunkSummary),
  );
}

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
