import { decodeFrameBytes, encodeFrameBytes, encodeRecord, readRecords } from '../codec/index.ts';
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
 * removes generation g − 1; generation g stays as the fallback. Opening replays from the
 * newest readable checkpoint through every later journal; a torn record at the end of the
 * last journal (a write cut short by a crash) is dropped and truncated. A damaged
 * checkpoint falls back to the previous one; with none left it is `CORRUPT` naming the file.
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

const checkpointName = (g: number) => `checkpoint-${g}.img`;
const journalName = (g: number) => `journal-${g}.log`;
const GEN = /^(checkpoint|journal)-(\d+)\.(img|log)$/;

export class CheckpointJournal<R> {
  readonly #options: CheckpointJournalOptions<R>;
  readonly #threshold: number;
  #generation: number;
  #journal: AppendFile;
  #checkpointing: Promise<void> | undefined;
  #closed = false;
  readonly recovery: RecoveryReport;
  checkpoints = 0;

  private constructor(options: CheckpointJournalOptions<R>, generation: number, journal: AppendFile, recovery: RecoveryReport) {
    this.#options = options;
    this.#threshold = options.checkpointBytes ?? 16 * 1024 * 1024;
    this.#generation = generation;
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
    const newest = sorted[sorted.length - 1]!;
    const present = new Set(await files.list());
    const skipped: string[] = [];
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
        image = decodeFrameBytes(await files.read(name), { kind: 'IMG1', name });
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
    for (let g = base; g <= newest; g++) {
      if (!present.has(journalName(g)) && g !== newest) continue;
      const file = await files.openAppend(journalName(g));
      const scan = readRecords<R>(file.readAll());
      for (const record of scan.records) {
        options.apply(record);
        replayed++;
      }
      if (g === newest) {
        if (scan.tornTail) {
          dropped = file.size - scan.validBytes;
          file.truncate(scan.validBytes);
        }
        journal = file;
      } else file.close();
    }
    const report: RecoveryReport = { generation: newest, fromCheckpoint: base === 0 && !image ? null : base, replayedRecords: replayed, droppedTornBytes: dropped, skippedCheckpoints: skipped };
    // Recovered through a damaged checkpoint? The caller should checkpoint once its database
    // is ready (`recovery.skippedCheckpoints` is non-empty).
    return new CheckpointJournal(options, newest, journal!, report);
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
   * Writes the whole image as a new generation and retires the one before the previous.
   * `image` replaces the database's own export (to install an imported database).
   */
  async checkpoint(image?: Uint8Array): Promise<void> {
    while (this.#checkpointing) await this.#checkpointing.catch(() => undefined);
    this.#checkpointing = this.#doCheckpoint(image).finally(() => {
      this.#checkpointing = undefined;
    });
    return this.#checkpointing;
  }

  async #doCheckpoint(given?: Uint8Array): Promise<void> {
    const { files } = this.#options;
    const next = this.#generation + 1;
    const journal = await files.openAppend(journalName(next));
    // One synchronous turn: the image and the journal switch happen together.
    const image = given ?? this.#options.exportImage();
    const old = this.#journal;
    this.#journal = journal;
    this.#generation = next;
    old.close();
    await files.write(checkpointName(next), encodeFrameBytes(image, { kind: 'IMG1', compress: false }));
    this.checkpoints++;
    for (const name of await files.list()) {
      const m = GEN.exec(name);
      if (m && Number(m[2]) < next - 1) await files.remove(name);
    }
  }

  /** Optionally checkpoints, then releases the journal file. */
  async close(options: { checkpoint?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    await this.#checkpointing;
    if (options.checkpoint ?? true) await this.checkpoint();
    this.#closed = true;
    this.#journal.close();
  }
}
