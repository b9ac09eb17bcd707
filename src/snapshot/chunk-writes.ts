import { ShelfError } from '../errors/index.ts';
import { hashText, utf8Length } from './content-hash.ts';
import { keySql, MAX_SNAPSHOT_ID, publicId } from './chunk-ids.ts';
import { REPOSITORY_COLUMNS, SNAPSHOT_COLUMNS, type RepositoryRow, type SnapshotRow } from './rows.ts';
import { markUnswept } from './fts-upkeep.ts';
import type { SqlDb, SqlParam } from './sql-db.ts';
import type { ChunkInput, FileDependencyInput, FileInfo, FileMetadataInput } from './types.ts';
import { checkFileChunks, checkFileDependencies, checkFileInfo, checkName } from './validate.ts';

/**
 * The synchronous write steps shared by {@link ChunkStore} and {@link CodeSnapshotStore}.
 * They run inside a {@link SqlDb} transaction and take every value (timestamps, hashes) as
 * a parameter, so the statements they issue replay to the same state.
 * @internal
 */

/** A chunk with its content hash computed ahead of the transaction. */
export interface HashedChunk {
  readonly chunk: ChunkInput;
  readonly hash: string;
}

/** A file validated and hashed, ready to be written in one synchronous step. */
export interface PreparedFile {
  readonly path: string;
  readonly chunks: readonly HashedChunk[];
  readonly dependencies: readonly FileDependencyInput[];
  readonly metadata: FileMetadataInput;
}

// The version snapshot ?1 maps `path` (an SQL expression) to. A scalar subquery, not a join:
// SQLite runs the JSON-driven statements below about three times faster this way.
const FILE_VERSION = (path: string) =>
  `(SELECT f.version_id FROM snapshot_files f WHERE f.snapshot_id = ?1 AND f.path = ${path})`;
const VERSION_OF = FILE_VERSION('?2');

