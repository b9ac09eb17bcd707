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

const backlog = (store: CodeSnapshotStore) => store.chunks.indexBacklog();

/** Texts in the full-text index (the index's content view leaves pending ones out). */
async function indexedTexts(store: CodeSnapshotStore): Promise<number> {
  const SQL = await sqlJs();
  const db = new SQL.Database(store.exportDatabase());
  try {
    return db.exec('SELECT count(*) FROM chunk_texts')[0]!.values[0]![0] as number;
  } finally {
    db.close();
  }
}

async function integrityOk(bytes: Uint8Array): Promise<void> {
  const SQL = await sqlJs();
  const db = new SQL.Database(bytes);
  try {
    expect(db.exec('PRAGMA integrity_check')[0]!.values).toEqual([['ok']]);
    db.run("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')"); // throws if the index disagrees
  } finally {
    db.close();
  }
}

describe('full-text index maintenance', () => {
  it('keeps indexing out of commits; bounded journaled steps catch up and merge, search results unchanged', async () => {
    const journal: JournalStatement[][] = [];
    const store = await openTestStore({ journal });
    await churn(store, 24);
    // The commits only listed their work: nothing indexed yet, and the database is sound.
    // Of the 120 texts written, the 105 replaced before being indexed were dropped by the
    // commits that replaced them: the 15 in use wait.
    expect(await backlog(store)).toEqual({ pendingTexts: 15, unsweptFiles: 3 });
    expect(await segments(store)).toBe(0);
    await integrityOk(store.exportDatabase());

    // The same commits, searched at once: search catches up first (one commit), then answers.
    const reference = await openTestStore();
    await churn(reference, 24);
    const expected = await searchAll(reference);
    expect(await backlog(reference)).toEqual({ pendingTexts: 0, unsweptFiles: 0 });

    const commitsBefore = journal.length;
    let steps = 0;
    let catchUpSteps = 0;
    for (;;) {
      const before = await backlog(store);
      const indexedBefore = await indexedTexts(store);
      if (!(await store.maintain({ pages: 4, minSegments: 2, texts: 4, files: 1 }))) break;
      steps++;
      if (before.pendingTexts + before.unsweptFiles > 0) {
        catchUpSteps++;
        expect((await backlog(store)).unsweptFiles).toBeGreaterThanOrEqual(before.unsweptFiles - 1);
        expect(await indexedTexts(store)).toBeLessThanOrEqual(indexedBefore + 4);
      }
      await integrityOk(store.exportDatabase()); // sound between any two steps
    }
    expect(catchUpSteps).toBeGreaterThanOrEqual(4); // 15 texts at most 4 per step
    expect(steps).toBeGreaterThan(catchUpSteps); // then the segments the steps wrote were merged
    expect(journal.length).toBe(commitsBefore + steps); // one small journaled commit per step
    expect(journal.slice(commitsBefore + catchUpSteps).every((c) => c.length === 1 && /'merge=4,2'/.test(c[0]!.sql))).toBe(true);
    expect(await backlog(store)).toEqual({ pendingTexts: 0, unsweptFiles: 0 });

    // Nothing due: nothing written, nothing journaled.
    expect(await store.maintain({ minSegments: 2 })).toBe(false);
    expect(journal.length).toBe(commitsBefore + steps);

    // Same rows, same logical index, same ranked hits and snippets as catching up at once.
    expect(await searchAll(store)).toEqual(expected);
    expect(journal.length).toBe(commitsBefore + steps); // nothing was left for search to do
    expect(await dumpDatabase(store.exportDatabase())).toEqual(await dumpDatabase(reference.exportDatabase()));

    // Replaying every commit (upkeep included) from an empty database gives the same database.
    const replayed = new SqlDb(await sqlJs(), undefined);
    for (const commit of journal) replayed.replay(commit);
    await integrityOk(replayed.export());
    expect(await dumpDatabase(replayed.export())).toEqual(await dumpDatabase(store.exportDatabase()));

    // And writes after maintenance keep working and are visible to the next search.
    await store.replaceFile('app', 'c1', 'c1', 'src/f0.ts', [fileChunk('m0.f0', 'brand new words')]);
    expect((await backlog(store)).pendingTexts).toBe(1);
    expect((await store.chunks.searchContent('brand')).map((h) => h.chunk.fqn)).toEqual(['m0.f0']);
    expect(await store.chunks.searchContent('round21')).toEqual([]); // f0's replaced texts are gone
    expect(await store.chunks.searchContent('round23')).toHaveLength(5); // f2's are not
  });

  it('a commit drops the texts it replaced that were never indexed; indexed ones wait for the sweep', async () => {
    const store = await openTestStore();
    const texts = async () => {
      const db = new (await sqlJs()).Database(store.exportDatabase());
      try {
        return db.exec('SELECT content FROM chunk_contents ORDER BY id')[0]?.values.map((r) => r[0]) ?? [];
      } finally {
        db.close();
      }
    };
    await store.chunks.saveRepository('app');
    await store.chunks.createSnapshot('app', 'c1');
    const write = (content: string) => store.replaceFile('app', 'c1', 'c1', 'a.ts', [fileChunk('a.f', content)]);
    await write('one alpha');
    await store.maintain(); // indexed
    await write('two beta'); // 'one alpha' was indexed: it stays until the sweep
    expect(await texts()).toEqual(['one alpha', 'two beta']);
    await write('three gamma'); // 'two beta' was never indexed: gone with this commit
    expect(await texts()).toEqual(['one alpha', 'three gamma']);
    expect(await backlog(store)).toEqual({ pendingTexts: 1, unsweptFiles: 1 });
    expect(await store.chunks.searchContent('beta')).toEqual([]);
    expect(await store.chunks.searchContent('alpha')).toEqual([]); // the search swept it first
    expect((await store.chunks.searchContent('gamma')).map((h) => h.chunk.fqn)).toEqual(['a.f']);
    await write('two beta'); // an old text coming back is simply written again
    expect((await store.chunks.searchContent('beta')).map((h) => h.chunk.fqn)).toEqual(['a.f']);
    expect(await texts()).toEqual(['two beta']);
  });

  it('refuses bad options', async () => {
    const store = await openTestStore();
    await expect(store.maintain({ pages: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.maintain({ minSegments: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.maintain({ texts: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.maintain({ files: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await store.maintain()).toBe(false);
  });

  it('runs on its own once a durable store goes quiet, journaled and recovered like any commit', async () => {
    const files = new MemoryJournalFiles();
    const open = (delay: number | false) =>
      openDurableSnapshotStore({ files, sqlJs: sqlJs(), now: testClock(), maintenanceDelayMs: delay });
    const durable = await open(0);
    await churn(durable.store, 24);
    expect((await backlog(durable.store)).pendingTexts).toBeGreaterThan(0);
    const commits = durable.stats().commits;
    // Quiet now: upkeep catches up and merges, one step per timer turn, until nothing is due.
    for (let i = 0; i < 200 && !(durable.maintenanceSteps > 0 && !(await durable.store.maintain())); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(durable.maintenanceSteps).toBeGreaterThan(0);
    expect(durable.stats().commits).toBe(commits + durable.maintenanceSteps);
    expect(await backlog(durable.store)).toEqual({ pendingTexts: 0, unsweptFiles: 0 });
    const hits = await searchAll(durable.store);
    expect(durable.stats().commits).toBe(commits + durable.maintenanceSteps); // search found nothing to do
    const expected = await dumpDatabase(durable.exportDatabase());

    // Crash (no close): the journal alone rebuilds the same database.
    const again = await open(false);
    expect(await dumpDatabase(again.exportDatabase())).toEqual(expected);
    expect(await searchAll(again.store)).toEqual(hits);
    expect(await again.maintain()).toBe(0);
    await again.close();
    await durable.close({ checkpoint: false });
  });

  it('does not let a steady stream of commits push upkeep back past maintenanceMaxDelayMs', async () => {
    const stream = async (maxDelay: number): Promise<{ steps: number; commits: number; pending: number }> => {
      const durable = await openDurableSnapshotStore({
        files: new MemoryJournalFiles(), sqlJs: sqlJs(), now: testClock(), maintenanceDelayMs: 60_000, maintenanceMaxDelayMs: maxDelay,
      });
      await durable.store.chunks.saveRepository('app');
      await durable.store.chunks.createSnapshot('app', 'c1');
      const started = performance.now();
      let commits = 0;
      for (; performance.now() - started < 200; commits++) {
        await durable.store.replaceFile('app', 'c1', 'c1', `src/f${commits % 5}.ts`, [fileChunk(`m.f${commits}`, `${words[commits % 10]} text ${commits}`)]);
        await new Promise((r) => setImmediate(r)); // back to back, as queued messages arrive
      }
      const steps = durable.maintenanceSteps;
      const { pendingTexts } = await durable.store.chunks.indexBacklog();
      await durable.close({ checkpoint: false });
      return { steps, commits, pending: pendingTexts };
    };
    const postponed = await stream(60_000);
    expect(postponed.steps).toBe(0); // pushed back by every commit
    expect(postponed.pending).toBe(postponed.commits); // every new text still waits
    const bounded = await stream(20);
    expect(bounded.commits).toBeGreaterThan(20);
    // Overdue after 20 ms, then a step between commits: the backlog stays small.
    expect(bounded.steps).toBeGreaterThan(0);
    expect(bounded.pending).toBeLessThan(bounded.commits / 4);
  });

  it('resumes upkeep a crashed session left behind when the store opens again', async () => {
    const files = new MemoryJournalFiles();
    const first = await openDurableSnapshotStore({ files, sqlJs: sqlJs(), now: testClock(), maintenanceDelayMs: false });
    await churn(first.store, 12);
    expect((await backlog(first.store)).pendingTexts).toBeGreaterThan(0);
    // Crash: no close. The next session catches up on its own, without a search.
    const again = await openDurableSnapshotStore({ files, sqlJs: sqlJs(), now: testClock(), maintenanceDelayMs: 0 });
    for (let i = 0; i < 200 && (await backlog(again.store)).pendingTexts > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await backlog(again.store)).toEqual({ pendingTexts: 0, unsweptFiles: 0 });
    expect(again.maintenanceSteps).toBeGreaterThan(0);
    await again.close();
    await first.close({ checkpoint: false });
  });

  it('rejects bad delays', async () => {
    await expect(openDurableSnapshotStore({ files: new MemoryJournalFiles(), sqlJs: sqlJs(), maintenanceDelayMs: -1 }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(openDurableSnapshotStore({ files: new MemoryJournalFiles(), sqlJs: sqlJs(), maintenanceMaxDelayMs: Number.NaN }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
