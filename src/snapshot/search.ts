import { ShelfError } from '../errors/index.ts';
import { publicIdSql } from './chunk-ids.ts';
import { requireSnapshot } from './chunk-writes.ts';
import { compileGlob } from './path-glob.ts';
import { chunkColumns, toChunk, type ChunkRow } from './rows.ts';
import type { SqlDb, SqlParam } from './sql-db.ts';
import type { SearchHit, SearchOptions } from './types.ts';

/** Names of the SQL functions the store registers on every connection. @internal */
export const RANK_FUNCTION = 'codeshelf_bm25';
/** @internal */
export const GLOB_FUNCTION = 'codeshelf_glob';

const DEFAULT_LIMIT = 20;
const DEFAULT_TOKENS = 16;

/**
 * Full-text search over live chunks with FTS4 (one index document per `chunk_contents`
 * row, shared by every chunk with that file, FQN and text): ranks every match with BM25 (see
 * {@link bm25}), keeps the best `limit`, then builds snippets for those only, because
 * `snippet()` is the expensive part and SQLite would otherwise compute it for every match
 * before sorting. `query` uses FTS4 MATCH syntax (terms, "phrases", prefix*, AND/OR/NOT,
 * NEAR); a malformed one is `INVALID_ARGUMENT`.
 * @internal
 */
export function searchChunks(db: SqlDb, query: string, options: SearchOptions = {}): SearchHit[] {
  const params: SqlParam[] = [query];
  const where = ['chunks_fts MATCH ?1', 'c.is_deleted = 0'];
  if (options.snapshot) {
    const snapshot = requireSnapshot(db, options.snapshot.repo, options.snapshot.commit, 'options.snapshot');
    where.push(`f.snapshot_id = ?${params.push(snapshot.id)}`);
  }
  if (options.pathGlob !== undefined) {
    compileGlob(options.pathGlob, 'options.pathGlob'); // reject a bad pattern before querying
    where.push(`${GLOB_FUNCTION}(?${params.push(options.pathGlob)}, f.path)`);
  }
  const limit = options.limit ?? DEFAULT_LIMIT;
  // The index holds one document per content row; a document counts once per live chunk
  // that uses it in each requested snapshot, scored with that document's matchinfo.
  const ranked = runMatch(() => db.query<{ id: number; snapshot: number; row: number; doc: number; score: number }>(
    `SELECT ${publicIdSql('f.snapshot_id', 'c')} AS id, f.snapshot_id AS snapshot, c.id AS row, c.content_id AS doc,
       ${RANK_FUNCTION}(matchinfo(chunks_fts, 'pcnalx')) AS score
     FROM chunks_fts CROSS JOIN chunks c ON c.content_id = chunks_fts.docid
       CROSS JOIN snapshot_files f ON f.version_id = c.version_id
     WHERE ${where.join(' AND ')}
     ORDER BY score DESC, id LIMIT ?${params.push(limit)}`,
    params,
  ), query);
  if (ranked.length === 0) return [];

  const docs = JSON.stringify([...new Set(ranked.map((r) => r.doc))]);
  const [open, close] = options.highlight ?? ['<mark>', '</mark>'];
  const snippets = new Map(runMatch(() => db.query<{ doc: number; snippet: string }>(
    `SELECT docid AS doc, snippet(chunks_fts, ?2, ?3, '…', -1, ?4) AS snippet FROM chunks_fts
     WHERE chunks_fts MATCH ?1 AND docid IN (SELECT value FROM json_each(?5))`,
    [query, open, close, options.snippetTokens ?? DEFAULT_TOKENS, docs],
  ), query).map((r) => [r.doc, r.snippet]));
  const chunks = new Map(db.query<ChunkRow>(
    `SELECT ${chunkColumns('c', 'f')} FROM json_each(?1) j JOIN chunks c ON c.id = j.value ->> 1
      JOIN snapshot_files f ON f.snapshot_id = j.value ->> 0 AND f.version_id = c.version_id`,
    [JSON.stringify(ranked.map((r) => [r.snapshot, r.row]))],
  ).map((r) => [r.id, toChunk(r)]));
  return ranked.map((r) => ({ chunk: chunks.get(r.id)!, score: r.score, snippet: snippets.get(r.doc) ?? '' }));
}

function runMatch<T>(fn: () => T, query: string): T {
  try {
    return fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/malformed MATCH|unable to use function MATCH/i.test(message)) {
      throw new ShelfError('INVALID_ARGUMENT', `query is not a valid FTS4 query: ${JSON.stringify(query)}`, { cause: error });
    }
    throw error;
  }
}