const SQL = {
  findRepo: `SELECT ${REPOSITORY_COLUMNS} FROM repositories WHERE name = ?1`,
  findSnapshot: `SELECT ${SNAPSHOT_COLUMNS} FROM snapshots WHERE repo_id = ?1 AND commit_hash = ?2`,
  insertSnapshot: `INSERT INTO snapshots (repo_id, commit_hash, branch, parent_id, created) VALUES (?1, ?2, ?3, ?4, ?5)
    ON CONFLICT (repo_id, commit_hash) DO NOTHING`,
  // Of paths ?2 (a JSON array), how many snapshot ?1 lacks, how many it shares with another
  // snapshot, and the last version id (new versions are told apart by their ids).
  ownership: `SELECT
      count(*) FILTER (WHERE f.version_id IS NULL) AS missing,
      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM snapshot_files o WHERE o.version_id = f.version_id
        AND o.snapshot_id <> ?1)) AS shared,
      (SELECT coalesce(max(id), 0) FROM file_versions) AS last
    FROM json_each(?2) j LEFT JOIN snapshot_files f ON f.snapshot_id = ?1 AND f.path = j.value`,
  // Copy-on-write, in four statements whatever the number of files: copy the shared
  // versions (ids above ?3 are this step's), their chunks and edges (keys kept), then point
  // the snapshot at the copies.
  cloneVersions: `INSERT INTO file_versions (repo_id, path, cloned_from, live_chunks, content_hash, size, language,
      chunk_count)
    SELECT v.repo_id, v.path, v.id, v.live_chunks, v.content_hash, v.size, v.language, v.chunk_count
    FROM json_each(?2) j CROSS JOIN snapshot_files f ON f.snapshot_id = ?1 AND f.path = j.value
    CROSS JOIN file_versions v ON v.id = f.version_id
    WHERE EXISTS (SELECT 1 FROM snapshot_files o WHERE o.version_id = v.id AND o.snapshot_id <> ?1)
    ORDER BY j.value`,
  cloneChunks: `INSERT INTO chunks (version_id, key_id, fqn, kind, language, start_line, end_line, content_hash,
      is_deleted, updated, content_id)
    SELECT n.id, ${keySql('c')}, c.fqn, c.kind, c.language, c.start_line, c.end_line, c.content_hash, c.is_deleted,
      c.updated, c.content_id
    FROM file_versions n JOIN chunks c ON c.version_id = n.cloned_from WHERE n.id > ?1 ORDER BY n.id, c.id`,
  cloneEdges: `INSERT INTO dependencies (key_id, from_row, to_fqn, kind)
    SELECT ${keySql('d')}, nc.id, d.to_fqn, d.kind
    FROM file_versions n JOIN chunks oc ON oc.version_id = n.cloned_from JOIN dependencies d ON d.from_row = oc.id
    JOIN chunks nc ON nc.version_id = n.id AND nc.fqn = oc.fqn
    WHERE n.id > ?1 ORDER BY d.id`,
  remap: `UPDATE snapshot_files SET version_id = (SELECT n.id FROM file_versions n
      WHERE n.id > ?2 AND n.cloned_from = snapshot_files.version_id)
    WHERE snapshot_id = ?1 AND version_id IN (SELECT cloned_from FROM file_versions WHERE id > ?2)`,
  // Empty versions for paths the snapshot lacks, then their map rows.
  addVersions: `INSERT INTO file_versions (repo_id, path) SELECT ?3, j.value FROM json_each(?2) j
    WHERE NOT EXISTS (SELECT 1 FROM snapshot_files f WHERE f.snapshot_id = ?1 AND f.path = j.value) ORDER BY j.value`,
  mapAdded: `INSERT INTO snapshot_files (snapshot_id, path, version_id)
    SELECT ?1, v.path, v.id FROM file_versions v WHERE v.id > ?2 AND v.cloned_from IS NULL ORDER BY v.path`,
  dropPendingOrphans: `DELETE FROM chunk_contents WHERE id IN (SELECT x.id FROM json_each(?1) j
      JOIN chunk_contents x ON x.file_path = j.value JOIN fts_pending p ON p.content_id = x.id
    WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.content_id = x.id) ORDER BY x.id)`,
  softDeleteFileExcept: `UPDATE chunks SET is_deleted = 1, updated = ?3
    WHERE version_id = ${VERSION_OF} AND is_deleted = 0 AND fqn NOT IN (SELECT value FROM json_each(?4))`,
  mapped: 'SELECT 1 AS mapped FROM snapshot_files WHERE snapshot_id = ?1 AND path = ?2',
  liveChunks: `SELECT count(*) AS n FROM chunks WHERE version_id = ${VERSION_OF} AND is_deleted = 0`,
  // Recounts file_versions.live_chunks of the files ?2 (a JSON array) of snapshot ?1.
  recount: `UPDATE file_versions SET live_chunks = (SELECT count(*) FROM chunks c
      WHERE c.version_id = file_versions.id AND c.is_deleted = 0)
    WHERE id IN (SELECT ${FILE_VERSION('j.value')} FROM json_each(?2) j)`,
  noneLive: `UPDATE file_versions SET live_chunks = 0 WHERE id = ${VERSION_OF}`,
  // Edges leaving the file's chunks that are not in ?3, a JSON array of [from_fqn, kind, to_fqn].
  // (A row-value NOT IN is built once; a correlated NOT EXISTS re-read the list per edge.)
  deleteStaleFileDeps: `DELETE FROM dependencies WHERE id IN (SELECT d.id FROM chunks c
      JOIN dependencies d ON d.from_row = c.id
    WHERE c.version_id = ${VERSION_OF} AND (c.fqn, d.kind, d.to_fqn) NOT IN (SELECT j.value ->> 0, j.value ->> 1,
      j.value ->> 2 FROM json_each(?3) j)
    ORDER BY d.id)`,
  insertFileDeps: `INSERT INTO dependencies (from_row, to_fqn, kind)
    SELECT c.id, j.value ->> 2, j.value ->> 1 FROM json_each(?3) j
    CROSS JOIN chunks c ON c.version_id = ${VERSION_OF} AND c.fqn = j.value ->> 0 WHERE true ORDER BY j.key
    ON CONFLICT (from_row, kind, to_fqn) DO NOTHING`,
  insertDependency: `INSERT INTO dependencies (from_row, to_fqn, kind) VALUES (?1, ?2, ?3)
    ON CONFLICT (from_row, kind, to_fqn) DO NOTHING`,
  dependencyKey: `SELECT ${keySql('d')} AS key FROM dependencies d WHERE d.from_row = ?1 AND d.kind = ?3 AND d.to_fqn = ?2`,
  setMetadata: `UPDATE file_versions SET content_hash = ?3, size = ?4, language = ?5, chunk_count = ?6
    WHERE id = ${VERSION_OF}`,
  // A whole file written: its metadata and its live chunk count (?3, NULL metadata for a deleted file).
  setFile: `UPDATE file_versions SET live_chunks = ?3, content_hash = ?4, size = ?5, language = ?6, chunk_count = ?7
    WHERE id = ${VERSION_OF}`,
  // The chunk row keyed ?2 in snapshot ?1: its own row, or a copy of it (see chunk-ids.ts).
  rowOf: `SELECT c.id AS row, c.is_deleted AS deleted, v.path AS path FROM chunks c
      JOIN file_versions v ON v.id = c.version_id
    WHERE ((c.id = ?2 AND c.key_id IS NULL) OR c.key_id = ?2)
      AND EXISTS (SELECT 1 FROM snapshot_files f WHERE f.version_id = c.version_id AND f.snapshot_id = ?1)`,
} as const;

