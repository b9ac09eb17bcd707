import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isShelfError, ShelfError } from '../../../src/errors/index.ts';
import type { CodeSnapshotStore, JournalStatement } from '../../../src/snapshot/index.ts';
import { SqlDb } from '../../../src/snapshot/sql-db.ts';
import { chunk, dumpDatabase, openTestStore, sqlJs } from './helpers.ts';

const fileChunk = (fqn: string, content: string) => ({ fqn, kind: 'function', language: 'ts', startLine: 1, endLine: 2, content });

/** A workload touching every write path, including failures that must not be journaled. */
async function workload(store: CodeSnapshotStore, checkpoint: () => void): Promise<void> {
  const cs = store.chunks;
  await cs.saveRepository('app', { url: 'u1' });
  await cs.saveRepository('app', { url: 'u2' });
  await cs.createSnapshot('app', 'c1', { branch: 'main' });
  const ids = await cs.saveChunks('app', 'c1', [chunk('a.ts', 'a.f', 'alpha beta'), chunk('a.ts', 'a.g', 'gamma'), chunk('b.ts', 'b.h', 'delta alpha')]);
  await cs.saveDependencies([{ fromChunkId: ids[0]!, toFqn: 'b.h', kind: 'calls' }, { fromChunkId: ids[2]!, toFqn: 'a.f', kind: 'calls' }]);
  checkpoint();
  await cs.saveChunk('app', 'c1', chunk('a.ts', 'a.g', 'gamma changed'));
  await cs.saveFileMetadata('app', 'c1', { path: 'a.ts', contentHash: 'h', size: 3, language: 'ts', chunkCount: 2 });
  await cs.softDeleteFileChunks('app', 'c1', 'b.ts');
  await cs.saveChunks('app', 'nope', [chunk('x.ts', 'x')]).catch(() => undefined); // NOT_FOUND: not journaled
  await store.replaceFile('app', 'c1', 'c1', 'b.ts', [fileChunk('b.h', 'delta revived'), fileChunk('b.i', 'epsilon')],
    [{ fromFqn: 'b.i', toFqn: 'a.g', kind: 'reads' }]);
  await store.createIncrementalSnapshot('app', 'c1', 'c2', ['c.ts'], () =>
    ({ chunks: [fileChunk('c.j', 'zeta alpha')], dependencies: [{ fromFqn: 'c.j', toFqn: 'b.h', kind: 'calls' }] }));
  await store.createIncrementalSnapshot('app', 'c2', 'c4', ['a.ts', 'b.ts'], (path) =>
    (path === 'a.ts' ? null : { chunks: [fileChunk('a.f', 'moved here')] }));
  await store.replaceFile('app', 'c2', 'c3', 'b.ts', [fileChunk('b.h', 'eta')]);
  await store.replaceFile('app', 'c2', 'c3', 'b.ts', [fileChunk('b.h', 'eta')]); // idempotent repeat
}

async function replayInto(base: Uint8Array | undefined, commits: JournalStatement[][], oneByOne: boolean): Promise<Uint8Array> {
  const db = new SqlDb(await sqlJs(), base);
  if (oneByOne) for (const commit of commits) db.replay(commit);
  else db.replay(commits.flat());
  const check = db.query("SELECT 1 FROM sqlite_master WHERE name = 'chunks_fts'");
  if (check.length) db.run("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')"); // throws if the index disagrees
  return db.export();
}

