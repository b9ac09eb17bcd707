import { ShelfError } from '../errors/index.ts';
import { splitId } from './chunk-ids.ts';
import {
  chunkRow, ensureSnapshot, findRepository, findSnapshot, hashChunks, requireRepository, requireSnapshot, softDeleteFile,
  upsertChunks, upsertDependency, upsertFileMetadata,
} from './chunk-writes.ts';
import { dependenciesFrom, dependenciesTo, transitiveDependencies } from './graph-queries.ts';
import {
  chunkColumns, fileMetadataColumns, REPOSITORY_COLUMNS, SNAPSHOT_COLUMNS, toChunk, toFileMetadata, toRepository,
  toSnapshot, type ChunkRow, type FileMetadataRow, type RepositoryRow, type SnapshotRow,
} from './rows.ts';
import { catchUpIndex, indexBacklog, indexBehind, mergeDue, mergeStep, type IndexBacklog } from './fts-upkeep.ts';
import { searchChunks } from './search.ts';
import type { JournalStatement, SqlDb } from './sql-db.ts';
import type {
  Chunk, ChunkInput, Dependency, DependencyInput, FileMetadata, FileMetadataInput, MaintainOptions, ReadOptions, Repository, SearchHit,
  SearchOptions, Snapshot, TransitiveDependency,
} from './types.ts';
import {
  checkChunk, checkChunks, checkDependencies, checkFileMetadata, checkInteger, checkName, checkObject,
  checkOptionalString, checkReadOptions, checkSearchOptions, checkText,
} from './validate.ts';

/** Limits of one {@link ChunkStore.maintain} step: each is a few ms of work. */
const DEFAULT_UPKEEP: Required<MaintainOptions> = { files: 32, texts: 128, pages: 64, minSegments: 4 };

const LIVE = (options?: ReadOptions) => (options?.includeDeleted ? '' : ' AND c.is_deleted = 0');
const CHUNK_ORDER = 'ORDER BY f.path, c.start_line, c.fqn, id';
// Chunks of snapshot ?1, through its file map.
const SNAPSHOT_CHUNKS = `SELECT ${chunkColumns('c', 'f')} FROM snapshot_files f JOIN chunks c ON c.version_id = f.version_id
  WHERE f.snapshot_id = ?1`;
const SQL = {
  chunkAt: `SELECT ${chunkColumns('c', 'f')} FROM chunks c JOIN snapshot_files f ON f.version_id = c.version_id
    WHERE c.id = ?2 AND f.snapshot_id = ?1`,
  // Versions defining the FQN first (CROSS JOIN fixes the order), then which one the snapshot maps.
  byFqn: `SELECT ${chunkColumns('c', 'f')} FROM chunks c CROSS JOIN snapshot_files f ON f.version_id = c.version_id
    WHERE c.fqn = ?2 AND f.snapshot_id = ?1`,
  metadata: `SELECT ${fileMetadataColumns('f', 'v')} FROM snapshot_files f JOIN file_versions v ON v.id = f.version_id
    WHERE f.snapshot_id = ?1 AND v.content_hash IS NOT NULL`,
} as const;

/**
 * The low-level snapshot store: repositories, snapshots, chunks, dependency edges, file
 * metadata and full-text search over one in-memory sql.js database.
 *
 * - Repositories are named by `name`, snapshots by commit hash within their repository.
 *   Naming a repository or snapshot that does not exist is `NOT_FOUND`; bad input is
 *   `INVALID_ARGUMENT` naming the argument, refused before anything is written.
 * - Chunks are never removed, only soft-deleted; saving a chunk again (same snapshot, file
 *   and FQN) updates it in place and revives it. Reads skip soft-deleted chunks unless
 *   `includeDeleted` is set.
 * - Each write is one SQLite transaction (a batch is all-or-nothing) and is reported to the
 *   `onCommit` hook given at open.
 *
 * @example
 * ```ts
 * const store = await openChunkStore();
 * await store.saveRepository('app');
 * await store.createSnapshot('app', 'c0ffee');
 * await store.saveChunks('app', 'c0ffee', chunks);
 * const hits = await store.searchContent('login', { snapshot: { repo: 'app', commit: 'c0ffee' } });
 * ```
 */
export class ChunkStore {
  readonly #db: SqlDb;
  readonly #now: () => number;