/**
 * Chunk rows travel as bound parameters of one `VALUES` list per statement: an ordinal
 * (rows are applied in input order), then the row's values. A list is padded with rows of
 * NULLs (skipped by `WHERE column1 IS NOT NULL`) to a power of two between
 * {@link MIN_VALUES_ROWS} and {@link MAX_VALUES_ROWS}, so a store prepares a handful of
 * statement texts whatever its batch sizes; longer batches take several statements.
 *
 * Bound values are read once. The rows used to travel as one JSON array read with
 * `json_each`, where every `->>` parsed its row's JSON again: for the 100 chunks of a
 * `replaceFile` in Node, inserting the texts took 1.3 ms that way and 0.6 this way, the
 * chunk upsert 2.0 and 0.9 ms.
 */
const MIN_VALUES_ROWS = 8;
const MAX_VALUES_ROWS = 256;

/** Up to `size` rows of `rows` from `first` as VALUES parameters (ordinal first), padded with NULL rows to `size`. */
function valuesParams(rows: readonly (readonly SqlParam[])[], first: number, size: number, width: number): SqlParam[] {
  const params: SqlParam[] = new Array<SqlParam>(size * (width + 1)).fill(null);
  let at = 0;
  for (let i = first; i < Math.min(rows.length, first + size); i++) {
    params[at++] = i;
    for (const value of rows[i]!) params[at++] = value;
  }
  return params;
}

/** The VALUES batches of `rows`: each a statement size (rows, padding included) and its parameters. */
function valuesBatches(rows: readonly (readonly SqlParam[])[], width: number): { size: number; params: SqlParam[] }[] {
  const batches = [];
  for (let first = 0; first < rows.length; first += MAX_VALUES_ROWS) {
    let size = MIN_VALUES_ROWS;
    while (size < rows.length - first && size < MAX_VALUES_ROWS) size *= 2;
    batches.push({ size, params: valuesParams(rows, first, size, width) });
  }
  return batches;
}

/** A statement taking its rows as a VALUES list (`$VALUES` in `template`), by list size. */
function valuesStatement(template: string, width: number): (size: number) => string {
  const bySize = new Map<number, string>();
  const row = `(${new Array<string>(width + 1).fill('?').join(',')})`;
  return (size) => {
    let sql = bySize.get(size);
    if (sql === undefined) bySize.set(size, (sql = template.replace('$VALUES', new Array<string>(size).fill(row).join(','))));
    return sql;
  };
}

// New texts first; a text already stored under the same key (unchanged chunk, or one copied
// from another snapshot) is reused. A new text is indexed later (see fts-upkeep.ts). Rows:
// file_path, fqn, content_hash, content (UTF-8 bytes: see utf8Param).
const CONTENT_ROW_WIDTH = 4;
const insertContents = valuesStatement(`INSERT INTO chunk_contents (file_path, fqn, content_hash, content)
  SELECT column2, column3, column4, CAST(column5 AS TEXT) FROM (VALUES $VALUES) WHERE column1 IS NOT NULL ORDER BY column1
  ON CONFLICT (file_path, fqn, content_hash) DO NOTHING`, CONTENT_ROW_WIDTH);

