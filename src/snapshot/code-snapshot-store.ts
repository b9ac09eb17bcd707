import { ShelfError } from '../errors/index.ts';
import { ChunkStore } from './chunk-store.ts';
import {
  ensureSnapshot, findSnapshot, ownFiles, prepareFile, requireSnapshot, writeFile, type PreparedFile,
} from './chunk-writes.ts';
import { diffSnapshots } from './commit-diff.ts';
import { shareUnchangedFiles } from './incremental-copy.ts';
import { toSnapshot } from './rows.ts';
import type { JournalStatement, SqlDb } from './sql-db.ts';
import type {
  AnalyzeFile, CommitDiff, FileChunkInput, FileDependencyInput, FileInfo, IncrementalStats, MaintainOptions,
  ReplaceFileResult,
} from './types.ts';
import { checkArray, checkName, checkObject, checkOptionalString } from './validate.ts';

/**
 * The commit-level API over a {@link ChunkStore}: replace one file atomically, diff two
 * commits by FQN, and derive a snapshot from its parent by re-analyzing only the files that
 * changed. Each operation is one SQLite transaction: it happens completely or not at all.
 *
 * @example
 * ```ts
 * const store = await openSnapshotStore();
 * await store.chunks.saveRepository('app');
 * await store.chunks.createSnapshot('app', 'c1');
 * await store.replaceFile('app', 'c1', 'c1', 'src/auth.ts', chunks, deps);
 * const stats = await store.createIncrementalSnapshot('app', 'c1', 'c2', ['src/auth.ts'], analyze);
 * const diff = await store.compareCommits('app', 'c1', 'c2');
 * ```
 */
export class CodeSnapshotStore {
  /** The low-level API over the same database. */
  readonly chunks: ChunkStore;
  readonly #db: SqlDb;
  readonly #now: () => number;

  /** @internal Use {@link openSnapshotStore}. */
  constructor(db: SqlDb, now: () => number) {
    this.#db = db;
    this.#now = now;
    this.chunks = new ChunkStore(db, now);
  }

