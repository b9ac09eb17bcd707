import type { SqlDb } from './sql-db.ts';

/**
 * Full-text index upkeep, kept out of commits (schema version 4). A commit only lists what
 * the index must take in (`fts_pending`, filled by a trigger on `chunk_contents`) and which
 * files may have orphaned texts (`contents_unswept`); the steps here do the costly part —
 * tokenizing texts into FTS4, removing orphaned texts' terms, merging FTS4 segments — in
 * bounded transactions of their own, on an idle timer or right before a search. Every step
 * is plain SQL through {@link SqlDb.run}, so it is journaled and replays to the same index.
 * @internal
 */

const SQL = {
  pending: 'SELECT count(*) AS n FROM fts_pending',
  unswept: 'SELECT count(*) AS n FROM contents_unswept',
  anyWork: 'SELECT EXISTS (SELECT 1 FROM fts_pending) OR EXISTS (SELECT 1 FROM contents_unswept) AS due',
  markUnswept: 'INSERT OR IGNORE INTO contents_unswept (file_path) SELECT value FROM json_each(?1) WHERE true',
  // The last path / content id a bounded step covers: steps take a key range, so the
  // statements (and their replay) do not depend on a LIMIT over a changing table.
  sweepUpTo: 'SELECT file_path AS last FROM contents_unswept ORDER BY file_path LIMIT 1 OFFSET ?1',
  indexUpTo: 'SELECT content_id AS last FROM fts_pending ORDER BY content_id LIMIT 1 OFFSET ?1',
  sweepMax: 'SELECT max(file_path) AS last FROM contents_unswept',
  indexMax: 'SELECT max(content_id) AS last FROM fts_pending',
  // Content rows of these files that no chunk uses any more; an indexed one leaves FTS4
  // through the delete trigger. Deleted in rowid order, because FTS4 flushes its pending
  // terms whenever a docid goes backwards.
  sweep: `DELETE FROM chunk_contents WHERE id IN (SELECT x.id FROM chunk_contents x
    WHERE x.file_path IN (SELECT file_path FROM contents_unswept WHERE file_path <= ?1)
      AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.content_id = x.id) ORDER BY x.id)`,
  clearSwept: 'DELETE FROM contents_unswept WHERE file_path <= ?1',
  // One statement, ascending docids: FTS4 writes the batch out as one index segment.
  index: `INSERT INTO chunks_fts (docid, content, fqn, file_path)
    SELECT x.id, x.content, x.fqn, x.file_path FROM fts_pending p JOIN chunk_contents x ON x.id = p.content_id
    WHERE p.content_id <= ?1 ORDER BY p.content_id`,
  clearIndexed: 'DELETE FROM fts_pending WHERE content_id <= ?1',
  crowdedLevel: 'SELECT 1 AS due FROM chunks_fts_segdir GROUP BY level HAVING count(*) >= ?1 LIMIT 1',
  mergeHint: 'SELECT length(value) AS n FROM chunks_fts_stat WHERE id = 1',
} as const;

/** How much indexing work is waiting: texts not yet indexed, files not yet swept. */
export interface IndexBacklog {
  readonly pendingTexts: number;
  readonly unsweptFiles: number;
}

/** Records, inside a write, that these files' content rows may have lost their last chunk. */
export function markUnswept(db: SqlDb, paths: readonly string[]): void {
  if (paths.length > 0) db.run(SQL.markUnswept, [JSON.stringify(paths)]);
}

export function indexBacklog(db: SqlDb): IndexBacklog {
  return {
    pendingTexts: db.get<{ n: number }>(SQL.pending)!.n,
    unsweptFiles: db.get<{ n: number }>(SQL.unswept)!.n,
  };
}

/** Whether any text waits to be indexed or any file to be swept. */
export function indexBehind(db: SqlDb): boolean {
  return db.get<{ due: number }>(SQL.anyWork)!.due === 1;
}

/**
 * Sweeps up to `maxFiles` files (all when omitted) and indexes up to `maxTexts` pending
 * texts (all when omitted). Must run inside a transaction. Returns whether it did anything.
 */
export function catchUpIndex(db: SqlDb, maxFiles?: number, maxTexts?: number): boolean {
  // Sweep first: a text orphaned before it was indexed is dropped without being indexed.
  const lastPath = upperKey<string>(db, SQL.sweepUpTo, SQL.sweepMax, maxFiles);
  if (lastPath !== undefined) {
    db.run(SQL.sweep, [lastPath]);
    db.run(SQL.clearSwept, [lastPath]);
  }
  const lastId = upperKey<number>(db, SQL.indexUpTo, SQL.indexMax, maxTexts);
  if (lastId !== undefined) {
    db.run(SQL.index, [lastId]);
    db.run(SQL.clearIndexed, [lastId]);
  }
  return lastPath !== undefined || lastId !== undefined;
}

/** The key of row `limit` in key order, the last key when there are fewer (or no limit), `undefined` when none. */
function upperKey<T extends string | number>(db: SqlDb, nth: string, last: string, limit: number | undefined): T | undefined {
  const row = limit === undefined ? undefined : db.get<{ last: T }>(nth, [limit - 1]);
  return row?.last ?? db.get<{ last: T | null }>(last)?.last ?? undefined;
}

/**
 * Whether an FTS4 merge is due: a level with at least `minSegments` segments, or an
 * incremental merge left unfinished (its hint, row 1 of the `%_stat` shadow table).
 */
export function mergeDue(db: SqlDb, minSegments: number): boolean {
  if (db.get(SQL.crowdedLevel, [minSegments])) return true;
  return (db.get<{ n: number }>(SQL.mergeHint)?.n ?? 0) > 0;
}

/** One bounded FTS4 merge step; must run inside a transaction. */
export function mergeStep(db: SqlDb, pages: number, minSegments: number): void {
  db.run(`INSERT INTO chunks_fts (chunks_fts) VALUES ('merge=${pages},${minSegments}')`);
}
