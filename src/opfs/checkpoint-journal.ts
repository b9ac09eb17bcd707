import { decodeFrameBytes, encodeFrameBytes, encodeRecord, readFrameInfo, readRecords } from '../codec/index.ts';
import { ShelfError } from '../errors/index.ts';
import type { AppendFile, JournalFiles } from './append-file.ts';

/**
 * Durability for an in-memory database that can only export itself whole (sql.js): every
 * commit appends its logical record to a journal and flushes (O(change)); a checkpoint
 * writes the whole image as a new generation now and then.
 *
 * Files, for generation g:
 * - `checkpoint-{g}.img`: a codec frame (kind `IMG1`, raw bytes, CRC-32) holding the image
 *   at the moment generation g began; generation 0 has none (the empty database);
 * - `journal-{g}.log`: records (length, CRC-32, msgpackr) committed during generation g.
 *
 * Invariant: state(g) = checkpoint(g), or equally state(g − 1) + every record of
 * journal(g − 1). A checkpoint opens journal(g + 1) and takes the image in one synchronous
 * turn (so no commit falls between them), then writes checkpoint(g + 1), and only then
 * removes the generations before the previous good checkpoint, which stays as the fallback
 * with every journal after it (a checkpoint whose write failed is never the fallback).
 * Opening replays from the newest readable checkpoint through every later journal; a torn
 * record at the end of the last journal (a write cut short by a crash) is dropped and
 * truncated. A damaged checkpoint falls back to the previous one; with none left it is
 * `CORRUPT` naming the file.
 *
 * A checkpoint given its image (an imported database) breaks the invariant on purpose. Its
 * image is written first, as a frame of kind `IMPT`, and it takes effect only once its
 * journal starts with a complete {@link REBASE} record, the last step before the switch:
 * recovery ignores an `IMPT` checkpoint without one (an import that never finished, whose
 * caller saw it fail, while later commits went on into the older journal). Falling back past
 * an import cannot rebuild it, so recovery that meets a rebase record in a journal it
 * replays is `CORRUPT` naming the damaged checkpoint.
 */
export interface CheckpointJournalOptions<R> {
  readonly files: JournalFiles;
  /** Rebuilds the database from an image (`undefined`: start empty). */
  load(image: Uint8Array | undefined): void | Promise<void>;
  /** Applies one journal record to the database. */
  apply(record: R): void;
  /** The database's full image, taken synchronously. */
  exportImage(): Uint8Array;
  /** Checkpoint once the journal passes this many bytes (default 16 MiB). */
  readonly checkpointBytes?: number;
}

/** What recovery found and did. */
export interface RecoveryReport {
  readonly generation: number;
  readonly fromCheckpoint: number | null;
  readonly replayedRecords: number;
  readonly droppedTornBytes: number;
  /** Damaged checkpoint files skipped in favour of an older generation. */
  readonly skippedCheckpoints: string[];
}

/**
 * The first record of a journal that follows a checkpoint given its image: the state before
 * it plus the journals before it do not lead to that image. Not a record of `R`.
 */
const REBASE = { codeshelfJournal: 'rebase' } as const;
const isRebase = (record: unknown) =>
  record !== null && typeof record === 'object' && !Array.isArray(record) && (record as { codeshelfJournal?: unknown }).codeshelfJournal === REBASE.codeshelfJournal;

/** Options of {@link CheckpointJournal.checkpoint}. */
export interface CheckpointOptions {
  /**
   * The image to install instead of the database's own export (an imported database). It is
   * written before the switch, and the new journal starts with a rebase record.
   */
  readonly image?: Uint8Array;
  /**
   * Called in the same synchronous turn as the switch to the new journal, before any later
   * commit can append: the place to swap the database the image stands for.
   */
  readonly onSwitch?: () => void;
}

const checkpointName = (g: number) => `checkpoint-${g}.img`;
/** Frame kinds of checkpoint files: the database's own export, and an installed (imported) image. */
const IMAGE = 'IMG1';
const IMPORTED = 'IMPT';
const journalName = (g: number) => `journal-${g}.log`;
const GEN = /^(checkpoint|journal)-(\d+)\.(img|log)$/;

export class CheckpointJournal<R> {
  readonly #options: CheckpointJournalOptions<R>;
  readonly #threshold: number;
  #generation: number;
  #journal: AppendFile;
  /** The newest generation whose checkpoint is known good (0: the empty database). */
  #good: number;
  /** Generations above the current one holding an unfinished import's files, still to remove. */
  readonly #stale = new Set<number>();
  #checkpointing: Promise<void> | undefined;
  /** Set when close() begins: no checkpoint but close's own starts after that. */
  #closing: Promise<void> | undefined;
  #closed = false;
  readonly recovery: RecoveryReport;
  checkpoints = 0;