// Rows: file_path, fqn, kind, language, start_line, end_line, content_hash; ?1 the snapshot, ?2 the time
// (numbered placeholders, so the unnumbered ones of the list come after them). The upsert
// returns each row's file, FQN and key: no second pass over the rows for ids.
const CHUNK_ROW_WIDTH = 7;
const upsertChunkRows = valuesStatement(`INSERT INTO chunks (version_id, fqn, kind, language, start_line, end_line, content_hash, is_deleted,
    updated, content_id)
  SELECT ${FILE_VERSION('r.column2')}, r.column3, r.column4, r.column5, r.column6, r.column7, r.column8, 0, ?2,
    (SELECT x.id FROM chunk_contents x WHERE x.file_path = r.column2 AND x.fqn = r.column3 AND x.content_hash = r.column8)
  FROM (VALUES $VALUES) r WHERE r.column1 IS NOT NULL ORDER BY r.column1
  ON CONFLICT (version_id, fqn) DO UPDATE SET
    updated = CASE WHEN is_deleted = 0 AND content_hash = excluded.content_hash AND kind = excluded.kind
      AND language = excluded.language AND start_line = excluded.start_line AND end_line = excluded.end_line
      THEN updated ELSE excluded.updated END,
    kind = excluded.kind, language = excluded.language, start_line = excluded.start_line,
    end_line = excluded.end_line, content_hash = excluded.content_hash, content_id = excluded.content_id, is_deleted = 0
  RETURNING (SELECT v.path FROM file_versions v WHERE v.id = version_id), fqn, ${keySql('chunks')}`, CHUNK_ROW_WIDTH);

/** The repository named `name`, or `undefined`. */
export function findRepository(db: SqlDb, name: string): RepositoryRow | undefined {
  return db.get<RepositoryRow>(SQL.findRepo, [name]);
}

/** The repository named `name`; `NOT_FOUND` naming `argument` otherwise. */
export function requireRepository(db: SqlDb, name: string, argument = 'repo'): RepositoryRow {
  const row = findRepository(db, name);
  if (!row) throw new ShelfError('NOT_FOUND', `${argument}: no repository named "${name}"`);
  return row;
}

/** The snapshot of `repoId` at `commit`, or `undefined`. */
export function findSnapshot(db: SqlDb, repoId: number, commit: string): SnapshotRow | undefined {
  return db.get<SnapshotRow>(SQL.findSnapshot, [repoId, commit]);
}

/** The snapshot `commit` of repository `repo`; `NOT_FOUND` naming the argument otherwise. */
export function requireSnapshot(db: SqlDb, repo: string, commit: string, argument = 'commit'): SnapshotRow {
  const repoRow = requireRepository(db, repo);
  const row = findSnapshot(db, repoRow.id, commit);
  if (!row) throw new ShelfError('NOT_FOUND', `${argument}: repository "${repo}" has no snapshot "${commit}"`);
  return row;
}

/** Creates the snapshot unless it exists; returns the stored row either way. */
export function ensureSnapshot(
  db: SqlDb, repoId: number, commit: string, branch: string | null, parentId: number | null, now: number,
): SnapshotRow {
  const existing = findSnapshot(db, repoId, commit);
  if (existing) return existing;
  db.run(SQL.insertSnapshot, [repoId, commit, branch, parentId, now]);
  const row = findSnapshot(db, repoId, commit)!;
  if (row.id > MAX_SNAPSHOT_ID) {
    // Chunk ids carry the snapshot id (chunk-ids.ts); past this they would not be exact.
    throw new ShelfError('INVALID_ARGUMENT', `commit: the store holds its limit of ${MAX_SNAPSHOT_ID} snapshots`);
  }
  return row;
}

/**
 * Makes each of `paths` in `snapshot` a file version no other snapshot maps, so it can be
 * written in place: shared versions are copied (chunks and edges with their keys, so ids
 * do not change), and with `create`, paths the snapshot lacks get an empty version. A
 * fixed number of statements whatever the number of paths, none when nothing is due.
 */