  /** @internal Use {@link openChunkStore} or {@link openSnapshotStore}. */
  constructor(db: SqlDb, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** Creates the repository or updates its `url` (when given); returns it. */
  async saveRepository(name: string, options?: { url?: string | null }): Promise<Repository> {
    checkName(name, 'name');
    checkObject(options, 'options');
    checkOptionalString(options?.url, 'options.url');
    const hasUrl = options?.url !== undefined;
    const now = this.#now();
    return this.#db.commit(() => {
      this.#db.run(
        `INSERT INTO repositories (name, url, created) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET url = CASE WHEN ?4 THEN excluded.url ELSE url END`,
        [name, options?.url ?? null, now, hasUrl ? 1 : 0],
      );
      return toRepository(findRepository(this.#db, name)!);
    });
  }

  /** The repository named `name`, or `undefined`. */
  async getRepository(name: string): Promise<Repository | undefined> {
    checkName(name, 'name');
    const row = findRepository(this.#db, name);
    return row && toRepository(row);
  }

  /** Every repository, by name. */
  async listRepositories(): Promise<Repository[]> {
    return this.#db.query<RepositoryRow>(`SELECT ${REPOSITORY_COLUMNS} FROM repositories ORDER BY name`).map(toRepository);
  }

  /**
   * Creates the snapshot `commit` of `repo`, or returns the existing one unchanged.
   * `options.parent` names the parent snapshot by commit hash.
   */
  async createSnapshot(repo: string, commit: string, options?: { branch?: string | null; parent?: string }): Promise<Snapshot> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    checkObject(options, 'options');
    checkOptionalString(options?.branch, 'options.branch');
    if (options?.parent !== undefined) checkName(options.parent, 'options.parent');
    const now = this.#now();
    return this.#db.commit(() => {
      const repoRow = requireRepository(this.#db, repo);
      let parentId: number | null = null;
      if (options?.parent !== undefined) parentId = requireSnapshot(this.#db, repo, options.parent, 'options.parent').id;
      return toSnapshot(ensureSnapshot(this.#db, repoRow.id, commit, options?.branch ?? null, parentId, now));
    });
  }

  /** The snapshot `commit` of `repo`, or `undefined`; an unknown `repo` is `NOT_FOUND`. */
  async getSnapshot(repo: string, commit: string): Promise<Snapshot | undefined> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    const row = findSnapshot(this.#db, requireRepository(this.#db, repo).id, commit);
    return row && toSnapshot(row);
  }

  /** The snapshots of `repo`, oldest first. */
  async listSnapshots(repo: string): Promise<Snapshot[]> {
    checkName(repo, 'repo');
    const repoRow = requireRepository(this.#db, repo);
    return this.#db.query<SnapshotRow>(
      `SELECT ${SNAPSHOT_COLUMNS} FROM snapshots WHERE repo_id = ?1 ORDER BY created, id`, [repoRow.id],
    ).map(toSnapshot);
  }

  /** Inserts or updates (reviving) one chunk of a snapshot; returns it as stored. */
  async saveChunk(repo: string, commit: string, chunk: ChunkInput): Promise<Chunk> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    checkChunk(chunk, 'chunk');
    const hashed = hashChunks([chunk]);
    const now = this.#now();
    return this.#db.commit(() => {
      const snapshot = requireSnapshot(this.#db, repo, commit);
      const [id] = upsertChunks(this.#db, snapshot, hashed, now);
      // Read back inside the transaction, so the result is exactly what this call wrote.
      const { row } = chunkRow(this.#db, snapshot.id, splitId(id!).key)!;
      return toChunk(this.#db.get<ChunkRow>(SQL.chunkAt, [snapshot.id, row])!);
    });
  }

  /**
   * Inserts or updates many chunks in one transaction: all or nothing. When two entries
   * share file and FQN the later one wins. Returns the ids in input order.
   */
  async saveChunks(repo: string, commit: string, chunks: readonly ChunkInput[]): Promise<number[]> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    checkChunks(chunks, 'chunks');
    const hashed = hashChunks(chunks);
    const now = this.#now();
    return this.#db.commit(() => {
      const snapshot = requireSnapshot(this.#db, repo, commit);
      return upsertChunks(this.#db, snapshot, hashed, now);
    });
  }

  /** The chunk with this id, or `undefined` (also when soft-deleted, unless asked). */
  async getChunk(id: number, options?: ReadOptions): Promise<Chunk | undefined> {
    checkInteger(id, 'id', 1);
    checkReadOptions(options);
    const { snapshotId, key } = splitId(id);
    const found = snapshotId > 0 ? chunkRow(this.#db, snapshotId, key) : undefined;
    if (!found || (found.deleted !== 0 && !options?.includeDeleted)) return undefined;
    return toChunk(this.#db.get<ChunkRow>(SQL.chunkAt, [snapshotId, found.row])!);
  }

  /** The chunks of a snapshot, by file path and position. */
  async getChunks(repo: string, commit: string, options?: ReadOptions): Promise<Chunk[]> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    checkReadOptions(options);
    const snapshot = requireSnapshot(this.#db, repo, commit);
    return this.#db.query<ChunkRow>(`${SNAPSHOT_CHUNKS}${LIVE(options)} ${CHUNK_ORDER}`, [snapshot.id]).map(toChunk);
  }

  /** The chunks of one file of a snapshot, by position. */
  async getChunksByFile(repo: string, commit: string, path: string, options?: ReadOptions): Promise<Chunk[]> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    checkName(path, 'path');
    checkReadOptions(options);
    const snapshot = requireSnapshot(this.#db, repo, commit);
    return this.#db.query<ChunkRow>(
      `${SNAPSHOT_CHUNKS} AND f.path = ?2${LIVE(options)} ${CHUNK_ORDER}`, [snapshot.id, path],
    ).map(toChunk);
  }

  /** The chunk named `fqn` in a snapshot (the first by file path if several files define it). */
  async getChunkByFqn(repo: string, commit: string, fqn: string, options?: ReadOptions): Promise<Chunk | undefined> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    checkName(fqn, 'fqn');
    checkReadOptions(options);
    const snapshot = requireSnapshot(this.#db, repo, commit);
    const row = this.#db.get<ChunkRow>(
      `${SQL.byFqn}${LIVE(options)} ORDER BY c.is_deleted, f.path LIMIT 1`, [snapshot.id, fqn],
    );
    return row && toChunk(row);
  }

  /** Soft-deletes every live chunk of one file; returns how many. */
  async softDeleteFileChunks(repo: string, commit: string, path: string): Promise<number> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    checkName(path, 'path');
    const now = this.#now();
    return this.#db.commit(() => {
      const snapshot = requireSnapshot(this.#db, repo, commit);
      return softDeleteFile(this.#db, snapshot, path, now);
    });
  }

  /**
   * Adds edges in one transaction (an edge that exists is kept). Each belongs to the
   * snapshot of its `fromChunkId`, which must be a live chunk (`NOT_FOUND` otherwise).
   * Returns the edge ids in input order.
   */
  async saveDependencies(deps: readonly DependencyInput[]): Promise<number[]> {
    checkDependencies(deps, 'deps');
    return this.#db.commit(() => deps.map((d, i) => {
      const { snapshotId, key } = splitId(d.fromChunkId);
      const from = snapshotId > 0 ? chunkRow(this.#db, snapshotId, key) : undefined;
      const snapshot = from && from.deleted === 0
        ? this.#db.get<SnapshotRow>(`SELECT ${SNAPSHOT_COLUMNS} FROM snapshots WHERE id = ?1`, [snapshotId])
        : undefined;
      if (!from || !snapshot) throw new ShelfError('NOT_FOUND', `deps[${i}].fromChunkId: no live chunk ${d.fromChunkId}`);
      return upsertDependency(this.#db, snapshot, key, from.path, d.toFqn, d.kind);
    }));
  }

