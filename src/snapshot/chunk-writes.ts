import { ShelfError } from '../errors/index.ts';
import { hashText, utf8Length } from './content-hash.ts';
import { REPOSITORY_COLUMNS, SNAPSHOT_COLUMNS, type RepositoryRow, type SnapshotRow } from './rows.ts';
import { markUnswept } from './fts-upkeep.ts';
import type { SqlDb } from './sql-db.ts';
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

// Target of an edge: the live chunk of the same snapshot with that FQN, first by path.
const RESOLVE = `(SELECT c.id FROM chunks c WHERE c.snapshot_id = dependencies.snapshot_id
  AND c.fqn = dependencies.to_fqn AND c.is_deleted = 0 ORDER BY c.file_path LIMIT 1)`;

const SQL = {
  findRepo: `SELECT ${REPOSITORY_COLUMNS} FROM repositories WHERE name = ?1`,
  findSnapshot: `SELECT ${SNAPSHOT_COLUMNS} FROM snapshots WHERE repo_id = ?1 AND commit_hash = ?2`,
  insertSnapshot: `INSERT INTO snapshots (repo_id, commit_hash, branch, parent_id, created) VALUES (?1, ?2, ?3, ?4, ?5)
    ON CONFLICT (repo_id, commit_hash) DO NOTHING`,
  // Rows travel as JSON arrays read with json_each (see upsertChunks), so a batch is one statement per
  // step whatever its size. New texts first; a text already stored under the same key
  // (unchanged chunk, or one copied from another snapshot) is reused. A new text is indexed
  // later (see fts-upkeep.ts).
  insertContents: `INSERT INTO chunk_contents (file_path, fqn, content_hash, content)
    SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3 FROM json_each(?1) j WHERE true ORDER BY j.key
    ON CONFLICT (file_path, fqn, content_hash) DO NOTHING`,
  upsertChunks: `INSERT INTO chunks (repo_id, snapshot_id, file_path, fqn, kind, language, start_line, end_line,
      content_hash, is_deleted, updated, content_id)
    SELECT ?1, ?2, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5,
      j.value ->> 6, 0, ?3, (SELECT x.id FROM chunk_contents x
        WHERE x.file_path = j.value ->> 0 AND x.fqn = j.value ->> 1 AND x.content_hash = j.value ->> 6)
    FROM json_each(?4) j WHERE true ORDER BY j.key
    ON CONFLICT (snapshot_id, file_path, fqn) DO UPDATE SET
      updated = CASE WHEN is_deleted = 0 AND content_hash = excluded.content_hash AND kind = excluded.kind
        AND language = excluded.language AND start_line = excluded.start_line AND end_line = excluded.end_line
        THEN updated ELSE excluded.updated END,
      kind = excluded.kind, language = excluded.language, start_line = excluded.start_line,
      end_line = excluded.end_line, content_hash = excluded.content_hash, content_id = excluded.content_id, is_deleted = 0`,
  chunkIds: `SELECT c.id AS id FROM json_each(?2) j CROSS JOIN chunks c
    WHERE c.snapshot_id = ?1 AND c.file_path = j.value ->> 0 AND c.fqn = j.value ->> 1 ORDER BY j.key`,
  softDeleteFileExcept: `UPDATE chunks SET is_deleted = 1, updated = ?3
    WHERE snapshot_id = ?1 AND file_path = ?2 AND is_deleted = 0 AND fqn NOT IN (SELECT value FROM json_each(?4))`,
  deleteStaleFileDeps: `DELETE FROM dependencies
    WHERE from_chunk_id IN (SELECT id FROM chunks WHERE snapshot_id = ?1 AND file_path = ?2)
      AND (from_chunk_id, kind, to_fqn) NOT IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
        json_extract(value, '$[2]') FROM json_each(?3))`,
  upsertDependency: `INSERT INTO dependencies (snapshot_id, from_chunk_id, to_chunk_id, to_fqn, kind)
    VALUES (?1, ?2, (SELECT c.id FROM chunks c WHERE c.snapshot_id = ?1 AND c.fqn = ?3 AND c.is_deleted = 0
      ORDER BY c.file_path LIMIT 1), ?3, ?4)
    ON CONFLICT (from_chunk_id, kind, to_fqn) DO UPDATE SET to_chunk_id = excluded.to_chunk_id
    RETURNING id`,
  // Edges as one JSON array of [from_chunk_id, kind, to_fqn], targets resolved as they land.
  upsertDependencies: `INSERT INTO dependencies (snapshot_id, from_chunk_id, to_chunk_id, to_fqn, kind)
    SELECT ?1, j.value ->> 0, (SELECT c.id FROM chunks c WHERE c.snapshot_id = ?1 AND c.fqn = j.value ->> 2
      AND c.is_deleted = 0 ORDER BY c.file_path LIMIT 1), j.value ->> 2, j.value ->> 1
    FROM json_each(?2) j WHERE true ORDER BY j.key
    ON CONFLICT (from_chunk_id, kind, to_fqn) DO UPDATE SET to_chunk_id = excluded.to_chunk_id`,
  upsertMetadata: `INSERT INTO file_metadata (snapshot_id, path, content_hash, size, language, chunk_count)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (snapshot_id, path) DO UPDATE SET content_hash = excluded.content_hash, size = excluded.size,
      language = excluded.language, chunk_count = excluded.chunk_count`,
  deleteMetadata: 'DELETE FROM file_metadata WHERE snapshot_id = ?1 AND path = ?2',
  resolveForFqns: `UPDATE dependencies SET to_chunk_id = ${RESOLVE}
    WHERE snapshot_id = ?1 AND to_fqn IN (SELECT value FROM json_each(?2)) AND to_chunk_id IS NOT ${RESOLVE}`,
  resolveForFile: `UPDATE dependencies SET to_chunk_id = ${RESOLVE}
    WHERE snapshot_id = ?1 AND to_fqn IN (SELECT fqn FROM chunks WHERE snapshot_id = ?1 AND file_path = ?2)
      AND to_chunk_id IS NOT ${RESOLVE}`,
  resolveAll: `UPDATE dependencies SET to_chunk_id = ${RESOLVE} WHERE snapshot_id = ?1 AND to_chunk_id IS NOT ${RESOLVE}`,
} as const;

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
  db.run(SQL.insertSnapshot, [repoId, commit, branch, parentId, now]);
  return findSnapshot(db, repoId, commit)!;
}

