import type { BindParams, Database, SqlJsStatic, SqlValue, Statement } from 'sql.js';
import { ShelfError } from '../errors/index.ts';

/**
 * One mutating statement as the journal sees it: the SQL text and the values bound to it,
 * positionally (`params[0]` is `?1`).
 */
export interface JournalStatement {
  readonly sql: string;
  readonly params: readonly SqlParam[];
}

/** A value that can be bound to a statement. */
export type SqlParam = string | number | null | Uint8Array;

/**
 * Called once per committed top-level transaction that wrote something, with exactly the
 * mutating statements it executed, in order. Runs right after `COMMIT`, so the in-memory
 * database already holds the change; a returned promise is awaited by the store method that
 * made the commit before that method resolves.
 */
export type CommitHook = (statements: JournalStatement[]) => void | Promise<void>;

/** What {@link SqlDb.run} reports. */
export interface RunResult {
  /** Rows changed by the statement (`sqlite3_changes`). */
  readonly changes: number;
  /** Rows produced by a `RETURNING` clause, as arrays in column order. */
  readonly rows: SqlValue[][];
}

/** Options of {@link SqlDb}. @internal */
export interface SqlDbOptions {
  readonly onCommit?: CommitHook;
}

const STATEMENT_CACHE_SIZE = 128;
const TXN_CONTROL = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;
const READ_ONLY = /^\s*(SELECT|WITH|VALUES|EXPLAIN)\b/i;
const WRITE_KEYWORD = /\b(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b/i;
const PRAGMA_READ = /^\s*PRAGMA\s+[\w.]+\s*(\(\s*[\w.]*\s*\))?\s*;?\s*$/i;

function isThenable(value: unknown): boolean {
  return value !== null && (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function';
}

/** Maps a SQLite failure to a ShelfError code. @internal */
export function sqlError(error: unknown, context: string): ShelfError {
  if (error instanceof ShelfError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/malformed|not a database|corrupt/i.test(message) && !/MATCH/.test(message)) {
    return new ShelfError('CORRUPT', `${context}: ${message}`, { cause: error });
  }
  if (/database or disk is full|out of memory/i.test(message)) {
    return new ShelfError('QUOTA_EXCEEDED', `${context}: ${message}`, { cause: error });
  }
  return new ShelfError('INTERNAL', `${context}: ${message}`, { cause: error });
}

/**
 * The single door through which the snapshot store talks to sql.js. Every mutating
 * statement goes through {@link SqlDb.run}, so a committed transaction can be reported to
 * the {@link CommitHook} as the exact list of statements it executed, and that list can be
 * {@link SqlDb.replay | replayed} to rebuild the same database from the state before it.
 *
 * Transactions are synchronous: `fn` must not await, which is also what makes each one
 * atomic with respect to other callers in the same worker.
 * @internal
 */
export class SqlDb {
  readonly #db: Database;
  readonly #onCommit: CommitHook | undefined;
  readonly #cache = new Map<string, Statement>();
  readonly #checked = new Set<string>();
  #depth = 0;
  #pending: JournalStatement[] = [];
  #replaying = false;
  #lastHook: Promise<void> | undefined;
  #closed = false;

  constructor(sqlJs: SqlJsStatic, data: Uint8Array | undefined, options: SqlDbOptions = {}) {
    this.#db = new sqlJs.Database(data && data.byteLength > 0 ? data : undefined);
    this.#onCommit = options.onCommit;
  }

  /** True while a transaction is open. */
  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  /** True once {@link close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ShelfError('CLOSED', 'snapshot database is closed');
  }

  /** Prepares (or reuses) a statement, refusing SQL that holds more than one statement. */
  #prepare(sql: string): Statement {
    const cached = this.#cache.get(sql);
    if (cached) {
      // Refresh its place so the least recently used statement is evicted first.
      this.#cache.delete(sql);
      this.#cache.set(sql, cached);
      return cached;
    }
    let count = 0;
    // The iterator frees each statement when it moves on (or on break), so it only counts.
    for (const _ of this.#db.iterateStatements(sql)) if (++count > 1) break;
    if (count !== 1) throw new ShelfError('INVALID_ARGUMENT', `sql must hold exactly one statement, got ${count > 1 ? 'more' : 'none'}`);
    const statement = this.#db.prepare(sql);
    this.#cache.set(sql, statement);
    if (this.#cache.size > STATEMENT_CACHE_SIZE) {
      const [oldestSql, oldest] = this.#cache.entries().next().value as [string, Statement];
      this.#cache.delete(oldestSql);
      oldest.free();
    }
    return statement;
  }

  #execute(sql: string, params: readonly SqlParam[], collect: 'arrays'): SqlValue[][];
  #execute(sql: string, params: readonly SqlParam[], collect: 'objects'): Record<string, SqlValue>[];
  #execute(sql: string, params: readonly SqlParam[], collect: 'arrays' | 'objects'): unknown[] {
    const statement = this.#prepare(sql);
    try {
      statement.bind(params.length ? (params as BindParams) : null);
      const rows: unknown[] = [];
      while (statement.step()) rows.push(collect === 'arrays' ? statement.get() : statement.getAsObject());
      return rows;
    } finally {
      statement.reset();
    }
  }

  #control(sql: string): void {
    this.#db.run(sql);
  }

  /**
   * Executes one mutating statement and records it for the journal. Outside a transaction
   * it runs in its own one (a promise returned by the hook is then not awaited: stores use
   * {@link commit}). Transaction control (`BEGIN`, `COMMIT`, savepoints) is refused: use
   * {@link transaction}. Mutating SQL must be deterministic — no `CURRENT_TIMESTAMP`,
   * `random()` or JS-defined functions — so that a replay writes the same rows.
   */
  run(sql: string, params: readonly SqlParam[] = []): RunResult {
    this.#assertOpen();
    if (TXN_CONTROL.test(sql)) {
      throw new ShelfError('INVALID_ARGUMENT', 'sql must not control transactions; use transaction()');
    }
    if (this.#depth === 0) return this.transaction(() => this.run(sql, params));
    let rows: SqlValue[][];
    try {
      rows = this.#execute(sql, params, 'arrays');
    } catch (error) {
      throw sqlError(error, 'snapshot store write failed');
    }
    const changes = this.#db.getRowsModified();
    // A statement that failed changed nothing (SQLite rolls back the statement), so only
    // successful ones enter the journal.
    if (!this.#replaying) this.#pending.push({ sql, params: params.slice() });
    return { changes, rows };
  }

  /** Runs a read-only statement and returns its rows as objects keyed by column name. */
  query<T = Record<string, SqlValue>>(sql: string, params: readonly SqlParam[] = []): T[] {
    this.#assertOpen();
    if (!this.#checked.has(sql)) {
      const readOnly = (READ_ONLY.test(sql) && !(/^\s*WITH\b/i.test(sql) && WRITE_KEYWORD.test(sql))) ||
        PRAGMA_READ.test(sql);
      if (!readOnly) throw new ShelfError('INVALID_ARGUMENT', 'sql passed to query() must be read-only; use run()');
      this.#checked.add(sql);
    }
    try {
      return this.#execute(sql, params, 'objects') as T[];
    } catch (error) {
      throw sqlError(error, 'snapshot store query failed');
    }
  }

  /** The first row of {@link query}, or `undefined`. */
  get<T = Record<string, SqlValue>>(sql: string, params: readonly SqlParam[] = []): T | undefined {
    return this.query<T>(sql, params)[0];
  }

  /**
   * Runs `fn` in a transaction and returns its result. A nested call becomes a savepoint:
   * if it throws, only its own statements are undone (and dropped from the journal). When
   * the outermost transaction commits and wrote something, the {@link CommitHook} receives
   * its statements. If `fn` throws, everything is rolled back and the error rethrown.
   */
  transaction<T>(fn: () => T): T {
    this.#assertOpen();
    if (this.#depth > 0) return this.#savepoint(fn);
    this.#control('BEGIN');
    this.#depth = 1;
    this.#pending = [];
    let result: T;
    try {
      result = fn();
      if (isThenable(result)) {
        throw new ShelfError('INVALID_ARGUMENT', 'fn passed to transaction() must be synchronous');
      }
      this.#control('COMMIT');
    } catch (error) {
      try {
        this.#control('ROLLBACK');
      } catch {
        // SQLite may already have rolled back (e.g. after SQLITE_FULL); nothing left to undo.
      }
      this.#pending = [];
      throw error;
    } finally {
      this.#depth = 0;
    }
    const statements = this.#pending;
    this.#pending = [];
    this.#lastHook = undefined;
    if (statements.length > 0 && this.#onCommit && !this.#replaying) this.#lastHook = this.#callHook(statements);
    return result;
  }

  #callHook(statements: JournalStatement[]): Promise<void> | undefined {
    const hook = this.#onCommit!;
    try {
      const out = hook(statements);
      if (isThenable(out)) {
        return Promise.resolve(out).catch((error: unknown) => {
          throw hookError(error);
        });
      }
    } catch (error) {
      throw hookError(error);
    }
    return undefined;
  }

  #savepoint<T>(fn: () => T): T {
    const name = `sp${this.#depth}`;
    const mark = this.#pending.length;
    this.#control(`SAVEPOINT ${name}`);
    this.#depth++;
    try {
      const result = fn();
      if (isThenable(result)) {
        throw new ShelfError('INVALID_ARGUMENT', 'fn passed to transaction() must be synchronous');
      }
      this.#control(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.#control(`ROLLBACK TO ${name}`);
      this.#control(`RELEASE ${name}`);
      this.#pending.length = mark;
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /**
   * Like {@link transaction}, but also waits for a promise the {@link CommitHook} returned,
   * so the caller resolves only once the journal has the commit.
   */
  async commit<T>(fn: () => T): Promise<T> {
    const result = this.transaction(fn);
    const hook = this.#lastHook;
    this.#lastHook = undefined;
    if (hook) await hook;
    return result;
  }

  /**
   * Executes journal statements in one transaction, as recorded: replaying the statements
   * of a sequence of commits onto the state before them gives the same database. Replayed
   * statements are not reported to the {@link CommitHook} (they are already journaled)
   * unless `options.journal` is true.
   */
  replay(statements: readonly JournalStatement[], options: { journal?: boolean } = {}): void {
    this.#assertOpen();
    checkJournal(statements);
    if (this.#depth > 0) throw new ShelfError('INVALID_ARGUMENT', 'replay() cannot run inside a transaction');
    const journal = options.journal === true;
    this.#replaying = !journal;
    try {
      this.transaction(() => {
        for (const statement of statements) this.run(statement.sql, statement.params);
      });
    } finally {
      this.#replaying = false;
    }
  }

  /** The whole database as SQLite file bytes. Not allowed inside a transaction. */
  export(): Uint8Array {
    this.#assertOpen();
    if (this.#depth > 0) throw new ShelfError('INVALID_ARGUMENT', 'exportDatabase() cannot run inside a transaction');
    try {
      return this.#db.export();
    } catch (error) {
      throw sqlError(error, 'snapshot store export failed');
    }
  }

  /**
   * Applies a connection setting such as `PRAGMA foreign_keys = ON`. Settings live in the
   * connection, not the file, so they are not journaled: whoever opens the database applies
   * them again. Not allowed inside a transaction (SQLite ignores some pragmas there).
   */
  configure(sql: string): void {
    this.#assertOpen();
    if (this.#depth > 0) throw new ShelfError('INVALID_ARGUMENT', 'configure() cannot run inside a transaction');
    this.#db.run(sql);
  }

  /** Registers a deterministic scalar SQL function (used by read queries only). */
  defineFunction(name: string, fn: (...args: SqlValue[]) => SqlValue): void {
    this.#db.create_function(name, fn);
  }

  /** Frees every statement and the database. Idempotent. */
  close(): void {
    if (this.#closed) return;
    for (const statement of this.#cache.values()) statement.free();
    this.#cache.clear();
    this.#db.close();
    this.#closed = true;
  }
}

function hookError(error: unknown): ShelfError {
  if (error instanceof ShelfError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ShelfError('INTERNAL', `onCommit hook failed after the commit: ${message}`, { cause: error });
}

function checkJournal(statements: unknown): asserts statements is JournalStatement[] {
  if (!Array.isArray(statements)) {
    throw new ShelfError('INVALID_ARGUMENT', 'statements must be an array');
  }
  statements.forEach((entry: unknown, i) => {
    const s = entry as Partial<JournalStatement> | null;
    if (s === null || typeof s !== 'object' || typeof s.sql !== 'string') {
      throw new ShelfError('INVALID_ARGUMENT', `statements[${i}].sql must be a string`);
    }
    if (!Array.isArray(s.params)) {
      throw new ShelfError('INVALID_ARGUMENT', `statements[${i}].params must be an array`);
    }
    if (TXN_CONTROL.test(s.sql)) {
      throw new ShelfError('INVALID_ARGUMENT', `statements[${i}].sql must not control transactions`);
    }
  });
}