describe('journal hook', () => {
  it('replaying the commits onto the state before them rebuilds the same database', async () => {
    const journal: JournalStatement[][] = [];
    const states: Uint8Array[] = []; // the database right after each journaled commit
    let ref: CodeSnapshotStore | undefined;
    const store: CodeSnapshotStore = await openTestStore({ onCommit: (statements) => {
      journal.push(statements);
      if (ref) states.push(ref.exportDatabase());
    } });
    ref = store;
    const afterOpen = store.exportDatabase();
    const openCommits = journal.length; // the schema migrations
    let middle: { bytes: Uint8Array; at: number } | undefined;
    await workload(store, () => { middle = { bytes: store.exportDatabase(), at: journal.length }; });
    const expected = await dumpDatabase(store.exportDatabase());
    expect(journal.length).toBeGreaterThan(10);

    // From an empty database (migrations included), as one replay and commit by commit.
    expect(await dumpDatabase(await replayInto(undefined, journal, false))).toEqual(expected);
    expect(await dumpDatabase(await replayInto(undefined, journal, true))).toEqual(expected);
    // From the state right after open, and from a checkpoint in the middle.
    expect(await dumpDatabase(await replayInto(afterOpen, journal.slice(openCommits), true))).toEqual(expected);
    expect(await dumpDatabase(await replayInto(middle!.bytes, journal.slice(middle!.at), false))).toEqual(expected);

    // Commit by commit, every intermediate state matches too.
    const stepper = new SqlDb(await sqlJs(), afterOpen);
    for (const [i, commit] of journal.slice(openCommits).entries()) {
      stepper.replay(commit);
      expect(await dumpDatabase(stepper.export()), `after commit ${i}`).toEqual(await dumpDatabase(states[i]!));
    }

    // And the replayed bytes behave the same through the store.
    const replayed = await openTestStore({ data: await replayInto(afterOpen, journal.slice(openCommits), false) });
    expect(await replayed.chunks.searchContent('alpha')).toEqual(await store.chunks.searchContent('alpha'));
  });

  it('holds for random operation sequences', async () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('save' as const), path: fc.constantFrom('a.ts', 'b.ts'), fqn: fc.constantFrom('f', 'g', 'h'), body: fc.constantFrom('one', 'two') }),
      fc.record({ t: fc.constant('delete' as const), path: fc.constantFrom('a.ts', 'b.ts') }),
      fc.record({ t: fc.constant('replace' as const), path: fc.constantFrom('a.ts', 'b.ts'), fqns: fc.subarray(['f', 'g', 'h']), to: fc.constantFrom('f', 'g', 'x') }),
      fc.record({ t: fc.constant('edge' as const), fqn: fc.constantFrom('f', 'g', 'h'), to: fc.constantFrom('f', 'g', 'h', 'x') }),
      fc.record({ t: fc.constant('fork' as const) }),
    );
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
      const journal: JournalStatement[][] = [];
      const store = await openTestStore({ journal });
      const cs = store.chunks;
      await cs.saveRepository('r');
      await cs.createSnapshot('r', 's0');
      let current = 's0';
      let forks = 0;
      for (const o of ops) {
        if (o.t === 'save') await cs.saveChunk('r', current, chunk(o.path, o.fqn, o.body));
        else if (o.t === 'delete') await cs.softDeleteFileChunks('r', current, o.path);
        else if (o.t === 'replace') {
          await store.replaceFile('r', current, current, o.path, o.fqns.map((f) => fileChunk(f, `${o.path} ${f}`)),
            o.fqns.length ? [{ fromFqn: o.fqns[0]!, toFqn: o.to, kind: 'calls' }] : []);
        } else if (o.t === 'edge') {
          const from = await cs.getChunkByFqn('r', current, o.fqn);
          if (from) await cs.saveDependencies([{ fromChunkId: from.id, toFqn: o.to, kind: 'calls' }]);
        } else {
          const next = `s${++forks}`;
          await store.createIncrementalSnapshot('r', current, next, ['b.ts'], () => ({ chunks: [fileChunk('g', `fork ${forks}`)] }));
          current = next;
        }
      }
      expect(await dumpDatabase(await replayInto(undefined, journal, false))).toEqual(await dumpDatabase(store.exportDatabase()));
    }), { numRuns: 12 });
  });

  it('reports only committed writes, in order, with their parameters', async () => {
    const journal: JournalStatement[][] = [];
    const store = await openTestStore({ journal });
    journal.length = 0;
    await store.chunks.listRepositories();
    await store.chunks.searchContent('anything');
    expect(journal).toEqual([]);
    await store.chunks.saveRepository('app', { url: 'x' });
    expect(journal).toHaveLength(1);
    expect(journal[0]![0]!.sql).toMatch(/^INSERT INTO repositories/);
    expect(journal[0]![0]!.params).toEqual(['app', 'x', expect.any(Number), 1]);
    await store.chunks.createSnapshot('ghost', 'c').catch(() => undefined);
    await store.chunks.saveChunks('app', 'c', []).catch(() => undefined);
    expect(journal).toHaveLength(1);
    for (const commit of journal) for (const s of commit) expect(s.sql).not.toMatch(/CURRENT_TIMESTAMP|random\(|datetime\(|'now'/i);
  });

  it('awaits a promise from the hook, and surfaces its failure after the commit', async () => {
    let release!: () => void;
    let pending = false;
    const store = await openTestStore({ onCommit: () => {
      if (!pending) return;
      return new Promise<void>((resolve) => { release = resolve; });
    } });
    pending = true;
    let done = false;
    const saving = store.chunks.saveRepository('app').then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 5));
    expect(done).toBe(false);
    release();
    await saving;
    expect(done).toBe(true);

    const failing = await openTestStore({ onCommit: (s) => {
      if (s.some((x) => x.sql.startsWith('INSERT INTO repositories'))) throw new ShelfError('QUOTA_EXCEEDED', 'journal full');
    } });
    const error = await failing.chunks.saveRepository('app').catch((e: unknown) => e);
    expect(isShelfError(error, 'QUOTA_EXCEEDED')).toBe(true);
    expect(await failing.chunks.getRepository('app')).toBeDefined(); // committed in memory before the hook ran
  });
});

