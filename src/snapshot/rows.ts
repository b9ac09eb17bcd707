import { publicIdSql } from './chunk-ids.ts';
import type { Chunk, ChunkSummary, Dependency, FileMetadata, Repository, Snapshot } from './types.ts';

/** Column lists and row mappers shared by the stores. @internal */

export const REPOSITORY_COLUMNS = 'id, name, url, created';
export const SNAPSHOT_COLUMNS = 'id, repo_id, commit_hash, branch, parent_id, created';
/**
 * Chunk columns without content for chunk row `c` seen through the `snapshot_files` row `f`
 * (see chunk-ids.ts for the id).
 */
export function summaryColumns(c: string, f: string): string {
  return `${publicIdSql(`${f}.snapshot_id`, c)} AS id,
    (SELECT s.repo_id FROM snapshots s WHERE s.id = ${f}.snapshot_id) AS repo_id, ${f}.snapshot_id AS snapshot_id,
    ${f}.path AS file_path, ${c}.fqn AS fqn, ${c}.kind AS kind, ${c}.language AS language,
    ${c}.start_line AS start_line, ${c}.end_line AS end_line, ${c}.content_hash AS content_hash,
    ${c}.is_deleted AS is_deleted, ${c}.updated AS updated`;
}
/**
 * All chunk columns of `c` seen through `f`; the text comes from the chunk's
 * `chunk_contents` row (one rowid lookup per chunk).
 */
export function chunkColumns(c: string, f: string): string {
  return `${summaryColumns(c, f)}, (SELECT x.content FROM chunk_contents x WHERE x.id = ${c}.content_id) AS content`;
}
/** File metadata columns of `snapshot_files` row `f` and its `file_versions` row `v`. */
export function fileMetadataColumns(f: string, v: string): string {
  return `${f}.snapshot_id AS snapshot_id, ${f}.path AS path, ${v}.content_hash AS content_hash, ${v}.size AS size,
    ${v}.language AS language, ${v}.chunk_count AS chunk_count`;
}

export interface RepositoryRow { id: number; name: string; url: string | null; created: number }
export interface SnapshotRow {
  id: number; repo_id: number; commit_hash: string; branch: string | null; parent_id: number | null; created: number;
}
export interface ChunkSummaryRow {
  id: number; repo_id: number; snapshot_id: number; file_path: string; fqn: string; kind: string; language: string;
  start_line: number; end_line: number; content_hash: string; is_deleted: number; updated: number;
}
export interface ChunkRow extends ChunkSummaryRow { content: string }
export interface DependencyRow {
  id: number; snapshot_id: number; from_chunk_id: number; to_chunk_id: number | null; to_fqn: string; kind: string;
}
export interface FileMetadataRow {
  snapshot_id: number; path: string; content_hash: string; size: number; language: string; chunk_count: number;
}

export function toRepository(r: RepositoryRow): Repository {
  return { id: r.id, name: r.name, url: r.url, created: r.created };
}

export function toSnapshot(r: SnapshotRow): Snapshot {
  return {
    id: r.id, repoId: r.repo_id, commitHash: r.commit_hash, branch: r.branch, parentId: r.parent_id, created: r.created,
  };
}

export function toChunkSummary(r: ChunkSummaryRow): ChunkSummary {
  return {
    id: r.id, repoId: r.repo_id, snapshotId: r.snapshot_id, filePath: r.file_path, fqn: r.fqn, kind: r.kind,
    language: r.language, startLine: r.start_line, endLine: r.end_line, contentHash: r.content_hash,
    isDeleted: r.is_deleted !== 0, updated: r.updated,
  };
}

export function toChunk(r: ChunkRow): Chunk {
  return { ...toChunkSummary(r), content: r.content };
}

export function toDependency(r: DependencyRow): Dependency {
  return {
    id: r.id, snapshotId: r.snapshot_id, fromChunkId: r.from_chunk_id, toChunkId: r.to_chunk_id, toFqn: r.to_fqn,
    kind: r.kind,
  };
}

export function toFileMetadata(r: FileMetadataRow): FileMetadata {
  return {
    snapshotId: r.snapshot_id, path: r.path, contentHash: r.content_hash, size: r.size, language: r.language,
    chunkCount: r.chunk_count,
  };
}