  private constructor(options: CheckpointJournalOptions<R>, generation: number, good: number, journal: AppendFile, recovery: RecoveryReport) {
    this.#options = options;
    this.#threshold = options.checkpointBytes ?? 16 * 1024 * 1024;
    this.#generation = generation;
    this.#good = good;
    this.#journal = journal;
    this.recovery = recovery;
  }

  /** Recovers the database into memory (through `load`/`apply`) and opens the journal. */
  static async open<R>(options: CheckpointJournalOptions<R>): Promise<CheckpointJournal<R>> {
    const { files } = options;
    const generations = new Set<number>([0]);
    for (const name of await files.list()) {
      const m = GEN.exec(name);
      if (m) generations.add(Number(m[2]));
    }
    const sorted = [...generations].sort((a, b) => a - b);
    let newest = sorted[sorted.length - 1]!;
    const present = new Set(await files.list());
    const skipped: string[] = [];
    const stale = new Set<number>();
    let base: number | null = null;
    let image: Uint8Array | undefined;
    for (let i = sorted.length - 1; i >= 0; i--) {
      const g = sorted[i]!;
      const name = checkpointName(g);
      if (g === 0 && !present.has(name)) {
        base = 0;
        break;
      }
      if (!present.has(name)) continue;
      try {
        const bytes = await files.read(name);
        const kind = readFrameInfo(bytes, { name }).kind === IMPORTED ? IMPORTED : IMAGE;
        if (kind === IMPORTED && !(await rebased(files, g, present))) {
          if (g === newest) {
            // An import that never finished: nothing switched to it, so it is the newest
            // generation. Its files are leftovers; the generation before it is the newest.
            stale.add(g);
            newest = sorted[i - 1] ?? 0;
            continue;
          }
          // An older imported image whose journal is gone (a cleanup cut short): it cannot be
          // told from an import that never took effect, so it is no base to recover from.
          throw new ShelfError('CORRUPT', `${name}: an imported image without its journal`);
        }
        image = decodeFrameBytes(bytes, { kind, name });
        base = g;
        break;
      } catch (error) {
        if (!(error instanceof ShelfError) || error.code !== 'CORRUPT') throw error;
        skipped.push(name);
      }
    }
    // Replaying from `base` needs every journal from base to newest; a gap means data is gone.
    if (base === null) throw new ShelfError('CORRUPT', `${skipped[0]}: damaged, and no older generation to recover from`);
    for (let g = base; g < newest; g++) {
      if (!present.has(journalName(g))) {
        const why = skipped.length ? `${skipped[0]} is damaged and ` : '';
        throw new ShelfError('CORRUPT', `${why}${journalName(g)} is missing: cannot recover generation ${newest}`);
      }
    }
    await options.load(base === 0 && image === undefined ? undefined : image);
    let replayed = 0;
    let dropped = 0;
    let journal: AppendFile | undefined;
    let file: AppendFile | undefined;
    try {
      for (let g = base; g <= newest; g++) {
        if (!present.has(journalName(g)) && g !== newest) continue;
        file = await files.openAppend(journalName(g));
        const scan = readRecords<R>(file.readAll());
        scan.records.forEach((record, i) => {
          if (!isRebase(record)) {
            options.apply(record);
            replayed++;
          } else if (i !== 0 || g !== base) {
            // Generation g began from an image that checkpoint(g) held (an import), not from
            // the generation before it: nothing older can rebuild it.
            throw new ShelfError('CORRUPT', `${checkpointName(g)} ${skipped.includes(checkpointName(g)) ? 'is damaged' : 'is missing'} and held an imported database: cannot recover generation ${newest}`);
          }
        });
        if (g === newest) {
          if (scan.tornTail) {
            dropped = file.size - scan.validBytes;
            file.truncate(scan.validBytes);
          }
          journal = file;
        } else file.close();
        file = undefined;
      }
    } catch (error) {
      // Nothing stays open: a caller may try again (an OPFS handle holds a lock).
      file?.close();
      journal?.close();
      throw error;
    }
    const report: RecoveryReport = { generation: newest, fromCheckpoint: base === 0 && !image ? null : base, replayedRecords: replayed, droppedTornBytes: dropped, skippedCheckpoints: skipped };
    // Recovered through a damaged checkpoint? The caller should checkpoint once its database
    // is ready (`recovery.skippedCheckpoints` is non-empty).
    const opened = new CheckpointJournal(options, newest, base, journal!, report);
    for (const g of stale) await opened.#removeStale(g).catch(() => undefined); // else the next checkpoint retries
    return opened;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Bytes in the current journal. */
  get journalBytes(): number {
    return this.#journal.size;
  }

  /** True once the journal has passed the checkpoint threshold. */
  get needsCheckpoint(): boolean {
    return this.#journal.size >= this.#threshold;
  }

  /** Appends one commit's record; it is on disk when this returns. */
  append(record: R): void {
    if (this.#closed) throw new ShelfError('CLOSED', 'journal is closed');
    this.#journal.append(encodeRecord(record));
  }

  /**
   * Writes the whole image as a new generation and retires the generations before the
   * previous good checkpoint. After {@link close} has begun it is `CLOSED`.
   */
  async checkpoint(options: CheckpointOptions = {}): Promise<void> {
    while (this.#checkpointing) await this.#checkpointing.catch(() => undefined);
    if (this.#closing || this.#closed) throw new ShelfError('CLOSED', 'journal is closed');
    return this.#run(options);
  }

  #run(options: CheckpointOptions): Promise<void> {
    const run = options.image ? this.#install(options.image, options.onSwitch) : this.#doCheckpoint(options.onSwitch);
    this.#checkpointing = run.finally(() => {
      this.#checkpointing = undefined;
    });
    return this.#checkpointing;
  }

  async #doCheckpoint(onSwitch: (() => void) | undefined): Promise<void> {
    const next = this.#generation + 1;
    const journal = await this.#openNext(next);
    let image: Uint8Array;
    try {
      if (this.#closed) throw new ShelfError('CLOSED', 'journal is closed');
      image = this.#options.exportImage();
    } catch (error) {
      await this.#discard(journal);
      throw error;
    }
    // One synchronous turn: the image and the journal switch happen together.
    this.#switch(journal, next, onSwitch);
    await this.#options.files.write(checkpointName(next), encodeFrameBytes(image, { kind: IMAGE, compress: false }));
    await this.#written(next);
  }

  /** A checkpoint of a given image: written before the switch, its journal starting with {@link REBASE}. */
  async #install(image: Uint8Array, onSwitch: (() => void) | undefined): Promise<void> {
    const { files } = this.#options;
    const next = this.#generation + 1;
    if (this.#stale.has(next)) await this.#removeStale(next);
    let journal: AppendFile | undefined;
    try {
      await files.write(checkpointName(next), encodeFrameBytes(image, { kind: IMPORTED, compress: false }));
      journal = await this.#openNext(next);
      // The import takes effect here: recovery uses the image once this record is whole.
      journal.append(encodeRecord(REBASE));
    } catch (error) {
      if (journal) await this.#discard(journal);
      // Without its rebase record the image is ignored anyway; removed so it is not in the way.
      await this.#removeStale(next).catch(() => undefined);
      throw error;
    }
    this.#switch(journal, next, onSwitch);
    await this.#written(next);
  }

  /** An unfinished import's files of generation `g`: gone before anything switches to `g`. */
  async #removeStale(g: number): Promise<void> {
    this.#stale.add(g);
    const present = new Set(await this.#options.files.list());
    for (const name of [checkpointName(g), journalName(g)]) if (present.has(name)) await this.#options.files.remove(name);
    this.#stale.delete(g);
  }

  /** Opens journal(next) empty (a failed checkpoint may have left one behind). */
  async #openNext(next: number): Promise<AppendFile> {
    if (this.#stale.has(next)) await this.#removeStale(next);
    const journal = await this.#options.files.openAppend(journalName(next));
    try {
      if (journal.size > 0) journal.truncate(0);
    } catch (error) {
      journal.close();
      throw error;
    }
    return journal;
  }

  /** Closes and removes a journal a failed checkpoint opened but never switched to. */
  async #discard(journal: AppendFile): Promise<void> {
    journal.close();
    await this.#options.files.remove(journal.name).catch(() => undefined);
  }