/**
 * Inserts or updates (and revives) chunks of one snapshot in a fixed number of statements;
 * returns their ids in input order. When two entries share file and FQN the later one wins,
 * exactly as if they were saved one after the other (rows are applied in input order).
 */
export function upsertChunks(db: SqlDb, snapshot: SnapshotRow, items: readonly HashedChunk[], now: number): number[] {
  if (items.length === 0) return [];
  // Texts ([file_path, fqn, content_hash, content]) and chunk facts ([file_path, fqn, kind,
  // language, start_line, end_line, content_hash]) travel apart, so the upsert does not
  // parse the texts a second time.
  const texts = JSON.stringify(items.map(({ chunk: c, hash }) => [c.filePath, c.fqn, hash, c.content]));
  const facts = JSON.stringify(items.map(({ chunk: c, hash }) =>
    [c.filePath, c.fqn, c.kind, c.language, c.startLine, c.endLine, hash]));
  db.run(SQL.insertContents, [texts]);
  db.run(SQL.upsertChunks, [snapshot.repo_id, snapshot.id, now, facts]);
  // A chunk whose text changed in place may have left its old text unused: swept later.
  markUnswept(db, [...new Set(items.map((i) => i.chunk.filePath))]);
  const keys = JSON.stringify(items.map(({ chunk: c }) => [c.filePath, c.fqn]));
  return db.query<{ id: number }>(SQL.chunkIds, [snapshot.id, keys]).map((r) => r.id);
}

/** Re-resolves edges of the snapshot that point at any of `fqns`. */
export function resolveTargetsForFqns(db: SqlDb, snapshotId: number, fqns: Iterable<string>): void {
  db.run(SQL.resolveForFqns, [snapshotId, JSON.stringify([...new Set(fqns)])]);
}

/** Re-resolves edges that point at FQNs defined (now or before) in one file. */
export function resolveTargetsForFile(db: SqlDb, snapshotId: number, path: string): void {
  db.run(SQL.resolveForFile, [snapshotId, path]);
}

/** Re-resolves every edge of a snapshot. */
export function resolveAllTargets(db: SqlDb, snapshotId: number): void {
  db.run(SQL.resolveAll, [snapshotId]);
}

/** Soft-deletes the live chunks of a file except those named in `keep`; returns how many. */
export function softDeleteFile(db: SqlDb, snapshotId: number, path: string, now: number, keep: string[] = []): number {
  return db.run(SQL.softDeleteFileExcept, [snapshotId, path, now, JSON.stringify(keep)]).changes;
}

/** Upserts one edge, resolving its target now; returns its id. */
export function upsertDependency(db: SqlDb, snapshotId: number, fromChunkId: number, toFqn: string, kind: string): number {
  return db.run(SQL.upsertDependency, [snapshotId, fromChunkId, toFqn, kind]).rows[0]![0] as number;
}

/** Inserts or replaces a file's metadata row. */
export function upsertFileMetadata(db: SqlDb, snapshotId: number, m: FileMetadataInput): void {
  db.run(SQL.upsertMetadata, [snapshotId, m.path, m.contentHash, m.size, m.language, m.chunkCount]);
}

/**
 * Makes `path` in `snapshot` hold exactly `file` (or nothing when `file` is null): upserts
 * its chunks, soft-deletes the others, replaces the edges leaving the file, writes its
 * metadata and re-resolves edges that point into it. Running it twice changes nothing.
 */
export function writeFile(
  db: SqlDb, snapshot: SnapshotRow, path: string, file: PreparedFile | null, now: number,
): { chunkIds: number[]; softDeleted: number } {
  const chunkIds = file ? upsertChunks(db, snapshot, file.chunks, now) : [];
  const fqns = file ? file.chunks.map((c) => c.chunk.fqn) : [];
  const softDeleted = softDeleteFile(db, snapshot.id, path, now, fqns);
  const idByFqn = new Map(fqns.map((fqn, i) => [fqn, chunkIds[i]!]));
  const edges = new Map<string, [number, string, string]>();
  for (const d of file?.dependencies ?? []) {
    const edge: [number, string, string] = [idByFqn.get(d.fromFqn)!, d.kind, d.toFqn];
    edges.set(JSON.stringify(edge), edge);
  }
  const edgeList = JSON.stringify([...edges.values()]);
  db.run(SQL.deleteStaleFileDeps, [snapshot.id, path, edgeList]);
  if (edges.size > 0) db.run(SQL.upsertDependencies, [snapshot.id, edgeList]);
  if (file) upsertFileMetadata(db, snapshot.id, file.metadata);
  else db.run(SQL.deleteMetadata, [snapshot.id, path]);
  resolveTargetsForFile(db, snapshot.id, path);
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
