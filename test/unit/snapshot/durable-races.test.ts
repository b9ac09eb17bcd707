import { describe, expect, it } from 'vitest';
import { MemoryJournalFiles, ShelfError, type AppendFile } from '../../../src/index.ts';
import { openDurableSnapshotStore, type DurableSnapshotStore } from '../../../src/snapshot/index.ts';
import { chunk, sqlJs, testClock } from './helpers.ts';

/**
 * Journal files that can run a callback right after a write, hold `openAppend` at a gate,
 * fail the write of one name, and tell which append handles are still open.
 */
class TestFiles extends MemoryJournalFiles {
  onWrite: ((name: string) => Promise<void> | void) | undefined;
  gate: Promise<void> | undefined;
  failName: string | undefined;
  failRemove = false;
  readonly handles = new Map<string, number>();

  override async remove(name: string): Promise<void> {
    if (this.failRemove) throw new ShelfError('ABORTED', `simulated failure removing ${name}`);
    await super.remove(name);
  }

  override async write(name: string, bytes: Uint8Array): Promise<void> {
    if (name === this.failName) {
      this.failName = undefined;
      throw new ShelfError('ABORTED', `simulated failure writing ${name}`);
    }
    await super.write(name, bytes);
    const after = this.onWrite;
    this.onWrite = undefined;
    await after?.(name);
  }

  override async openAppend(name: string): Promise<AppendFile> {
    if (this.gate) await this.gate;
    const file = await super.openAppend(name);
    this.handles.set(name, (this.handles.get(name) ?? 0) + 1);
    const handles = this.handles;
    return {
      name,
      get size() {
        return file.size;
      },
      readAll: () => file.readAll(),
      append: (bytes) => file.append(bytes),
      truncate: (size) => file.truncate(size),
      close: () => {
        const n = (handles.get(name) ?? 0) - 1;
        if (n > 0) handles.set(name, n);
        else handles.delete(name);
        file.close();
      },
    };
  }

  /** Names of append handles opened and not closed. */
  get openHandles(): string[] {
    return [...this.handles.keys()].sort();
  }
}

const open = (files: MemoryJournalFiles, extra: { checkpointBytes?: number } = {}) =>
  openDurableSnapshotStore({ files, sqlJs: sqlJs(), now: testClock(), maintenanceDelayMs: false, ...extra });

const names = async (d: DurableSnapshotStore) => (await d.store.chunks.listRepositories()).map((r) => r.name).sort();

/** A database holding one repository, `imported`, as a `.sqlite` file. */
async function importable(): Promise<Uint8Array> {
  const d = await open(new MemoryJournalFiles());
  await d.store.chunks.saveRepository('imported');
  const bytes = d.exportDatabase();
  await d.close();
  return bytes;
}

