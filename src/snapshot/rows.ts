import type { Chunk, ChunkSummary, Dependency, FileMetadata, Repository, Snapshot } from './types.ts';

/** Column lists and row mappers shared by the stores. @internal */

export const REPOSITORY_COLUMNS = 'id, name, url, created';
export const SNAPSHOT_COLUMNS = 'id, repo_id, commit_hash, branch, parent_id, created';
const SUMMARY_FIELDS = ['id', 'repo_id', 'snapshot_id', 'file_path', 'fqn', 'kind', 'language', 'start_line', 'end_line',
  'content_hash', 'is_deleted', 'updated'];
/** Chunk columns without content, prefixed with `alias.`. */
export function summaryColumns(alias: string): string {
  return SUMMARY_FIELDS.map((f) => `${alias}.${f}`).join(', ');
}
/**
 * All chunk columns, prefixed with `alias.`; the text comes from the chunk's
 * `chunk_contents` row (one rowid lookup per chunk).
 */
export function chunkColumns(alias: string): string {
  return `${summaryColumns(alias)}, (SELECT x.content FROM chunk_contents x WHERE x.id = ${alias}.content_id) AS content`;
}
export const DEPENDENCY_COLUMNS = 'id, snapshot_id, from_chunk_id, to_chunk_id, to_fqn, kind';
export const FILE_METADATA_COLUMNS = 'snapshot_id, path, content_hash, size, language, chunk_count';

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
