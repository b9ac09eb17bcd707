import type { SqlDb } from './sql-db.ts';

/**
 * Copies the unchanged files of one snapshot into another entirely inside SQLite
 * (`INSERT ... SELECT`), so no row crosses into JavaScript. Changed paths travel as one JSON
 * array parameter read with `json_each`, which keeps each step a single journal statement
 * whatever the number of paths. `ORDER BY` fixes the insertion order, and with it the ids
 * SQLite assigns, so a replay assigns the same ones.
 * @internal
 */

const NOT_CHANGED = (column: string) => `${column} NOT IN (SELECT value FROM json_each(?3))`;

const SQL = {
  // Files now in the new snapshot, counted through its indexes once the copy is done:
  // those with live chunks, plus those that have metadata only (an empty file).
  countFiles: `SELECT (SELECT count(DISTINCT file_path) FROM chunks WHERE snapshot_id = ?1)
      + (SELECT count(*) FROM file_metadata m WHERE m.snapshot_id = ?1
        AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.snapshot_id = ?1 AND c.file_path = m.path)) AS n`,
  // Chunks share their content row (and so their FTS entry) with the base: no text is
  // copied and nothing is indexed.
  copyChunks: `INSERT INTO chunks (repo_id, snapshot_id, file_path, fqn, kind, language, start_line, end_line,
      content_hash, is_deleted, updated, content_id)
    SELECT repo_id, ?2, file_path, fqn, kind, language, start_line, end_line, content_hash, 0, updated, content_id
    FROM chunks WHERE snapshot_id = ?1 AND is_deleted = 0 AND ${NOT_CHANGED('file_path')}
    ORDER BY file_path, fqn`,
  copyMetadata: `INSERT INTO file_metadata (snapshot_id, path, content_hash, size, language, chunk_count)
    SELECT ?2, path, content_hash, size, language, chunk_count FROM file_metadata
    WHERE snapshot_id = ?1 AND ${NOT_CHANGED('path')}
    ORDER BY path`,
  // Targets are left NULL here and resolved once the whole snapshot is written.
  copyDependencies: `INSERT INTO dependencies (snapshot_id, from_chunk_id, to_chunk_id, to_fqn, kind)
    SELECT ?2, nc.id, NULL, d.to_fqn, d.kind
    FROM dependencies d
    JOIN chunks oc ON oc.id = d.from_chunk_id
    JOIN chunks nc ON nc.snapshot_id = ?2 AND nc.file_path = oc.file_path AND nc.fqn = oc.fqn
    WHERE d.snapshot_id = ?1 AND oc.is_deleted = 0 AND ${NOT_CHANGED('oc.file_path')}
    ORDER BY d.id`,
} as const;

/** What {@link copyUnchangedFiles} copied. */
export interface CopyCounts {
  readonly files: number;
  readonly chunks: number;
  readonly dependencies: number;
}

/** Copies chunks, file metadata and edges of every file of `fromId` not in `changedPaths`. */
export function copyUnchangedFiles(db: SqlDb, fromId: number, toId: number, changedPaths: readonly string[]): CopyCounts {
  const changed = JSON.stringify(changedPaths);
  const chunks = db.run(SQL.copyChunks, [fromId, toId, changed]).changes;
  db.run(SQL.copyMetadata, [fromId, toId, changed]);
  const dependencies = db.run(SQL.copyDependencies, [fromId, toId, changed]).changes;
  const files = db.get<{ n: number }>(SQL.countFiles, [toId])!.n;
  return { files, chunks, dependencies };
}
