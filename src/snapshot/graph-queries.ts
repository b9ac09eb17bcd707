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
  // Breadth-first by levels: UNION drops repeated (chunk, depth) pairs, so a cycle adds at
  // most one row per chunk per level and the walk stops at maxDepth; MIN(depth) then keeps
  // each chunk once, at its shortest distance. Cost is O(reachable chunks × maxDepth).
  transitive: `WITH RECURSIVE reach(id, depth) AS (
      SELECT d.to_chunk_id, 1 FROM dependencies d JOIN chunks f ON f.id = d.from_chunk_id
        WHERE d.from_chunk_id = ?1 AND f.is_deleted = 0 AND d.to_chunk_id IS NOT NULL
      UNION
      SELECT d.to_chunk_id, r.depth + 1 FROM reach r JOIN dependencies d ON d.from_chunk_id = r.id
        WHERE r.depth < ?2 AND d.to_chunk_id IS NOT NULL
    )
    SELECT ${chunkColumns('c')}, MIN(r.depth) AS depth FROM reach r JOIN chunks c ON c.id = r.id
    WHERE c.is_deleted = 0 AND c.id <> ?1
    GROUP BY c.id ORDER BY depth, c.file_path, c.fqn, c.id`,
} as const;

/** Edges leaving `chunkId`. */
export function dependenciesFrom(db: SqlDb, chunkId: number): Dependency[] {
  return db.query<DependencyRow>(SQL.from, [chunkId]).map(toDependency);
}

/** Edges arriving at `chunkId` from live chunks. */
export function dependenciesTo(db: SqlDb, chunkId: number): Dependency[] {
  return db.query<DependencyRow>(SQL.to, [chunkId]).map(toDependency);
}

/** Every live chunk reachable from `chunkId` within `maxDepth` edges, once each, nearest first. */
export function transitiveDependencies(db: SqlDb, chunkId: number, maxDepth: number): TransitiveDependency[] {
  return db.query<ChunkRow & { depth: number }>(SQL.transitive, [chunkId, maxDepth])
    .map((row) => ({ chunk: toChunk(row), depth: row.depth }));
}