export function ownFiles(db: SqlDb, snapshot: SnapshotRow, paths: readonly string[], create: boolean): void {
  if (paths.length === 0) return;
  const list = JSON.stringify([...new Set(paths)]);
  const due = db.get<{ missing: number; shared: number; last: number }>(SQL.ownership, [snapshot.id, list])!;
  if (due.shared === 0 && (due.missing === 0 || !create)) return;
  const last = due.last;
  if (due.shared > 0) {
    db.run(SQL.cloneVersions, [snapshot.id, list]);
    db.run(SQL.cloneChunks, [last]);
    db.run(SQL.cloneEdges, [last]);
    db.run(SQL.remap, [snapshot.id, last]);
  }
  if (create && due.missing > 0) {
    db.run(SQL.addVersions, [snapshot.id, list, snapshot.repo_id]);
    db.run(SQL.mapAdded, [snapshot.id, last]);
  }
}

/** The chunk row a public chunk key names in `snapshotId`, or `undefined`. */
export function chunkRow(db: SqlDb, snapshotId: number, key: number): { row: number; deleted: number; path: string } | undefined {
  return db.get(SQL.rowOf, [snapshotId, key]);
}

const utf8 = new TextEncoder();

/**
 * A chunk text as UTF-8 bytes, bound as a blob and read back with `CAST(? AS TEXT)`: sql.js
 * binds a string by encoding it to UTF-8 in a JavaScript loop, one code point at a time,
 * where `TextEncoder` is native. The journal records the bytes as they were bound.
 */
function utf8Param(text: string): Uint8Array {
  return utf8.encode(text);
}

/**
 * Inserts or updates (and revives) chunks of one snapshot in a few statements (a fixed
 * number, plus two per 256 chunks: see {@link MAX_VALUES_ROWS});
 * returns their ids in input order. When two entries share file and FQN the later one wins,
 * exactly as if they were saved one after the other (rows are applied in input order).
 * `inFileWrite`: called by {@link writeFile}, which has made the file the snapshot's own and
 * sets its live chunk count itself.
 */
export function upsertChunks(
  db: SqlDb, snapshot: SnapshotRow, items: readonly HashedChunk[], now: number, inFileWrite = false,
): number[] {
  if (items.length === 0) return [];
  const paths = [...new Set(items.map((i) => i.chunk.filePath))];
  if (!inFileWrite) ownFiles(db, snapshot, paths, true);
  const texts = items.map(({ chunk: c, hash }) => [c.filePath, c.fqn, hash, utf8Param(c.content)]);
  for (const { size, params } of valuesBatches(texts, CONTENT_ROW_WIDTH)) {
    db.run(insertContents(size), params);
  }
  const facts = items.map(({ chunk: c, hash }) => [c.filePath, c.fqn, c.kind, c.language, c.startLine, c.endLine, hash]);
  const keys = new Map<string, number>();
  for (const { size, params } of valuesBatches(facts, CHUNK_ROW_WIDTH)) {
    const rows = db.run(upsertChunkRows(size), [snapshot.id, now, ...params]).rows;
    // Keyed by both strings as JSON: a NUL-joined key lets (a, b\0c) and (a\0b, c) collide.
    for (const [path, fqn, key] of rows) keys.set(JSON.stringify([path, fqn]), key as number);
  }
  if (!inFileWrite) db.run(SQL.recount, [snapshot.id, JSON.stringify(paths)]);
  // A chunk whose text changed in place may have left its old text unused: swept later.
  markUnswept(db, paths);
  db.run(SQL.dropPendingOrphans, [JSON.stringify(paths)]);
  return items.map(({ chunk: c }) => publicId(snapshot.id, keys.get(JSON.stringify([c.filePath, c.fqn]))!));
}

/** Soft-deletes the live chunks of a file; returns how many (a file with none is left as it is). */
export function softDeleteFile(db: SqlDb, snapshot: SnapshotRow, path: string, now: number): number {
  if (db.get<{ n: number }>(SQL.liveChunks, [snapshot.id, path])!.n === 0) return 0;
  ownFiles(db, snapshot, [path], false);
  const count = db.run(SQL.softDeleteFileExcept, [snapshot.id, path, now, '[]']).changes;
  db.run(SQL.noneLive, [snapshot.id, path]);
  return count;
}

/**
 * Adds the edge `toFqn`/`kind` leaving chunk row `row` (of file `path` in `snapshot`), or
 * keeps it when it exists; returns its public id. The file is made the snapshot's own
 * first, so the chunk may move to a copied row: `key` names it again afterwards.
 */