describe('DurableSnapshotStore under racing calls and failing files', () => {
  it('an import racing close() ends with the imported database on disk when it resolved', async () => {
    const files = new TestFiles();
    const durable = await open(files);
    await durable.store.chunks.saveRepository('app');
    const bytes = await importable();
    let closing: Promise<void> | undefined;
    // Right after the import wrote its image, before it switched stores.
    files.onWrite = () => {
      closing = durable.close();
    };
    const outcome = await durable.importDatabase(bytes).then(() => 'ok', (e: ShelfError) => e.code);
    await closing;
    const again = await open(files);
    expect(await names(again)).toEqual(outcome === 'ok' ? ['imported'] : ['app']);
    expect(outcome).toBe('ok');
  });

  it('a checkpoint asked for during an import writes the imported database, not the one it replaced', async () => {
    const files = new TestFiles();
    const durable = await open(files);
    await durable.store.chunks.saveRepository('app');
    const bytes = await importable();
    let checkpoint: Promise<void> | undefined;
    files.onWrite = () => {
      checkpoint = durable.checkpoint();
    };
    await durable.importDatabase(bytes);
    await checkpoint;
    expect(await names(durable)).toEqual(['imported']);
    expect(await names(await open(files))).toEqual(['imported']);
  });

  it('a commit made while an import is under way is in the same state after reopening as it was live', async () => {
    const files = new TestFiles();
    const durable = await open(files);
    await durable.store.chunks.saveRepository('app');
    const bytes = await importable();
    files.onWrite = async () => {
      await durable.store.chunks.saveRepository('late');
    };
    await durable.importDatabase(bytes);
    await durable.store.chunks.saveRepository('after');
    const live = await names(durable);
    expect(live).toEqual(['after', 'imported']);
    expect(await names(await open(files))).toEqual(live);
  });

  it('a damaged imported checkpoint is CORRUPT, never the old database with later commits replayed onto it', async () => {
    const files = new TestFiles();
    const durable = await open(files);
    await durable.store.chunks.saveRepository('old');
    await durable.importDatabase(await importable());
    await durable.store.chunks.saveRepository('after');
    const name = `checkpoint-${durable.stats().generation}.img`;
    files.files.get(name)![100]! ^= 0xff;
    const error = await open(files).catch((e: unknown) => e as ShelfError);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('CORRUPT');
    expect((error as ShelfError).message).toContain(name);
  });

  it('an import whose journal could not be started leaves the store as it was, live and after reopening', async () => {
    const files = new TestFiles();
    const durable = await open(files);
    await durable.store.chunks.saveRepository('app');
    const bytes = await importable();
    // The image is written, then the rebase record's append is torn.
    files.onWrite = () => {
      files.tornNextAppend = 3;
    };
    await expect(durable.importDatabase(bytes)).rejects.toBeInstanceOf(ShelfError);
    await durable.store.chunks.saveRepository('later');
    expect(await names(durable)).toEqual(['app', 'later']);
    expect(await names(await open(files))).toEqual(['app', 'later']);
  });

  it('an import whose old files cannot be removed still resolves: it has taken effect', async () => {
    const files = new TestFiles();
    const durable = await open(files);
    await durable.store.chunks.saveRepository('app');
    await durable.checkpoint();
    await durable.checkpoint(); // generation 2: generation 1 becomes removable at the next
    files.failRemove = true;
    await durable.importDatabase(await importable());
    expect(await names(durable)).toEqual(['imported']);
    expect(await names(await open(files))).toEqual(['imported']);
  });

  it('a commit reported as failed is not made durable by a checkpoint waiting to start', async () => {
    const files = new TestFiles();
    const durable = await open(files);
    const s = durable.store;
    await s.chunks.saveRepository('app');
    await s.chunks.createSnapshot('app', 'c0');
    let release!: () => void;
    files.gate = new Promise((r) => (release = r));
    const checkpoint = durable.checkpoint().then(() => 'ok', (e: ShelfError) => e.code);
    files.tornNextAppend = 5;
    const failed = await s.replaceFile('app', 'c0', 'c1', 'src/x.ts', [chunk('src/x.ts', 'x.y')]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ShelfError);
    files.gate = undefined;
    release();
    expect(await checkpoint).not.toBe('ok');
    await durable.close().catch(() => undefined);
    const again = await open(files);
    expect(await again.store.chunks.getSnapshot('app', 'c1')).toBeUndefined();
    expect(await again.store.chunks.getSnapshot('app', 'c0')).toBeDefined();
  });

  it('close() racing a checkpoint that a commit started leaves no journal open, and keeps the commit', async () => {
    const files = new TestFiles();
    const durable = await open(files, { checkpointBytes: 200 });
    const s = durable.store;
    await s.chunks.saveRepository('app');
    await s.chunks.createSnapshot('app', 'c0');
    let release!: () => void;
    files.gate = new Promise((r) => (release = r));
    // Commit A passes the threshold: its checkpoint waits at the gate.
    await s.replaceFile('app', 'c0', 'c0', 'src/a.ts', [chunk('src/a.ts', 'a.a', 'a'.repeat(300))]);
    const closing = durable.close();
    // Commit B queues another checkpoint behind A's, while close waits for A's.
    await s.replaceFile('app', 'c0', 'c0', 'src/b.ts', [chunk('src/b.ts', 'b.b', 'b'.repeat(300))]);
    files.gate = undefined;
    release();
    await closing;
    await new Promise((r) => setTimeout(r, 20));
    expect(files.openHandles).toEqual([]);
    const again = await open(files);
    expect((await again.store.chunks.getChunksByFile('app', 'c0', 'src/b.ts')).map((c) => c.fqn)).toEqual(['b.b']);
  });

  it('an open that fails in replay or migration leaves no journal open, so a retry reports the same error', async () => {
    const files = new TestFiles();
    const durable = await open(files);
    await durable.store.chunks.saveRepository('app');
    await durable.close({ checkpoint: false });
    // A record that checksums but cannot replay.
    const journal = await files.openAppend('journal-0.log');
    const { encodeRecord } = await import('../../../src/codec/index.ts');
    journal.append(encodeRecord([{ sql: 'INSERT INTO no_such_table VALUES (1)', params: [] }]));
    journal.close();
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(open(files)).rejects.toMatchObject({ code: 'CORRUPT' });
      expect(files.openHandles).toEqual([]);
    }
  });

  it('a checkpoint whose image write failed is never the fallback: the older good one is kept', async () => {
    const files = new TestFiles();
    const durable = await open(files);
    const s = durable.store.chunks;
    await s.saveRepository('a');
    await durable.checkpoint(); // checkpoint-1
    await s.saveRepository('b');
    files.failName = 'checkpoint-2.img';
    await expect(durable.checkpoint()).rejects.toMatchObject({ code: 'ABORTED' });
    await s.saveRepository('c');
    await durable.checkpoint(); // checkpoint-3; checkpoint-2 never existed
    await s.saveRepository('d');
    files.files.get('checkpoint-3.img')![100]! ^= 0xff;
    const again = await open(files);
    expect(await names(again)).toEqual(['a', 'b', 'c', 'd']);
    expect(again.stats().recovery.skippedCheckpoints).toEqual(['checkpoint-3.img']);
  });
});
