/**
 * The code snapshot store: repositories, commit snapshots, code chunks, dependency graphs,
 * file metadata and full-text search on sql.js, in memory, with every commit reported to an
 * optional journal hook.
 * @packageDocumentation
 */
export { openSnapshotStore, openChunkStore, type OpenSnapshotStoreOptions } from './open.ts';
export { CodeSnapshotStore } from './code-snapshot-store.ts';
export { ChunkStore } from './chunk-store.ts';
export type { CommitHook, JournalStatement, SqlParam } from './sql-db.ts';
export { SCHEMA_VERSION, SNAPSHOT_APPLICATION_ID } from './schema.ts';
export { sha256Hex } from './content-hash.ts';
export { compileGlob } from './path-glob.ts';
export type {
  AnalyzedFile, AnalyzeFile, Chunk, ChunkChange, ChunkInput, ChunkSummary, CommitDiff, Dependency, DependencyInput,
  FileChunkInput, FileDependencyInput, FileDiffSummary, FileInfo, FileMetadata, FileMetadataInput, IncrementalStats,
  MaintainOptions, ReadOptions, ReplaceFileResult, Repository, SearchHit, SearchOptions, Snapshot, SnapshotRef,
  TransitiveDependency,
} from './types.ts';
export { DurableSnapshotStore, openDurableSnapshotStore, type DurableSnapshotOptions, type DurabilityStats } from './durable-store.ts';
export type { IndexBacklog } from './fts-upkeep.ts';
