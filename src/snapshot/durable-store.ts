import type { SqlJsStatic } from 'sql.js';
import { ShelfError, toShelfError } from '../errors/index.ts';
import { CheckpointJournal, type JournalFiles, type RecoveryReport } from '../opfs/index.ts';
import type { CodeSnapshotStore } from './code-snapshot-store.ts';
import { loadDefaultSqlJs, openSnapshotStore, type OpenSnapshotStoreOptions } from './open.ts';
import type { JournalStatement } from './sql-db.ts';

/** Options of {@link openDurableSnapshotStore}. */
export interface DurableSnapshotOptions extends Omit<OpenSnapshotStoreOptions, 'data' | 'onCommit'> {
  /** Where the journal and checkpoints live (OPFS in the storage worker, memory in tests). */
  readonly files: JournalFiles;
  /** Checkpoint when the journal passes this many bytes (default 16 MiB). */
  readonly checkpointBytes?: number;
  /**
   * Full-text index upkeep ({@link CodeSnapshotStore.maintain}: indexing committed texts,
   * sweeping orphaned ones, merging FTS4 segments) starts once no commit came for this many
   * ms, one small journaled step per timer turn until nothing is due, so that work happens
   * between commits instead of inside them. Under a steady stream of commits it starts
   * anyway once it has waited {@link maintenanceMaxDelayMs}, and then runs a step between
   * commits until it has caught up. Default 20; `false` turns it off (searches still see
   * every commit: they index what is pending first).
   */
  readonly maintenanceDelayMs?: number | false;
  /** The longest commits can push upkeep back, in ms (default 1000). */
  readonly maintenanceMaxDelayMs?: number;
}

const DEFAULT_MAINTENANCE_DELAY_MS = 20;
const DEFAULT_MAINTENANCE_MAX_DELAY_MS = 1000;

/** Durability statistics. */
export interface DurabilityStats {
  readonly generation: number;
  readonly journalBytes: number;
  readonly checkpoints: number;
  readonly commits: number;
  readonly recovery: RecoveryReport;
}

/**
 * The code snapshot store made durable: every commit's statements are appended to the
 * journal and flushed before the call that made it resolves (O(size of the change)), and
 * checkpoints write the whole database as a new generation in the background once the
 * journal passes `checkpointBytes`. See {@link CheckpointJournal} for files and recovery.
 *
 * Recovery replays onto a bare sql.js database and only then opens the store, so schema
 * migrations of a newer codeshelf run after the old journal has been applied, and are
 * journaled themselves.
 */
export class DurableSnapshotStore {
  #store: CodeSnapshotStore;
  readonly #journal: CheckpointJournal<JournalStatement[]>;
  readonly #open: (data: Uint8Array | undefined) => Promise<CodeSnapshotStore>;
  readonly #sql: SqlJsStatic;
  #commits = 0;
  #failed: ShelfError | undefined;
  #closed = false;
  #maintenanceDelay: number | false = DEFAULT_MAINTENANCE_DELAY_MS;
  #maintenanceMaxDelay = DEFAULT_MAINTENANCE_MAX_DELAY_MS;
  /** When upkeep first became due and was pushed back by a commit, since it last caught up. */
  #upkeepDueSince: number | undefined;
  #maintenanceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set while importDatabase swaps stores: no upkeep step may commit to either. */
  #upkeepSuspended = false;
  #maintaining = false;
  #maintenanceSteps = 0;
  /** The last error of a background checkpoint or maintenance step (the journal still holds everything). */
  lastError: unknown;

  private constructor(store: CodeSnapshotStore, journal: CheckpointJournal<JournalStatement[]>, open: (data: Uint8Array | undefined) => Promise<CodeSnapshotStore>, sql: SqlJsStatic) {
    this.#sql = sql;
    this.#store = store;
    this.#journal = journal;
    this.#open = open;
  }