  /** Edges leaving a chunk (none when it is soft-deleted or unknown). */
  async getDependenciesFrom(chunkId: number): Promise<Dependency[]> {
    checkInteger(chunkId, 'chunkId', 1);
    return dependenciesFrom(this.#db, chunkId);
  }

  /** Edges from live chunks that resolve to this chunk. */
  async getDependenciesTo(chunkId: number): Promise<Dependency[]> {
    checkInteger(chunkId, 'chunkId', 1);
    return dependenciesTo(this.#db, chunkId);
  }

  /**
   * Every live chunk reachable from `chunkId` in at most `maxDepth` edges, each once with
   * its shortest distance, nearest first. Cycles are safe; the start chunk is not listed.
   */
  async getTransitiveDependencies(chunkId: number, maxDepth: number): Promise<TransitiveDependency[]> {
    checkInteger(chunkId, 'chunkId', 1);
    checkInteger(maxDepth, 'maxDepth', 1, 1000);
    return transitiveDependencies(this.#db, chunkId, maxDepth);
  }

  /**
   * Full-text search (FTS4 query syntax) over live chunks' content, FQN and path, ranked by
   * BM25, with a highlighted snippet per hit. Sees every commit made before it: texts the
   * index has not taken in yet (see {@link maintain}) are indexed first, as one journaled
   * commit.
   */
  async searchContent(query: string, options?: SearchOptions): Promise<SearchHit[]> {
    checkText(query, 'query');
    checkSearchOptions(options);
    if (indexBehind(this.#db)) await this.#db.commit(() => catchUpIndex(this.#db));
    return searchChunks(this.#db, query, options);
  }

  /**
   * One bounded step of full-text index upkeep, meant for idle time (the durable store runs
   * it on a timer once commits go quiet). Commits do not index: they list their new texts
   * and the files whose old texts may be orphaned, and this step catches up — sweeping up
   * to `files` files' orphaned texts and indexing up to `texts` new ones — or, when the
   * index is current, merges FTS4 segments: a level holding at least `minSegments` of them
   * (or an unfinished merge), writing about `pages` index pages. Each step is its own small
   * commit, journaled like any other, and never changes search results. Resolves `true`
   * when it did something (call again until it resolves `false`), `false` when nothing was
   * due (then nothing is written or journaled).
   */
  async maintain(options?: MaintainOptions): Promise<boolean> {
    checkObject(options, 'options');
    const pages = options?.pages ?? DEFAULT_UPKEEP.pages;
    const minSegments = options?.minSegments ?? DEFAULT_UPKEEP.minSegments;
    const texts = options?.texts ?? DEFAULT_UPKEEP.texts;
    const files = options?.files ?? DEFAULT_UPKEEP.files;
    checkInteger(pages, 'options.pages', 1, 1_000_000);
    checkInteger(minSegments, 'options.minSegments', 2, 16);
    checkInteger(texts, 'options.texts', 1, 1_000_000);
    checkInteger(files, 'options.files', 1, 1_000_000);
    if (indexBehind(this.#db)) {
      await this.#db.commit(() => catchUpIndex(this.#db, files, texts));
      return true;
    }
    if (!mergeDue(this.#db, minSegments)) return false;
    await this.#db.commit(() => mergeStep(this.#db, pages, minSegments));
    return true;
  }

  /** Texts committed but not yet in the full-text index, and files not yet swept of orphaned texts. */
  async indexBacklog(): Promise<IndexBacklog> {
    return indexBacklog(this.#db);
  }

  /** Inserts or replaces the metadata of one file of a snapshot. */
  async saveFileMetadata(repo: string, commit: string, metadata: FileMetadataInput): Promise<FileMetadata> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    checkFileMetadata(metadata, 'metadata');
    const snapshotId = await this.#db.commit(() => {
      const snapshot = requireSnapshot(this.#db, repo, commit);
      upsertFileMetadata(this.#db, snapshot, metadata);
      return snapshot.id;
    });
    return { snapshotId, path: metadata.path, contentHash: metadata.contentHash, size: metadata.size,
      language: metadata.language, chunkCount: metadata.chunkCount };
  }

  /** The metadata of one file, or `undefined`. */
  async getFileMetadata(repo: string, commit: string, path: string): Promise<FileMetadata | undefined> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    checkName(path, 'path');
    const snapshot = requireSnapshot(this.#db, repo, commit);
    const row = this.#db.get<FileMetadataRow>(`${SQL.metadata} AND f.path = ?2`, [snapshot.id, path]);
    return row && toFileMetadata(row);
  }

  /** The metadata of every file of a snapshot, by path. */
  async listFileMetadata(repo: string, commit: string): Promise<FileMetadata[]> {
    checkName(repo, 'repo');
    checkName(commit, 'commit');
    const snapshot = requireSnapshot(this.#db, repo, commit);
    return this.#db.query<FileMetadataRow>(`${SQL.metadata} ORDER BY f.path`, [snapshot.id]).map(toFileMetadata);
  }

  /**
   * The database as SQLite file bytes (sql.js `export()`), openable again with
   * `openSnapshotStore({ data })`.
   */
  exportDatabase(): Uint8Array {
    return this.#db.export();
  }

  /**
   * Executes journal statements (from `onCommit`) in one transaction. Replaying the
   * statements of a run of commits onto the state before them rebuilds the same database.
   * Replayed statements are not reported to `onCommit` again.
   */
  async replay(statements: readonly JournalStatement[]): Promise<void> {
    this.#db.replay(statements);
  }

  /** Frees the database; every later call is `CLOSED`. */
  close(): void {
    this.#db.close();
  }
}
