/**
 * Records of the code snapshot store. Repositories are named by `name`, snapshots by their
 * commit hash within a repository; chunks, dependencies and files belong to one snapshot.
 * Timestamps are milliseconds since the epoch, taken from the store's clock.
 */

/** A repository. */
export interface Repository {
  readonly id: number;
  readonly name: string;
  readonly url: string | null;
  readonly created: number;
}

/** One commit of a repository. */
export interface Snapshot {
  readonly id: number;
  readonly repoId: number;
  readonly commitHash: string;
  readonly branch: string | null;
  /** Id of the parent snapshot, if any. */
  readonly parentId: number | null;
  readonly created: number;
}

/** A chunk as the caller supplies it: one named piece of a file (a function, a class...). */
export interface ChunkInput {
  readonly filePath: string;
  /** Fully qualified name; unique within its file. */
  readonly fqn: string;
  readonly kind: string;
  readonly language: string;
  /** First line, 1-based by convention; any non-negative integer is accepted. */
  readonly startLine: number;
  /** Last line, not before `startLine`. */
  readonly endLine: number;
  readonly content: string;
}

/** A chunk whose file is implied by the call (`replaceFile`, `analyze` results). */
export type FileChunkInput = Omit<ChunkInput, 'filePath'> & {
  /** When given it must equal the file being written. */
  readonly filePath?: string;
};

/** A stored chunk. */
export interface Chunk extends ChunkInput {
  /**
   * Names the chunk in its snapshot: `snapshotId × 2^32 + key` (an exact safe integer). It
   * stays the same while the chunk exists in that snapshot; the same chunk seen through
   * another snapshot that shares its file has another id.
   */
  readonly id: number;
  readonly repoId: number;
  readonly snapshotId: number;
  /** SHA-256 of the UTF-8 content, lowercase hex. */
  readonly contentHash: string;
  readonly isDeleted: boolean;
  /** When the chunk last changed (content, position, kind or liveness). */
  readonly updated: number;
}

/** A chunk without its content, as listed by a diff. */
export type ChunkSummary = Omit<Chunk, 'content'>;

/** An edge of the dependency graph, by chunk id (low level). */
export interface DependencyInput {
  /** The live chunk the edge starts from; the edge belongs to that chunk's snapshot. */
  readonly fromChunkId: number;
  /** The name the edge points at; resolved to a chunk of the same snapshot when one exists. */
  readonly toFqn: string;
  /** What the edge means: `calls`, `imports`, `extends`... */
  readonly kind: string;
}

/** An edge of a file being written, by FQN (high level). */
export interface FileDependencyInput {
  /** FQN of one of the chunks written with it. */
  readonly fromFqn: string;
  readonly toFqn: string;
  readonly kind: string;
}

/**
 * A stored edge. `toChunkId` is derived, never supplied: the live chunk of the same snapshot
 * whose FQN is `toFqn` (the first by file path when several files define it), or `null`,
 * resolved when the edge is read, so it is always current. Ids as for {@link Chunk.id}.
 */
export interface Dependency {
  readonly id: number;
  readonly snapshotId: number;
  readonly fromChunkId: number;
  readonly toChunkId: number | null;
  readonly toFqn: string;
  readonly kind: string;
}

/** A chunk reached by {@link ChunkStore.getTransitiveDependencies}. */
export interface TransitiveDependency {
  readonly chunk: Chunk;
  /** Fewest edges from the start chunk (1 = direct dependency). */
  readonly depth: number;
}

/** File-level facts of a snapshot, used to skip unchanged files. */
export interface FileMetadataInput {
  readonly path: string;
  readonly contentHash: string;
  readonly size: number;
  readonly language: string;
  readonly chunkCount: number;
}

/** A stored {@link FileMetadataInput}. */
export interface FileMetadata extends FileMetadataInput {
  readonly snapshotId: number;
}

/**
 * File facts supplied with a file's chunks. Missing fields are derived from the chunks:
 * `contentHash` = SHA-256 of the chunk contents joined with `\n`, `size` = their UTF-8 byte
 * count, `language` = the first chunk's language (or `''`).
 */
