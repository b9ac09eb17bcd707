import { chunkColumns, DEPENDENCY_COLUMNS, toChunk, toDependency, type ChunkRow, type DependencyRow } from './rows.ts';
import type { SqlDb } from './sql-db.ts';
import type { Dependency, TransitiveDependency } from './types.ts';

/**
 * Read-only queries over the dependency graph. Edges leaving a soft-deleted chunk are
 * hidden, and `to_chunk_id` only ever names a live chunk (see {@link Dependency}).
 * @internal
 */

const DEPS_COLUMNS = DEPENDENCY_COLUMNS.split(', ').map((c) => `d.${c}`).join(', ');

const SQL = {
  from: `SELECT ${DEPS_COLUMNS} FROM dependencies d JOIN chunks f ON f.id = d.from_chunk_id
    WHERE d.from_chunk_id = ?1 AND f.is_deleted = 0 ORDER BY d.kind, d.to_fqn, d.id`,
  to: `SELECT ${DEPS_COLUMNS} FROM dependencies d JOIN chunks f ON f.id = d.from_chunk_id
    WHERE d.to_chunk_id = ?1 AND f.is_deleted = 0 ORDER BY d.from_chunk_id, d.kind, d.id`,
  // One breadth-first level: the live targets of a frontier of chunks.
  level: `SELECT DISTINCT d.to_chunk_id AS id FROM dependencies d JOIN chunks f ON f.id = d.from_chunk_id
    WHERE d.from_chunk_id IN (SELECT value FROM json_each(?1)) AND f.is_deleted = 0 AND d.to_chunk_id IS NOT NULL`,
  reached: `SELECT ${chunkColumns('c')}, j.value ->> '$[1]' AS depth
    FROM json_each(?1) j JOIN chunks c ON c.id = j.value ->> '$[0]'
    WHERE c.is_deleted = 0 ORDER BY depth, c.file_path, c.fqn, c.id`,
} as const;

/** Edges leaving `chunkId`. */
export function dependenciesFrom(db: SqlDb, chunkId: number): Dependency[] {
  return db.query<DependencyRow>(SQL.from, [chunkId]).map(toDependency);
}

/** Edges arriving at `chunkId` from live chunks. */
export function dependenciesTo(db: SqlDb, chunkId: number): Dependency[] {
  return db.query<DependencyRow>(SQL.to, [chunkId]).map(toDependency);
}

/**
 * Every live chunk reachable from `chunkId` within `maxDepth` edges, once each at its
 * shortest distance, nearest first. Breadth-first with a visited set: one query per level,
 * so the cost is O(edges of reached chunks), and cycles end the walk instead of repeating.
 */
export function transitiveDependencies(db: SqlDb, chunkId: number, maxDepth: number): TransitiveDependency[] {
  const depthOf = new Map<number, number>([[chunkId, 0]]);
  let frontier = [chunkId];
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const next: number[] = [];
    for (const { id } of db.query<{ id: number }>(SQL.level, [JSON.stringify(frontier)])) {
      if (depthOf.has(id)) continue;
      depthOf.set(id, depth);
      next.push(id);
    }
    frontier = next;
  }
  depthOf.delete(chunkId);
  if (depthOf.size === 0) return [];
  return db.query<ChunkRow & { depth: number }>(SQL.reached, [JSON.stringify([...depthOf])])
    .map((row) => ({ chunk: toChunk(row), depth: Number(row.depth) }));
}
