import { describe, expect, it } from 'vitest';
import { MemoryJournalFiles, ShelfError } from '../../../src/index.ts';
import { openDurableSnapshotStore } from '../../../src/snapshot/index.ts';
import { chunk, dumpDatabase, sqlJs, testClock } from './helpers.ts';

const open = (files: MemoryJournalFiles, checkpointBytes?: number) =>
  openDurableSnapshotStore({ files, sqlJs: sqlJs(), now: testClock(), ...(checkpointBytes ? { checkpointBytes } : {}) });

async function seed(files: MemoryJournalFiles, commits: number, checkpointBytes?: number) {
  const durable = await open(files, checkpointBytes);
  const s = durable.store;
  await s.chunks.saveRepository('app');
  await s.chunks.createSnapshot('app', 'c0');
  for (let i = 1; i <= commits; i++) {
    await s.replaceFile('app', `c${i - 1}`, `c${i}`, `src/f${i % 4}.ts`, [chunk(`src/f${i % 4}.ts`, `mod.f${i}`, `v${i}`), chunk(`src/f${i % 4}.ts`, `mod.g${i}`)]);
  }
  return durable;
}

describe('DurableSnapshotStore', () => {
  it('recovers every acknowledged commit from the journal alone (no checkpoint)', async () => {
    const files = new MemoryJournalFiles();
    const durable = await seed(files, 12);
    const expected = await dumpDatabase(durable.exportDatabase());
    // Crash: no close, no checkpoint.
    const again = await open(files);
    expect(await dumpDatabase(again.exportDatabase())).toEqual(expected);
    expect(again.stats().recovery.replayedRecords).toBeGreaterThan(12);
    expect(again.stats().recovery.fromCheckpoint).toBeNull();
  });

  it('replays a batch split over several VALUES statements, duplicates and unusual texts included', async () => {
    const files = new MemoryJournalFiles();
    const durable = await open(files);
    await durable.store.chunks.saveRepository('app');
    await durable.store.chunks.createSnapshot('app', 'c1');
    // 600 rows: three statements of up to 256 rows each for the texts and for the chunks.
    const batch = Array.from({ length: 600 }, (_, i) => chunk(`src/f${(i % 590) % 9}.ts`, `m.c${i % 590}`, i % 50 === 0 ? '' : `t${i} é \u0000 🌍`));
    await durable.store.chunks.saveChunks('app', 'c1', batch);
    await durable.store.replaceFile('app', 'c1', 'c2', 'src/f1.ts', batch.filter((c) => c.filePath === 'src/f1.ts').slice(0, 40));
    const expected = await dumpDatabase(durable.exportDatabase());
    const again = await open(files); // no checkpoint: everything comes from the journal
    expect(again.stats().recovery.fromCheckpoint).toBeNull();
    expect(await dumpDatabase(again.exportDatabase())).toEqual(expected);
    expect((await again.store.chunks.getChunks('app', 'c1')).length).toBe(590);
  });

  it('checkpoints in the background past the threshold and recovers from checkpoint + journal', async () => {
    const files = new MemoryJournalFiles();
    const durable = await seed(files, 40, 4096);
    await new Promise((r) => setTimeout(r, 10));
    expect(durable.stats().checkpoints).toBeGreaterThan(0);
    const expected = await dumpDatabase(durable.exportDatabase());
    const again = await open(files);
    expect(await dumpDatabase(again.exportDatabase())).toEqual(expected);
    expect(again.stats().recovery.fromCheckpoint).not.toBeNull();
  });

  it('drops a torn journal tail: the half-written commit is absent, the rest present', async () => {
    const files = new MemoryJournalFiles();
    const durable = await seed(files, 5);
    const before = await dumpDatabase(durable.exportDatabase());
    files.tornNextAppend = 20;
    const error = await durable.store.replaceFile('app', 'c5', 'c6', 'src/x.ts', [chunk('src/x.ts', 'x.y')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
    // Memory ran ahead of the disk: the store refuses further use until reopened.
    expect(() => durable.store).toThrowError(/reopen/);
    const again = await open(files);
    expect(await dumpDatabase(again.exportDatabase())).toEqual(before);
    expect(again.stats().recovery.droppedTornBytes).toBe(20);
    expect(await again.store.chunks.getSnapshot('app', 'c6')).toBeUndefined();
  });

  it('falls back a generation when the newest checkpoint is damaged, and CORRUPT names it when it cannot', async () => {
    const files = new MemoryJournalFiles();
    const durable = await seed(files, 6);
    await durable.checkpoint();
    await durable.store.replaceFile('app', 'c6', 'c7', 'src/y.ts', [chunk('src/y.ts', 'y.z')]);
    await durable.checkpoint();
    await durable.store.replaceFile('app', 'c7', 'c8', 'src/y.ts', [chunk('src/y.ts', 'y.w')]);
    const expected = await dumpDatabase(durable.exportDatabase());
    const newest = [...files.files.keys()].filter((n) => n.startsWith('checkpoint')).sort().pop()!;
    files.files.get(newest)![100]! ^= 0xff;
    const again = await open(files);
    expect(await dumpDatabase(again.exportDatabase())).toEqual(expected);
    expect(again.stats().recovery.skippedCheckpoints).toEqual([newest]);

    for (const [name, bytes] of files.files) if (name.startsWith('checkpoint')) files.files.set(name, bytes.subarray(0, 10));
    const error = await open(files).catch((e: unknown) => e as ShelfError);
    expect((error as ShelfError).code).toBe('CORRUPT');
    expect((error as ShelfError).message).toMatch(/checkpoint-\d+\.img/);
  });

  it('exports a .sqlite file and imports one as a new generation', async () => {
    const files = new MemoryJournalFiles();
    const durable = await seed(files, 3);
    const bytes = durable.exportDatabase();
    const other = await open(new MemoryJournalFiles());
    await other.importDatabase(bytes);
    expect((await other.store.chunks.listSnapshots('app')).length).toBe(4);
    await expect(other.importDatabase(new Uint8Array(4096))).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});