export interface FileInfo {
  readonly contentHash?: string;
  readonly size?: number;
  readonly language?: string;
}

/** Names a snapshot. */
export interface SnapshotRef {
  readonly repo: string;
  readonly commit: string;
}

/** Options of reads that can include soft-deleted chunks. */
export interface ReadOptions {
  readonly includeDeleted?: boolean;
}

/** Options of {@link ChunkStore.searchContent}. */
export interface SearchOptions {
  /** Most hits (default 20, at most 1,000). */
  readonly limit?: number;
  /** Only chunks of this snapshot. */
  readonly snapshot?: SnapshotRef;
  /**
   * Only chunks whose file path matches: `*` and `?` stay within a path segment, `**`
   * crosses `/` (`src/**\/*.ts` also matches `src/a.ts`), `{a,b}` and `[abc]` as usual.
   */
  readonly pathGlob?: string;
  /** Markers around matched terms in the snippet (default `<mark>`, `</mark>`). */
  readonly highlight?: readonly [open: string, close: string];
  /** Approximate snippet length in tokens (default 16, 1–64). */
  readonly snippetTokens?: number;
}

/** One search result, best first. */
export interface SearchHit {
  readonly chunk: Chunk;
  /** BM25 relevance; higher is better. */
  readonly score: number;
  /** An excerpt of the best-matching column with the terms highlighted. */
  readonly snippet: string;
}

/** One FQN in a {@link CommitDiff}. */
export interface ChunkChange {
  readonly fqn: string;
  /** The chunk in snapshot `a` (absent for an added chunk). */
  readonly before?: ChunkSummary;
  /** The chunk in snapshot `b` (absent for a deleted chunk). */
  readonly after?: ChunkSummary;
}

/** Per-file counts of a {@link CommitDiff}; a change counts in the file of `after`, else `before`. */
export interface FileDiffSummary {
  readonly path: string;
  readonly added: number;
  readonly modified: number;
  readonly deleted: number;
}

/** The semantic difference between two snapshots, keyed by FQN. */
export interface CommitDiff {
  readonly added: ChunkChange[];
  /** Same FQN on both sides, different content hash. */
  readonly modified: ChunkChange[];
  readonly deleted: ChunkChange[];
  /** Files with at least one change, by path. */
  readonly files: FileDiffSummary[];
}

/** What {@link CodeSnapshotStore.replaceFile} did. */
export interface ReplaceFileResult {
  readonly snapshot: Snapshot;
  /** Ids of the written chunks, in input order. */
  readonly chunkIds: number[];
  /** Chunks of the file that were live and are now soft-deleted. */
  readonly softDeleted: number;
}

/** What `analyze` returns for one changed path; `null` means the file was deleted. */
export interface AnalyzedFile {
  readonly chunks: readonly FileChunkInput[];
  readonly dependencies?: readonly FileDependencyInput[];
  readonly file?: FileInfo;
}

/** Analyzes one changed file for {@link CodeSnapshotStore.createIncrementalSnapshot}. */
export type AnalyzeFile = (path: string) => Promise<AnalyzedFile | null> | AnalyzedFile | null;

/** Counters of {@link CodeSnapshotStore.createIncrementalSnapshot}. */
export interface IncrementalStats {
  readonly snapshot: Snapshot;
  /** Files of the base snapshot carried forward unchanged (shared with it, not copied). */
  readonly filesSkipped: number;
  /** Changed paths handed to `analyze` (deleted ones included). */
  readonly filesAnalyzed: number;
  /**
   * Live chunks in the files carried forward. The name is historical: since schema version
   * 5 they are shared with the base by reference, not copied.
   */
  readonly chunksCopied: number;
  readonly durationMs: number;
}

/** Limits of one {@link ChunkStore.maintain} step (defaults keep each step at a few ms). */
export interface MaintainOptions {
  /** Index pages one FTS4 merge step writes (default 64). */
  readonly pages?: number;
  /** Segments a level must hold before it is merged, 2 to 16 (default 4). */
  readonly minSegments?: number;
  /** Committed texts one step adds to the index (default 128). */
  readonly texts?: number;
  /** Files one step sweeps of texts no chunk uses any more (default 32). */
  readonly files?: number;
}