  /** The store; its writes are durable when they resolve. */
  get store(): CodeSnapshotStore {
    if (this.#failed) throw this.#failed;
    return this.#store;
  }

  static async open(options: DurableSnapshotOptions): Promise<DurableSnapshotStore> {
    const { files, checkpointBytes, maintenanceDelayMs, maintenanceMaxDelayMs, ...storeOptions } = options;
    if (maintenanceDelayMs !== undefined && maintenanceDelayMs !== false && !isDelay(maintenanceDelayMs)) {
      throw new ShelfError('INVALID_ARGUMENT', 'options.maintenanceDelayMs must be a non-negative number or false');
    }
    if (maintenanceMaxDelayMs !== undefined && !isDelay(maintenanceMaxDelayMs)) {
      throw new ShelfError('INVALID_ARGUMENT', 'options.maintenanceMaxDelayMs must be a non-negative number');
    }
    const SQL: SqlJsStatic = await (storeOptions.sqlJs ?? loadDefaultSqlJs());
    let raw: InstanceType<SqlJsStatic['Database']> | undefined;
    let self: DurableSnapshotStore | undefined;
    // The recovery database is closed whichever way opening the journal ends.
    const journal = await CheckpointJournal.open<JournalStatement[]>({
      files,
      ...(checkpointBytes === undefined ? {} : { checkpointBytes }),
      load(image) {
        raw?.close(); // an older generation loaded after a newer one failed
        raw = new SQL.Database(image);
        raw.run('PRAGMA journal_mode = MEMORY'); // as the store itself runs (see open.ts)
      },
      apply(statements) {
        raw!.run('BEGIN');
        try {
          for (const s of statements) raw!.run(s.sql, s.params as (string | number | null | Uint8Array)[]);
          raw!.run('COMMIT');
        } catch (error) {
          try {
            raw!.run('ROLLBACK');
          } catch {
            // SQLite may have rolled back by itself; the replay error is what matters.
          }
          throw new ShelfError('CORRUPT', `journal replay failed: ${(error as Error).message}`, { cause: error });
        }
      },
      // Never an image of a store whose memory is ahead of its journal (a commit whose
      // append failed was reported as failed: no checkpoint may make it durable after all).
      exportImage: () => {
        if (self!.#failed) throw self!.#failed;
        return self!.#store.exportDatabase();
      },
    }).catch((error: unknown) => {
      raw?.close();
      throw error;
    });
    let recovered: Uint8Array;
    try {
      recovered = raw!.export();
    } catch (error) {
      await journal.close({ checkpoint: false });
      throw error;
    } finally {
      raw!.close();
    }
    const open = (data: Uint8Array | undefined) =>
      openSnapshotStore({
        ...storeOptions,
        sqlJs: SQL,
        ...(data && data.byteLength ? { data } : {}),
        // The image came from a checksummed checkpoint plus replay: skip the full-file check.
        checkIntegrity: false,
        onCommit: (statements) => (self ? self.#onCommit(statements) : undefined),
      });
    // Commits made while opening (migrations) are journaled once `self` exists: collect them.
    const early: JournalStatement[][] = [];
    let store: CodeSnapshotStore;
    try {
      store = await openSnapshotStore({
        ...storeOptions,
        sqlJs: SQL,
        ...(recovered.byteLength ? { data: recovered } : {}),
        checkIntegrity: false,
        onCommit: (statements) => (self ? self.#onCommit(statements) : void early.push(statements)),
      });
    } catch (error) {
      // Nothing stays open, so opening again finds the files as they were (an OPFS handle holds a lock).
      await journal.close({ checkpoint: false });
      throw error;
    }
    self = new DurableSnapshotStore(store, journal, open, SQL);
    if (maintenanceDelayMs !== undefined) self.#maintenanceDelay = maintenanceDelayMs;
    if (maintenanceMaxDelayMs !== undefined) self.#maintenanceMaxDelay = maintenanceMaxDelayMs;
    for (const statements of early) self.#onCommit(statements);
    // Upkeep a previous session left undone (it crashed or closed with a backlog) resumes.
    self.#scheduleMaintenance(self.#maintenanceDelay);
    // Recovered past a damaged checkpoint: write a good one now.
    if (journal.recovery.skippedCheckpoints.length) await journal.checkpoint();
    return self;
  }

  #onCommit(statements: JournalStatement[]): void {
    if (this.#failed) throw this.#failed;
    try {
      this.#journal.append(statements);
    } catch (error) {
      // Memory is now ahead of the disk: refuse everything until the store is reopened,
      // which recovers to the last durable commit.
      const cause = toShelfError(error, 'snapshot journal append');
      this.#failed = new ShelfError(cause.code === 'INTERNAL' ? 'ABORTED' : cause.code, `snapshot store: a commit could not be made durable (${cause.message}); reopen the store`, { cause: error });
      throw this.#failed;
    }
    this.#commits++;
    if (this.#journal.needsCheckpoint) {
      this.#journal.checkpoint().catch((error: unknown) => {
        this.lastError = error;
      });
    }
    // A caller's commit pushes upkeep back (up to the maximum delay); a maintenance step
    // schedules its own successor.
    if (!this.#maintaining && this.#maintenanceDelay !== false) {
      const now = performance.now();
      this.#upkeepDueSince ??= now;
      const overdueIn = this.#upkeepDueSince + this.#maintenanceMaxDelay - now;
      // Overdue: a step already waiting for the next turn keeps its place.
      if (overdueIn <= 0 && this.#maintenanceTimer !== undefined) return;
      this.#scheduleMaintenance(Math.max(0, Math.min(this.#maintenanceDelay, overdueIn)));
    }
  }

  #scheduleMaintenance(delay: number | false): void {
    if (this.#maintenanceTimer !== undefined) clearTimeout(this.#maintenanceTimer);
    this.#maintenanceTimer = undefined;
    if (delay === false || this.#closed || this.#failed) return;
    const timer = setTimeout(() => void this.#maintenanceStep(), delay);
    // Never keep a Node process alive for upkeep.
    (timer as { unref?: () => void }).unref?.();
    this.#maintenanceTimer = timer;
  }

  async #maintenanceStep(): Promise<void> {
    this.#maintenanceTimer = undefined;
    if (this.#closed || this.#failed || this.#upkeepSuspended) return;
    let more = false;
    try {
      more = await this.#maintainOnce();
      if (more) this.#maintenanceSteps++;
    } catch (error) {
      this.lastError = error;
    }
    // Continue on the next turn, so calls queued meanwhile run between steps.
    if (more) this.#scheduleMaintenance(0);
    else this.#upkeepDueSince = undefined;
  }

  /** One upkeep step; its commit does not push further upkeep back. */
  #maintainOnce(): Promise<boolean> {
    this.#maintaining = true;
    try {
      // The SQL runs synchronously in this call (so does the journal hook); only the result is awaited.
      return this.store.maintain();
    } finally {
      this.#maintaining = false;
    }
  }

  /**
   * Runs full-text index upkeep now, up to `steps` steps (default: until nothing is due),
   * each its own small journaled commit; normally it runs by itself once commits go quiet.
   * Resolves the number of steps that merged something.
   */
  async maintain(steps = Number.POSITIVE_INFINITY): Promise<number> {
    let done = 0;
    while (done < steps && (await this.#maintainOnce())) done++;
    return done;
  }

  /** Upkeep steps that ran on the idle timer so far. */
  get maintenanceSteps(): number {
    return this.#maintenanceSteps;
  }

  /** Writes a checkpoint now. */
  checkpoint(): Promise<void> {
    return this.#journal.checkpoint();
  }

  /** The database as a `.sqlite` file. */
  exportDatabase(): Uint8Array {
    return this.store.exportDatabase();
  }

  /**
   * Replaces the whole database with an existing `.sqlite` file (validated, and migrated
   * if older), installed as a new checkpoint generation.
   */
  async importDatabase(bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw new ShelfError('CLOSED', 'snapshot store is closed');
    if (this.#failed) throw this.#failed;
    // An upkeep step in between would commit to the old store: none runs until the new
    // store is in place.
    this.#upkeepSuspended = true;
    this.#scheduleMaintenance(false);
    try {
      const candidate = await openSnapshotStore({ sqlJs: this.#sql, data: bytes });
      const image = candidate.exportDatabase();
      candidate.close();
      // Opened before the switch, so that the switch is one synchronous step: from the first
      // commit journaled after the image, every commit goes to the new store, and the old
      // store is closed (a call still on its way to it fails with CLOSED instead of
      // committing to a database that is gone).
      const next = await this.#open(image);
      try {
        await this.#journal.checkpoint({
          image,
          onSwitch: () => {
            const old = this.#store;
            this.#store = next;
            old.close();
          },
        });
      } catch (error) {
        if (this.#store !== next) next.close();
        throw error;
      }
    } finally {
      this.#upkeepSuspended = false;
      // The imported database may come with indexing to catch up on.
      this.#scheduleMaintenance(this.#maintenanceDelay);
    }
  }

  stats(): DurabilityStats {
    return {
      generation: this.#journal.generation,
      journalBytes: this.#journal.journalBytes,
      checkpoints: this.#journal.checkpoints,
      commits: this.#commits,
      recovery: this.#journal.recovery,
    };
  }

  /** Checkpoints (unless told not to), then frees the database. */
  async close(options: { checkpoint?: boolean } = {}): Promise<void> {
    this.#closed = true;
    this.#scheduleMaintenance(false);
    try {
      await this.#journal.close({ checkpoint: !this.#failed && (options.checkpoint ?? true) });
    } finally {
      this.#store.close();
    }
  }
}

function isDelay(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && Number.isFinite(value);
}

/** Opens (recovering) a durable snapshot store; see {@link DurableSnapshotStore}. */
export function openDurableSnapshotStore(options: DurableSnapshotOptions): Promise<DurableSnapshotStore> {
  if (!options?.files) throw new ShelfError('INVALID_ARGUMENT', 'options.files is required');
  return DurableSnapshotStore.open(options);
}
