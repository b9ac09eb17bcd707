import { publicIdSql, splitId } from './chunk-ids.ts';
import { chunkRow } from './chunk-writes.ts';
import { chunkColumns, toChunk, toDependency, type ChunkRow, type DependencyRow } from './rows.ts';
import type { SqlDb } from './sql-db.ts';
import type { Dependency, TransitiveDependency } from './types.ts';

/**
 * Read-only queries over the dependency graph. Edges are stored on the chunk rows they
 * leave and name their target by FQN; the target is resolved here, within the snapshot
 * being read — the live chunk with that FQN, first by file path — because a file version
 * shared by several snapshots can point at different chunks in each. Edges leaving a
 * soft-deleted chunk are hidden.
 * @internal
 */

// The chunk row edge target `fqn` resolves to in snapshot `snapshot` (SQL expressions).
// CROSS JOIN keeps SQLite from walking the snapshot's whole file map instead.
const target = (snapshot: string, fqn: string, select = 't.id') => `(SELECT ${select} FROM chunks t
  CROSS JOIN snapshot_files tf ON tf.version_id = t.version_id AND tf.snapshot_id = ${snapshot}
  WHERE t.fqn = ${fqn} AND t.is_deleted = 0 ORDER BY tf.path LIMIT 1)`;

const SQL = {
  // ?1 snapshot, ?2 chunk row, ?3 its public id.
  from: `SELECT ${publicIdSql('?1', 'd')} AS id, ?1 AS snapshot_id, ?3 AS from_chunk_id,
      ${target('?1', 'd.to_fqn', publicIdSql('?1', 't'))} AS to_chunk_id, d.to_fqn AS to_fqn, d.kind AS kind
    FROM dependencies d WHERE d.from_row = ?2 ORDER BY d.kind, d.to_fqn, id`,
  resolve: `SELECT ${target('?1', '?2')} AS row`,
  // ?1 snapshot, ?2 target FQN, ?3 the target's public id: edges of the snapshot naming it.
  to: `SELECT ${publicIdSql('?1', 'd')} AS id, ?1 AS snapshot_id, ${publicIdSql('?1', 'f')} AS from_chunk_id,
      ?3 AS to_chunk_id, d.to_fqn AS to_fqn, d.kind AS kind
    FROM dependencies d JOIN chunks f ON f.id = d.from_row
    WHERE d.to_fqn = ?2 AND f.is_deleted = 0
      AND EXISTS (SELECT 1 FROM snapshot_files sf WHERE sf.version_id = f.version_id AND sf.snapshot_id = ?1)
    ORDER BY from_chunk_id, d.kind, id`,
  // One breadth-first level: the chunk rows the edges of a frontier of live rows resolve to.
  level: `SELECT DISTINCT ${target('?1', 'd.to_fqn')} AS row FROM dependencies d JOIN chunks f ON f.id = d.from_row
    WHERE d.from_row IN (SELECT value FROM json_each(?2)) AND f.is_deleted = 0`,
  reached: `SELECT ${chunkColumns('c', 'f')}, j.value ->> '$[1]' AS depth
    FROM json_each(?2) j JOIN chunks c ON c.id = j.value ->> '$[0]'
    JOIN snapshot_files f ON f.snapshot_id = ?1 AND f.version_id = c.version_id
    ORDER BY depth, f.path, c.fqn, id`,
  fqnOf: 'SELECT c.fqn AS fqn FROM chunks c WHERE c.id = ?1',
} as const;

/** The live chunk row a public chunk id names, or `undefined`. */
function liveRow(db: SqlDb, chunkId: number): { snapshotId: number; row: number } | undefined {
  const { snapshotId, key } = splitId(chunkId);
  const found = snapshotId > 0 ? chunkRow(db, snapshotId, key) : undefined;
  return found && found.deleted === 0 ? { snapshotId, row: found.row } : undefined;
}

/** Edges leaving `chunkId` (none when it is soft-deleted or unknown). */
export function dependenciesFrom(db: SqlDb, chunkId: number): Dependency[] {
  const at = liveRow(db, chunkId);
  if (!at) return [];
  return db.query<DependencyRow>(SQL.from, [at.snapshotId, at.row, chunkId]).map(toDependency);
}

/** Edges of live chunks of its snapshot that resolve to `chunkId`. */
export function dependenciesTo(db: SqlDb, chunkId: number): Dependency[] {
  const at = liveRow(db, chunkId);
  if (!at) return [];
  const { fqn } = db.get<{ fqn: string }>(SQL.fqnOf, [at.row])!;
  // Edges naming this FQN reach this chunk only if it is the one the name resolves to.
  if (db.get<{ row: number | null }>(SQL.resolve, [at.snapshotId, fqn])!.row !== at.row) return [];
  return db.query<DependencyRow>(SQL.to, [at.snapshotId, fqn, chunkId]).map(toDependency);
}

/**
 * Every live chunk reachable from `chunkId` within `maxDepth` edges, once each at its
 * shortest distance, nearest first. Breadth-first with a visited set: one query per level,
 * so the cost is O(edges of reached chunks), and cycles end the walk instead of repeating.
 */
export function transitiveDependencies(db: SqlDb, chunkId: number, maxDepth: number): TransitiveDependency[] {
  const at = liveRow(db, chunkId);
  if (!at) return [];
  const depthOf = new Map<number, number>([[at.row, 0]]);
  let frontier = [at.row];
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const next: number[] = [];
    for (const { row } of db.query<{ row: number | null }>(SQL.level, [at.snapshotId, JSON.stringify(frontier)])) {
      if (row === null || depthOf.has(row)) continue;
      depthOf.set(row, depth);
      next.push(row);
    }
    frontier = next;
  }
  depthOf.delete(at.row);
  if (depthOf.size === 0) return [];
  return db.query<ChunkRow & { depth: number }>(SQL.reached, [at.snapshotId, JSON.stringify([...depthOf])])
    .map((row) => ({ chunk: toChunk(row), depth: Number(row.depth) }));
}
