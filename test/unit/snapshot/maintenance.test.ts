import { describe, expect, it } from 'vitest';
import { MemoryJournalFiles } from '../../../src/index.ts';
import { openDurableSnapshotStore, type CodeSnapshotStore, type JournalStatement } from '../../../src/snapshot/index.ts';
import { SqlDb } from '../../../src/snapshot/sql-db.ts';
import { dumpDatabase, openTestStore, sqlJs, testClock } from './helpers.ts';

const words = ['parse', 'token', 'index', 'query', 'cache', 'store', 'node', 'tree', 'symbol', 'range'];
const fileChunk = (fqn: string, content: string) => ({ fqn, kind: 'function', language: 'ts', startLine: 1, endLine: 2, content });

/** Commits that each leave FTS4 segments behind (new texts indexed, old ones removed). */
async function churn(store: CodeSnapshotStore, rounds: number): Promise<void> {
  await store.chunks.saveRepository('app');
  await store.chunks.createSnapshot('app', 'c1');
  for (let i = 0; i < rounds; i++) {
    const path = `src/f${i % 3}.ts`;
    await store.replaceFile('app', 'c1', 'c1', path, Array.from({ length: 5 }, (_, j) =>
      fileChunk(`m${i % 3}.f${j}`, `${words[(i + j) % 10]} ${words[(i * 3 + j) % 10]}${i} round${i} shared`)));
  }
}

async function segments(store: CodeSnapshotStore): Promise<number> {
  const SQL = await sqlJs();
  const db = new SQL.Database(store.exportDatabase());
  try {
    return db.exec('SELECT count(*) FROM chunks_fts_segdir')[0]!.values[0]![0] as number;
  } finally {
    db.close();
  }
}

const queries = ['shared', 'parse', 'round7 OR token', 'tree*', 'index NOT cache'];
const searchAll = (store: CodeSnapshotStore) => Promise.all(queries.map((q) => store.chunks.searchContent(q, { limit: 50 })));

describe('full-text index maintenance', () => {
  it('merges segments without changing search results, and replays to the same database', async () => {
    const journal: JournalStatement[][] = [];
    const store = await openTestStore({ journal });
    await churn(store, 24);
    const before = await searchAll(store);
    const dumpBefore = await dumpDatabase(store.exportDatabase());
    const segmentsBefore = await segments(store);
    expect(segmentsBefore).toBeGreaterThanOrEqual(8);

    const commitsBefore = journal.length;
    let steps = 0;
    while (await store.maintain({ pages: 4, minSegments: 2 })) steps++;
    expect(steps).toBeGreaterThan(0);
    expect(journal.length).toBe(commitsBefore + steps); // one small journaled commit per step
    expect(journal.slice(commitsBefore).every((c) => c.length === 1 && /'merge=4,2'/.test(c[0]!.sql))).toBe(true);
    expect(await segments(store)).toBeLessThan(segmentsBefore);

    // Nothing due: nothing written, nothing journaled.
    expect(await store.maintain({ minSegments: 2 })).toBe(false);
    expect(journal.length).toBe(commitsBefore + steps);

    // Same rows, same logical index, same ranked hits and snippets.
    expect(await dumpDatabase(store.exportDatabase())).toEqual(dumpBefore);
    expect(await searchAll(store)).toEqual(before);

    // Replaying every commit (maintenance included) from an empty database gives the same database.
    const replayed = new SqlDb(await sqlJs(), undefined);
    for (const commit of journal) replayed.replay(commit);
    replayed.run("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')");
    expect(await dumpDatabase(replayed.export())).toEqual(await dumpDatabase(store.exportDatabase()));

    // And writes after maintenance keep working and stay searchable.
    await store.replaceFile('app', 'c1', 'c1', 'src/f0.ts', [fileChunk('m0.f0', 'brand new words')]);
    expect((await store.chunks.searchContent('brand')).map((h) => h.chunk.fqn)).toEqual(['m0.f0']);
  });

  it('refuses bad options', async () => {
    const store = await openTestStore();
    await expect(store.maintain({ pages: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.maintain({ minSegments: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await store.maintain()).toBe(false);
  });

  it('runs on its own once a durable store goes quiet, journaled and recovered like any commit', async () => {
    const files = new MemoryJournalFiles();
    const open = (delay: number | false) =>
      openDurableSnapshotStore({ files, sqlJs: sqlJs(), now: testClock(), maintenanceDelayMs: delay });
    const durable = await open(0);
    await churn(durable.store, 24);
    const hits = await searchAll(durable.store);
    const segmentsBefore = await segments(durable.store);
    const commits = durable.stats().commits;
    for (let i = 0; i < 50 && durable.maintenanceSteps === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 30));
    expect(durable.maintenanceSteps).toBeGreaterThan(0);
    expect(durable.stats().commits).toBe(commits + durable.maintenanceSteps);
    expect(await segments(durable.store)).toBeLessThan(segmentsBefore);
    expect(await searchAll(durable.store)).toEqual(hits);
    const expected = await dumpDatabase(durable.exportDatabase());

    // Crash (no close): the journal alone rebuilds the same database.
    const again = await open(false);
    expect(await dumpDatabase(again.exportDatabase())).toEqual(expected);
    expect(await searchAll(again.store)).toEqual(hits);
    expect(await again.maintain()).toBe(0);
    await again.close();
    await durable.close({ checkpoint: false });
  });

  it('rejects a bad maintenanceDelayMs', async () => {
    await expect(openDurableSnapshotStore({ files: new MemoryJournalFiles(), sqlJs: sqlJs(), maintenanceDelayMs: -1 }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
