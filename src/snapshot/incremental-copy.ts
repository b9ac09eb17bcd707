import type { SqlDb } from './sql-db.ts';

/**
 * Carries the unchanged files of one snapshot into another: one map row per file, pointing
 * at the base's file version, so no chunk, edge or text is copied and the cost is O(files),
 * not O(chunks). The versions become shared; the first write to one of them through either
 * snapshot copies it (see `ownFiles`). Changed paths travel as one JSON array parameter
 * read with `json_each`, which keeps the step a single journal statement whatever the
 * number of paths; the map is keyed by (snapshot, path), so insertion order does not
 * matter for a replay.
 * @internal
 */

const NOT_CHANGED = (column: string) => `${column} NOT IN (SELECT value FROM json_each(?3))`;

const SQL = {
  share: `INSERT INTO snapshot_files (snapshot_id, path, version_id)
    SELECT ?2, path, version_id FROM snapshot_files WHERE snapshot_id = ?1 AND ${NOT_CHANGED('path')}`,
  liveChunks: `SELECT coalesce(sum(v.live_chunks), 0) AS n FROM snapshot_files f JOIN file_versions v ON v.id = f.version_id
    WHERE f.snapshot_id = ?1`,
} as const;

/** What {@link shareUnchangedFiles} carried forward. */
export interface ShareCounts {
  /** Files now shared by both snapshots. */
  readonly files: number;
  /** Live chunks in those files. */
  readonly chunks: number;
}

/**
 * Maps every file of `fromId` not in `changedPaths` into `toId`, which must not map any
 * file yet. Call it before writing the changed files into `toId`.
 */
export function shareUnchangedFiles(db: SqlDb, fromId: number, toId: number, changedPaths: readonly string[]): ShareCounts {
  const files = db.run(SQL.share, [fromId, toId, JSON.stringify(changedPaths)]).changes;
  const chunks = files === 0 ? 0 : db.get<{ n: number }>(SQL.liveChunks, [toId])!.n;
  return { files, chunks };
}