  /**
   * Makes file `path` of snapshot `next` hold exactly `chunks` (or nothing, when `chunks` is
   * `null`): their chunks are upserted (reviving soft-deleted ones), the file's other chunks
   * are soft-deleted, the edges leaving the file are replaced by `deps` and its metadata is
   * rewritten (edges pointing into it resolve by FQN when read). When `next` does not exist it is
   * created with `base` as its parent (and nothing else copied); `base` may equal `next`.
   *
   * Atomic (one transaction: a failure midway leaves everything as it was) and idempotent
   * (running it twice leaves the same rows, timestamps included).
   */
  async replaceFile(
    repo: string, base: string, next: string, path: string, chunks: readonly FileChunkInput[] | null,
    deps: readonly FileDependencyInput[] = [], file?: FileInfo,
  ): Promise<ReplaceFileResult> {
    checkName(repo, 'repo');
    checkName(base, 'base');
    checkName(next, 'next');
    checkName(path, 'path');
    let prepared: PreparedFile | null = null;
    if (chunks === null) {
      checkArray(deps, 'deps');
      if (deps.length > 0) throw new ShelfError('INVALID_ARGUMENT', 'deps must be empty when chunks is null');
    } else {
      prepared = await prepareFile(path, chunks, deps, file, { chunks: 'chunks', deps: 'deps', file: 'file' });
    }
    const now = this.#now();
    return this.#db.commit(() => {
      const baseRow = requireSnapshot(this.#db, repo, base, 'base');
      const snapshot = findSnapshot(this.#db, baseRow.repo_id, next) ??
        ensureSnapshot(this.#db, baseRow.repo_id, next, baseRow.branch, baseRow.id, now);
      const { chunkIds, softDeleted } = writeFile(this.#db, snapshot, path, prepared, now);
      return { snapshot: toSnapshot(snapshot), chunkIds, softDeleted };
    });
  }

  /**
   * The semantic diff from snapshot `a` to snapshot `b` of `repo`, keyed by FQN: chunks
   * added, modified (content hash differs) and deleted, and per-file counts. See
   * {@link diffChunks} for how FQNs defined in several files are paired.
   */
  async compareCommits(repo: string, a: string, b: string): Promise<CommitDiff> {
    checkName(repo, 'repo');
    checkName(a, 'a');
    checkName(b, 'b');
    const before = requireSnapshot(this.#db, repo, a, 'a');
    const after = requireSnapshot(this.#db, repo, b, 'b');
    return diffSnapshots(this.#db, before.id, after.id);
  }

  /**
   * Creates snapshot `next` (parent `base`) from `base` plus the files in `changedPaths`.
   * Files not in the list are carried forward inside SQLite without being read into
   * JavaScript or copied: `next` maps them to the base's file versions (one small row per
   * file; a later write to one of them through either snapshot copies it first); `analyze(path)` runs once per changed path (in
   * order, before the write transaction starts) and returns the file's chunks, edges and
   * facts, or `null` when the file no longer exists. Everything is written in one
   * transaction. `next` must not exist yet (`INVALID_ARGUMENT`); an error thrown by
   * `analyze` reaches the caller unchanged and nothing is written.
   */
  async createIncrementalSnapshot(
    repo: string, base: string, next: string, changedPaths: readonly string[], analyze: AnalyzeFile,
    options?: { branch?: string | null },
  ): Promise<IncrementalStats> {
    const started = performance.now();
    checkName(repo, 'repo');
    checkName(base, 'base');
    checkName(next, 'next');
    checkArray(changedPaths, 'changedPaths');
    changedPaths.forEach((p, i) => checkName(p, `changedPaths[${i}]`));
    if (typeof analyze !== 'function') throw new ShelfError('INVALID_ARGUMENT', 'analyze must be a function');
    checkObject(options, 'options');
    checkOptionalString(options?.branch, 'options.branch');
    const paths = [...new Set(changedPaths)];
    this.#checkTargets(repo, base, next); // fail before running any analysis

    const files: PreparedFile[] = [];
    for (const path of paths) {
      const label = `analyze(${JSON.stringify(path)})`;
      const result = await analyze(path);
      if (result === null) continue;
      checkObject(result, label, false);
      files.push(await prepareFile(path, result.chunks, result.dependencies, result.file, {
        chunks: `${label}.chunks`, deps: `${label}.dependencies`, file: `${label}.file`,
      }));
    }

    const now = this.#now();
    return this.#db.commit(() => {
      const baseRow = this.#checkTargets(repo, base, next);
      const branch = options?.branch !== undefined ? options.branch : baseRow.branch;
      const snapshot = ensureSnapshot(this.#db, baseRow.repo_id, next, branch, baseRow.id, now);
      const shared = shareUnchangedFiles(this.#db, baseRow.id, snapshot.id, paths);
      // Changed paths were not shared: each written file gets a new empty version first, all
      // in one step, and is then written without copy or clean-up checks.
      ownFiles(this.#db, snapshot, files.map((f) => f.path), true);
      for (const file of files) writeFile(this.#db, snapshot, file.path, file, now, true);
      return {
        snapshot: toSnapshot(snapshot),
        filesSkipped: shared.files,
        filesAnalyzed: paths.length,
        chunksCopied: shared.chunks,
        durationMs: performance.now() - started,
      };
    });
  }

  #checkTargets(repo: string, base: string, next: string) {
    const baseRow = requireSnapshot(this.#db, repo, base, 'base');
    if (findSnapshot(this.#db, baseRow.repo_id, next)) {
      throw new ShelfError('INVALID_ARGUMENT', `next: repository "${repo}" already has a snapshot "${next}"`);
    }
    return baseRow;
  }

  /** One bounded step of full-text index upkeep; see {@link ChunkStore.maintain}. */
  maintain(options?: MaintainOptions): Promise<boolean> {
    return this.chunks.maintain(options);
  }

  /** The database as SQLite file bytes; see {@link ChunkStore.exportDatabase}. */
  exportDatabase(): Uint8Array {
    return this.chunks.exportDatabase();
  }

  /** Replays journal statements; see {@link ChunkStore.replay}. */
  replay(statements: readonly JournalStatement[]): Promise<void> {
    return this.chunks.replay(statements);
  }

  /** Frees the database; every later call is `CLOSED`. */
  close(): void {
    this.chunks.close();
  }
}