export function upsertDependency(db: SqlDb, snapshot: SnapshotRow, key: number, path: string, toFqn: string, kind: string): number {
  ownFiles(db, snapshot, [path], false);
  const { row } = chunkRow(db, snapshot.id, key)!;
  db.run(SQL.insertDependency, [row, toFqn, kind]);
  return publicId(snapshot.id, db.get<{ key: number }>(SQL.dependencyKey, [row, toFqn, kind])!.key);
}

/** Sets the metadata of a file of the snapshot (giving it an empty version if it has none). */
export function upsertFileMetadata(db: SqlDb, snapshot: SnapshotRow, m: FileMetadataInput): void {
  ownFiles(db, snapshot, [m.path], true);
  db.run(SQL.setMetadata, [snapshot.id, m.path, m.contentHash, m.size, m.language, m.chunkCount]);
}

/**
 * Makes `path` in `snapshot` hold exactly `file` (or nothing when `file` is null): upserts
 * its chunks, soft-deletes the others, replaces the edges leaving the file and writes its
 * metadata. Edge targets need no update: they are resolved by FQN when read. Running it
 * twice changes nothing. `fresh`: the caller has just given `path` an empty version of the
 * snapshot's own ({@link ownFiles}), so there is nothing to copy, soft-delete or unlink.
 */
export function writeFile(
  db: SqlDb, snapshot: SnapshotRow, path: string, file: PreparedFile | null, now: number, fresh = false,
): { chunkIds: number[]; softDeleted: number } {
  if (!file && (fresh || db.get(SQL.mapped, [snapshot.id, path]) === undefined)) return { chunkIds: [], softDeleted: 0 };
  if (!fresh) ownFiles(db, snapshot, [path], true);
  const chunkIds = file ? upsertChunks(db, snapshot, file.chunks, now, true) : [];
  let softDeleted = 0;
  const edges = new Map<string, [string, string, string]>();
  for (const d of file?.dependencies ?? []) {
    const edge: [string, string, string] = [d.fromFqn, d.kind, d.toFqn];
    edges.set(JSON.stringify(edge), edge);
  }
  const edgeList = JSON.stringify([...edges.values()]);
  if (!fresh) {
    const keep = JSON.stringify(file ? file.chunks.map((c) => c.chunk.fqn) : []);
    softDeleted = db.run(SQL.softDeleteFileExcept, [snapshot.id, path, now, keep]).changes;
    db.run(SQL.deleteStaleFileDeps, [snapshot.id, path, edgeList]);
  }
  if (edges.size > 0) db.run(SQL.insertFileDeps, [snapshot.id, path, edgeList]);
  const m = file?.metadata;
  const live = new Set(file?.chunks.map((c) => c.chunk.fqn)).size;
  db.run(SQL.setFile, [snapshot.id, path, live, m?.contentHash ?? null, m?.size ?? null, m?.language ?? null,
    m?.chunkCount ?? null]);
  return { chunkIds, softDeleted };
}

/** Hashes the content of each chunk (before any transaction starts). */
export function hashChunks(chunks: readonly ChunkInput[]): HashedChunk[] {
  return chunks.map((chunk) => ({ chunk, hash: hashText(chunk.content) }));
}

/**
 * Validates and hashes one file's chunks, edges and facts, naming arguments as
 * `${argument}.chunks[i]` etc. Throws `INVALID_ARGUMENT` before anything is written.
 */
export async function prepareFile(
  path: string, chunks: unknown, dependencies: unknown, info: unknown, argument: { chunks: string; deps: string; file: string },
): Promise<PreparedFile> {
  checkName(path, 'path');
  const list = checkFileChunks(chunks, argument.chunks, path);
  const deps = dependencies ?? [];
  checkFileDependencies(deps, argument.deps, new Set(list.map((c) => c.fqn)));
  checkFileInfo(info, argument.file);
  const fileInfo = (info ?? {}) as FileInfo;
  const hashed = hashChunks(list);
  let contentHash = fileInfo.contentHash;
  let size = fileInfo.size;
  if (contentHash === undefined || size === undefined) {
    const joined = list.map((c) => c.content).join('\n');
    contentHash ??= hashText(joined);
    size ??= utf8Length(joined);
  }
  const language = fileInfo.language ?? list[0]?.language ?? '';
  return {
    path,
    chunks: hashed,
    dependencies: deps,
    metadata: { path, contentHash, size, language, chunkCount: list.length },
  };
}