describe('SqlDb', () => {
  async function open(): Promise<{ db: SqlDb; commits: JournalStatement[][] }> {
    const commits: JournalStatement[][] = [];
    const db = new SqlDb(await sqlJs(), undefined, { onCommit: (s) => void commits.push(s) });
    db.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    commits.length = 0;
    return { db, commits };
  }

  it('nested transactions are savepoints: an inner failure undoes and unjournals only itself', async () => {
    const { db, commits } = await open();
    db.transaction(() => {
      db.run('INSERT INTO t (v) VALUES (?1)', ['outer']);
      expect(() => db.transaction(() => {
        db.run('INSERT INTO t (v) VALUES (?1)', ['inner']);
        throw new Error('inner fails');
      })).toThrow('inner fails');
      db.transaction(() => db.run('INSERT INTO t (v) VALUES (?1)', ['inner ok']));
    });
    expect(db.query('SELECT v FROM t ORDER BY id')).toEqual([{ v: 'outer' }, { v: 'inner ok' }]);
    expect(commits).toHaveLength(1);
    expect(commits[0]!.map((s) => s.params[0])).toEqual(['outer', 'inner ok']);
  });

  it('rolls back and reports nothing when fn throws; refuses async fns', async () => {
    const { db, commits } = await open();
    expect(() => db.transaction(() => {
      db.run("INSERT INTO t (v) VALUES ('a')");
      throw new Error('no');
    })).toThrow('no');
    expect(() => db.transaction(async () => undefined)).toThrow(/synchronous/);
    expect(db.query('SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
    expect(commits).toEqual([]);
  });

  it('guards its door: one statement per call, no transaction control, no writes through query, no export mid-transaction', async () => {
    const { db } = await open();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as ShelfError).code;
      }
      return 'no error';
    };
    expect(code(() => db.run("INSERT INTO t (v) VALUES ('a'); INSERT INTO t (v) VALUES ('b')"))).toBe('INVALID_ARGUMENT');
    expect(code(() => db.run('BEGIN'))).toBe('INVALID_ARGUMENT');
    expect(code(() => db.query("INSERT INTO t (v) VALUES ('a')"))).toBe('INVALID_ARGUMENT');
    expect(code(() => db.query("WITH x AS (SELECT 1) INSERT INTO t (v) SELECT 'a' FROM x"))).toBe('INVALID_ARGUMENT');
    expect(code(() => db.query('PRAGMA application_id = 5'))).toBe('INVALID_ARGUMENT');
    expect(code(() => db.transaction(() => db.export()))).toBe('INVALID_ARGUMENT');
    expect(code(() => db.replay([{ sql: 'COMMIT', params: [] }]))).toBe('INVALID_ARGUMENT');
    expect(code(() => db.replay([{ sql: 'x' } as never]))).toBe('INVALID_ARGUMENT');
    expect(db.query('SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
    expect(db.export().byteLength).toBeGreaterThan(0);
  });

  it('replay does not re-journal unless asked', async () => {
    const { db, commits } = await open();
    db.replay([{ sql: 'INSERT INTO t (v) VALUES (?1)', params: ['r'] }]);
    expect(commits).toEqual([]);
    db.replay([{ sql: 'INSERT INTO t (v) VALUES (?1)', params: ['j'] }], { journal: true });
    expect(commits).toEqual([[{ sql: 'INSERT INTO t (v) VALUES (?1)', params: ['j'] }]]);
  });
});
