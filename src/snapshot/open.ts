import type { InitSqlJsStatic, SqlJsConfig, SqlJsStatic } from 'sql.js';
import { ShelfError } from '../errors/index.ts';
import { ChunkStore } from './chunk-store.ts';
import { CodeSnapshotStore } from './code-snapshot-store.ts';
import { loadHasher } from './content-hash.ts';
import { createGlobMatcher } from './path-glob.ts';
import { bm25, FTS_WEIGHTS } from './ranking.ts';
import { migrate, readSchemaVersion } from './schema.ts';
import { GLOB_FUNCTION, RANK_FUNCTION } from './search.ts';
import { SqlDb, type CommitHook } from './sql-db.ts';

/** Options of {@link openSnapshotStore} and {@link openChunkStore}. */
export interface OpenSnapshotStoreOptions {
  /**
   * The initialized sql.js module (or a promise of it). Default: `initSqlJs()` from the
   * `sql.js` package, loaded lazily and shared. A browser worker passes its own, built with
   * a `locateFile` that finds the `.wasm` file.
   */
  readonly sqlJs?: SqlJsStatic | Promise<SqlJsStatic>;
  /** An existing database file (from `exportDatabase()`); omitted or empty opens a new one. */
  readonly data?: Uint8Array;
  /** Receives the statements of every commit, schema migrations included. */
  readonly onCommit?: CommitHook;
  /** The clock for `created`/`updated` (ms since the epoch). Default `Date.now`. */
  readonly now?: () => number;
  /** Run `PRAGMA quick_check` on `data` before use (default true). */
  readonly checkIntegrity?: boolean;
}

const SQLITE_MAGIC = 'SQLite format 3\u0000';
let defaultSqlJs: Promise<SqlJsStatic> | undefined;

/** `initSqlJs()` once per realm; a failed load is retried on the next call. @internal */
export function loadDefaultSqlJs(): Promise<SqlJsStatic> {
  defaultSqlJs ??= import('sql.js').then((mod) => {
    // The package is CommonJS: depending on the bundler the function is the module or its default.
    const loaded = mod as unknown as InitSqlJsStatic & { default?: InitSqlJsStatic };
    const init = loaded.default ?? loaded;
    // Native SQLite functions instead of sql.js's deprecated legacy extension functions.
    return init({ useOldExtensionFunctions: false } as SqlJsConfig);
  }).catch((error: unknown) => {
    defaultSqlJs = undefined;
    throw new ShelfError('INTERNAL', 'could not load sql.js', { cause: error });
  });
  return defaultSqlJs;
}

/** Refuses bytes that cannot be a SQLite database file before sql.js sees them. */
function checkDatabaseBytes(data: unknown): asserts data is Uint8Array | undefined {
  if (data === undefined) return;
  if (!(data instanceof Uint8Array)) throw new ShelfError('INVALID_ARGUMENT', 'options.data must be a Uint8Array');
  if (data.byteLength === 0) return;
  let magic = '';
  for (let i = 0; i < SQLITE_MAGIC.length && i < data.byteLength; i++) magic += String.fromCharCode(data[i]!);
  if (data.byteLength < 100 || magic !== SQLITE_MAGIC) {
    throw new ShelfError('CORRUPT', 'options.data is not a SQLite database (bad header)');
  }
  const raw = (data[16]! << 8) | data[17]!;
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) {
    throw new ShelfError('CORRUPT', `options.data has an invalid SQLite page size (${raw})`);
  }
  if (data.byteLength % pageSize !== 0) {
    throw new ShelfError('CORRUPT', `options.data is ${data.byteLength} bytes, not a whole number of ${pageSize}-byte pages`);
  }
}

/** Reads an existing database once, so that bytes sql.js cannot use fail as `CORRUPT`. */
function checkExisting(db: SqlDb, quickCheck: boolean): void {
  try {
    if (quickCheck) {
      const problems = db.query<{ quick_check: string }>('PRAGMA quick_check');
      if (problems.length !== 1 || problems[0]!.quick_check !== 'ok') {
        const detail = problems.slice(0, 5).map((p) => p.quick_check).join('; ');
        throw new ShelfError('CORRUPT', `options.data failed the integrity check: ${detail}`);
      }
    }
    readSchemaVersion(db);
  } catch (error) {
    if (error instanceof ShelfError && error.code !== 'INTERNAL') throw error;
    throw new ShelfError('CORRUPT', 'options.data could not be read as a SQLite database', { cause: error });
  }
}

async function openDb(options: OpenSnapshotStoreOptions): Promise<{ db: SqlDb; now: () => number }> {
  if (options === null || typeof options !== 'object') throw new ShelfError('INVALID_ARGUMENT', 'options must be an object');
  checkDatabaseBytes(options.data);
  if (options.onCommit !== undefined && typeof options.onCommit !== 'function') {
    throw new ShelfError('INVALID_ARGUMENT', 'options.onCommit must be a function');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new ShelfError('INVALID_ARGUMENT', 'options.now must be a function');
  }
  const now = options.now ?? Date.now;
  // The hasher too, so no write of this store ever waits for it (see content-hash.ts).
  const [sqlJs] = await Promise.all([options.sqlJs ?? loadDefaultSqlJs(), loadHasher()]);
  const db = new SqlDb(sqlJs, options.data, { onCommit: options.onCommit });
  try {
    db.configure('PRAGMA foreign_keys = ON');
    db.defineFunction(RANK_FUNCTION, (matchinfo) => bm25(matchinfo as Uint8Array, FTS_WEIGHTS));
    db.defineFunction(GLOB_FUNCTION, createGlobMatcher());
    if (options.data && options.data.byteLength > 0) checkExisting(db, options.checkIntegrity !== false);
    // The database file lives in sql.js's in-memory file system and durability comes from
    // the store's own journal, so SQLite's rollback journal only has to support ROLLBACK:
    // keeping it in memory instead of writing it as a file takes about a third off a commit.
    db.configure('PRAGMA journal_mode = MEMORY');
    db.configure('PRAGMA temp_store = MEMORY');
    await migrate(db, now());
  } catch (error) {
    db.close();
    throw error;
  }
  return { db, now };
}

/**
 * Opens the code snapshot store on an in-memory sql.js database: a new one, or `data`
 * exported earlier. Older schemas are migrated forward; a newer schema is
 * `UNSUPPORTED_VERSION` and bytes that are not a snapshot database are `CORRUPT`.
 *
 * @example
 * ```ts
 * const store = await openSnapshotStore({ onCommit: (statements) => journal.append(statements) });
 * await store.chunks.saveRepository('app');
 * const bytes = store.exportDatabase();
 * const again = await openSnapshotStore({ data: bytes });
 * ```
 */
export async function openSnapshotStore(options: OpenSnapshotStoreOptions = {}): Promise<CodeSnapshotStore> {
  const { db, now } = await openDb(options);
  return new CodeSnapshotStore(db, now);
}

/** Opens only the low-level {@link ChunkStore}; see {@link openSnapshotStore}. */
export async function openChunkStore(options: OpenSnapshotStoreOptions = {}): Promise<ChunkStore> {
  const { db, now } = await openDb(options);
  return new ChunkStore(db, now);
}
