import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointJournal, encodeFrameBytes, MemoryJournalFiles, ShelfError } from '../../src/index.ts';

/** A toy database: a Map whose image is its JSON. */
type Op = { k: string; v: number | null };
function open(files: MemoryJournalFiles, checkpointBytes = 1 << 20) {
  const db = new Map<string, number>();
  const journal = CheckpointJournal.open<Op>({
    files,
    checkpointBytes,
    load(image) {
      db.clear();
      if (image) for (const [k, v] of JSON.parse(new TextDecoder().decode(image)) as [string, number][]) db.set(k, v);
    },
    apply(op) {
      if (op.v === null) db.delete(op.k);
      else db.set(op.k, op.v);
    },
    exportImage: () => new TextEncoder().encode(JSON.stringify([...db])),
  });
  const commit = async (j: CheckpointJournal<Op>, op: Op) => {
    j.append(op);
    if (op.v === null) db.delete(op.k);
    else db.set(op.k, op.v);
  };
  return { db, journal, commit };
}

describe('CheckpointJournal', () => {
  it('replays commits after a checkpoint and across reopenings', async () => {
    const files = new MemoryJournalFiles();
    let s = open(files);
    let j = await s.journal;
    await s.commit(j, { k: 'a', v: 1 });
    await j.checkpoint();
    await s.commit(j, { k: 'b', v: 2 });
    await s.commit(j, { k: 'a', v: null });
    await j.close({ checkpoint: false });
    s = open(files);
    j = await s.journal;
    expect([...s.db]).toEqual([['b', 2]]);
    expect(j.recovery).toMatchObject({ generation: 1, fromCheckpoint: 1, replayedRecords: 2, droppedTornBytes: 0 });
    await j.close();
    expect((await files.list()).sort()).toEqual(['checkpoint-1.img', 'checkpoint-2.img', 'journal-1.log', 'journal-2.log']);
  });

  it('drops a torn tail record and keeps everything acknowledged', async () => {
    const files = new MemoryJournalFiles();
    let s = open(files);
    let j = await s.journal;
    await s.commit(j, { k: 'a', v: 1 });
    await s.commit(j, { k: 'b', v: 2 });
    files.tornNextAppend = 5;
    expect(() => j.append({ k: 'c', v: 3 })).toThrowError(ShelfError);
    s = open(files);
    j = await s.journal;
    expect([...s.db]).toEqual([['a', 1], ['b', 2]]);
    expect(j.recovery.droppedTornBytes).toBe(5);
    // The journal was truncated, so new commits append cleanly after the good records.
    await s.commit(j, { k: 'd', v: 4 });
    s = open(files);
    await s.journal;
    expect([...s.db]).toEqual([['a', 1], ['b', 2], ['d', 4]]);
  });

  it('falls back to the previous generation when the newest checkpoint is damaged', async () => {
    const files = new MemoryJournalFiles();
    let s = open(files);
    let j = await s.journal;
    await s.commit(j, { k: 'a', v: 1 });
    await j.checkpoint();
    await s.commit(j, { k: 'b', v: 2 });
    await j.checkpoint();
    await s.commit(j, { k: 'c', v: 3 });
    const img = files.files.get('checkpoint-2.img')!;
    img[img.length - 1]! ^= 0xff;
    s = open(files);
    j = await s.journal;
    expect([...s.db]).toEqual([['a', 1], ['b', 2], ['c', 3]]);
    expect(j.recovery.skippedCheckpoints).toEqual(['checkpoint-2.img']);
    expect(j.recovery.fromCheckpoint).toBe(1);
  });

  it('is CORRUPT, naming the file, when no older generation can recover it', async () => {
    const files = new MemoryJournalFiles();
    const s = open(files);
    const j = await s.journal;
    await s.commit(j, { k: 'a', v: 1 });
    await j.checkpoint();
    await j.checkpoint();
    await j.checkpoint();
    for (const name of files.files.keys()) if (name.startsWith('checkpoint')) files.files.get(name)![30]! ^= 1;
    const error = await open(files).journal.catch((e: unknown) => e as ShelfError);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('CORRUPT');
    expect((error as ShelfError).message).toMatch(/checkpoint-3\.img/);
  });

  it('a crash between opening the next journal and writing its checkpoint loses nothing', async () => {
    const files = new MemoryJournalFiles();
    const s = open(files);
    const j = await s.journal;
    await s.commit(j, { k: 'a', v: 1 });
    await j.checkpoint();
    await s.commit(j, { k: 'b', v: 2 });
    // Simulate: journal-2 opened and a commit landed in it, checkpoint-2 torn mid-write.
    await j.checkpoint();
    await s.commit(j, { k: 'c', v: 3 });
    const full = files.files.get('checkpoint-2.img')!;
    files.files.set('checkpoint-2.img', full.subarray(0, 10));
    const again = open(files);
    await again.journal;
    expect([...again.db]).toEqual([['a', 1], ['b', 2], ['c', 3]]);
  });

  it('an installed image takes effect only once its journal starts: a crash before that leaves the old state and later commits', async () => {
    const files = new MemoryJournalFiles();
    let s = open(files);
    let j = await s.journal;
    await s.commit(j, { k: 'a', v: 1 });
    // A crash right after an import wrote its image: the image is there, its journal is not.
    await files.write('checkpoint-1.img', encodeFrameBytes(new TextEncoder().encode(JSON.stringify([['imported', 9]])), { kind: 'IMPT', compress: false }));
    s = open(files);
    j = await s.journal;
    expect([...s.db]).toEqual([['a', 1]]);
    expect(j.generation).toBe(0);
    expect(await files.list()).not.toContain('checkpoint-1.img');
    await s.commit(j, { k: 'b', v: 2 });
    await j.checkpoint();
    await s.commit(j, { k: 'c', v: 3 });
    s = open(files);
    await s.journal;
    expect([...s.db]).toEqual([['a', 1], ['b', 2], ['c', 3]]);
  });

  it('an installed image replaces the state, and a commit after it survives reopening', async () => {
    const files = new MemoryJournalFiles();
    let s = open(files);
    let j = await s.journal;
    await s.commit(j, { k: 'a', v: 1 });
    let switched = false;
    await j.checkpoint({ image: new TextEncoder().encode(JSON.stringify([['imported', 9]])), onSwitch: () => (switched = true) });
    expect(switched).toBe(true);
    s.db.clear();
    s.db.set('imported', 9);
    await s.commit(j, { k: 'z', v: 26 });
    s = open(files);
    j = await s.journal;
    expect([...s.db]).toEqual([['imported', 9], ['z', 26]]);
    expect(j.recovery.fromCheckpoint).toBe(1);
  });

  it('an older imported image left without its journal is never taken for an unfinished import', async () => {
    const files = new MemoryJournalFiles();
    const s = open(files);
    const j = await s.journal;
    await s.commit(j, { k: 'a', v: 1 });
    await j.checkpoint({ image: new TextEncoder().encode(JSON.stringify([['imported', 9]])) });
    s.db.clear();
    s.db.set('imported', 9);
    await s.commit(j, { k: 'b', v: 2 });
    await j.checkpoint();
    await s.commit(j, { k: 'c', v: 3 });
    const imported = files.files.get('checkpoint-1.img')!.slice();
    await j.checkpoint();
    await s.commit(j, { k: 'd', v: 4 });
    await j.close({ checkpoint: false });
    // A cleanup cut short left the imported image after its journal went; the newer checkpoints are damaged.
    files.files.set('checkpoint-1.img', imported);
    for (const name of ['checkpoint-2.img', 'checkpoint-3.img']) files.files.get(name)![30]! ^= 1;
    const error = await open(files).journal.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('CORRUPT');
  });

  it('property: any sequence of commits and checkpoints recovers to the same state', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ k: fc.constantFrom('a', 'b', 'c', 'd'), v: fc.option(fc.integer(), { nil: null }) }), fc.constant('ckpt' as const)), { maxLength: 40 }),
        fc.nat(12),
        async (steps, torn) => {
          const files = new MemoryJournalFiles();
          const s = open(files);
          const j = await s.journal;
          for (const step of steps) {
            if (step === 'ckpt') await j.checkpoint();
            else await s.commit(j, step);
          }
          const expected = [...s.db];
          // A crash mid-append of one more commit must not change the recovered state.
          files.tornNextAppend = torn;
          try {
            j.append({ k: 'z', v: 9 });
          } catch {
            // expected: the torn write
          }
          const again = open(files);
          await again.journal;
          expect([...again.db].sort()).toEqual(expected.sort());
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('MemoryJournalFiles', () => {
  it('appends in place without changing any view it handed out, and takes up files replaced from outside', async () => {
    const files = new MemoryJournalFiles();
    const file = await files.openAppend('j');
    const bytes = (...b: number[]) => new Uint8Array(b);
    file.append(bytes(1, 2, 3));
    file.append(bytes(4, 5));
    const kept = files.files.get('j')!;
    expect([...kept]).toEqual([1, 2, 3, 4, 5]);
    // A shorter view of the same buffer put back (a test restoring an older journal).
    files.files.set('j', kept.subarray(0, 3));
    file.append(bytes(9, 9));
    expect([...files.files.get('j')!]).toEqual([1, 2, 3, 9, 9]);
    expect([...kept]).toEqual([1, 2, 3, 4, 5]); // unchanged
    file.truncate(4);
    file.append(bytes(7));
    expect([...files.files.get('j')!]).toEqual([1, 2, 3, 9, 7]);
    expect(file.size).toBe(5);
    for (let i = 0; i < 2000; i++) file.append(new Uint8Array(100).fill(i & 0xff));
    const all = files.files.get('j')!;
    expect(all.length).toBe(5 + 200_000);
    expect(all[5 + 1999 * 100]).toBe(1999 & 0xff);
    expect([...all.subarray(0, 5)]).toEqual([1, 2, 3, 9, 7]);
  });
});