  #switch(journal: AppendFile, next: number, onSwitch: (() => void) | undefined): void {
    const old = this.#journal;
    this.#journal = journal;
    this.#generation = next;
    old.close();
    onSwitch?.();
  }

  /**
   * Checkpoint(next) is on disk: the previous good one becomes the fallback, anything older
   * goes. Best effort: the checkpoint is done (an import has taken effect), so a file that
   * cannot be removed now stays, harmless, and goes with a later checkpoint.
   */
  async #written(next: number): Promise<void> {
    this.checkpoints++;
    const fallback = this.#good;
    this.#good = next;
    try {
      for (const name of await this.#options.files.list()) {
        const m = GEN.exec(name);
        if (m && Number(m[2]) < fallback) await this.#options.files.remove(name).catch(() => undefined);
      }
    } catch {
      // Listing failed: the next checkpoint lists again.
    }
  }

  /** Optionally checkpoints, then releases the journal file. */
  close(options: { checkpoint?: boolean } = {}): Promise<void> {
    // A second call while the first runs waits for the same close.
    this.#closing ??= (async () => {
      try {
        while (this.#checkpointing) await this.#checkpointing.catch(() => undefined);
        if (options.checkpoint ?? true) await this.#run({});
      } finally {
        this.#closed = true;
        this.#journal.close();
      }
    })();
    return this.#closing;
  }
}

/** Whether journal(g) exists and starts with a complete {@link REBASE} record. */
async function rebased(files: JournalFiles, g: number, present: ReadonlySet<string>): Promise<boolean> {
  if (!present.has(journalName(g))) return false;
  const first = readRecords(await files.read(journalName(g)), 1).records[0];
  return isRebase(first);
}
