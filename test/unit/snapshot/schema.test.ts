import { describe, expect, it } from 'vitest';
import { isShelfError, type ShelfErrorCode } from '../../../src/errors/index.ts';
import { openSnapshotStore, SCHEMA_VERSION, SNAPSHOT_APPLICATION_ID, type JournalStatement } from '../../../src/snapshot/index.ts';
import { migrate, MIGRATIONS, readSchemaVersion } from '../../../src/snapshot/schema.ts';
import { SqlDb } from '../../../src/snapshot/sql-db.ts';
import { chunk, dumpDatabase, openTestStore, sqlJs } from './helpers.ts';

async function openError(data: unknown): Promise<unknown> {
  return openSnapshotStore({ sqlJs: sqlJs(), data: data as Uint8Array }).then(() => undefined, (e: unknown) => e);
}

function expectCode(error: unknown, code: ShelfErrorCode): void {
  expect(isShelfError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
}

/** A database at schema version 1 holding one chunk, written with the version 1 statements only. */
async function versionOneBytes(): Promise<Uint8Array> {
  const db = new SqlDb(await sqlJs(), undefined);
  expect(await migrate(db, 1000, 1)).toEqual({ from: 0, to: 1 });
  db.transaction(() => {
    db.run("INSERT INTO repositories (name, url, created) VALUES ('legacy', NULL, 1)");
    db.run("INSERT INTO snapshots (repo_id, commit_hash, branch, parent_id, created) VALUES (1, 'old', 'main', NULL, 2)");
    db.run(`INSERT INTO chunks (repo_id, snapshot_id, file_path, fqn, kind, language, start_line, end_line, content,
      content_hash, is_deleted, updated) VALUES (1, 1, 'src/old.ts', 'old.fn', 'function', 'ts', 1, 2,
      'function ancientHelper() {}', 'h', 0, 3)`);
  });
  expect(readSchemaVersion(db)).toBe(1);
  const bytes = db.export();
  db.close();
  return bytes;
}

describe('schema', () => {
  it('a new database is at the latest version, marked with the codeshelf application id', async () => {
    const store = await openTestStore();
    const dump = await dumpDatabase(store.exportDatabase());
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    expect(dump.schema_version!.map((r) => r[0])).toEqual(MIGRATIONS.map((m) => m.version));
    expect(dump.application_id).toEqual([[SNAPSHOT_APPLICATION_ID]]);
    expect(dump.schema!.map((r) => r[1])).toEqual(expect.arrayContaining([
      'chunks', 'chunks_fts', 'dependencies', 'file_versions', 'snapshot_files', 'repositories', 'snapshots',
      'schema_version', 'idx_chunks_fqn', 'idx_chunks_version_fqn', 'idx_chunks_content', 'idx_chunks_key', 'idx_deps_from',
      'idx_deps_to_fqn', 'idx_snapshot_files_version',
    ]));
    expect(dump.schema!.map((r) => r[1])).not.toContain('file_metadata');
  });

  it('migrates an older database forward, indexing its existing chunks, and journals the step', async () => {
    const old = await versionOneBytes();
    const journal: JournalStatement[][] = [];
    const store = await openTestStore({ data: old, journal });
    const hits = await store.chunks.searchContent('ancientHelper');
    expect(hits.map((h) => h.chunk.fqn)).toEqual(['old.fn']);
    const dump = await dumpDatabase(store.exportDatabase());
    expect(dump.schema_version!.map((r) => r[0])).toEqual(MIGRATIONS.map((m) => m.version));
    expect(journal).toHaveLength(1);
    expect(journal[0]!.some((s) => s.sql.includes('CREATE VIRTUAL TABLE chunks_fts'))).toBe(true);

    // The migration is itself replayable: the journal on top of the old bytes gives the same database.
    const replayed = new SqlDb(await sqlJs(), old);
    replayed.replay(journal.flat());
    expect(await dumpDatabase(replayed.export())).toEqual(dump);

    // Reopening the migrated bytes applies nothing.
    const again: JournalStatement[][] = [];
    await openTestStore({ data: store.exportDatabase(), journal: again });
    expect(again).toEqual([]);
  });

  it('migrates version 2 data to shared contents: same chunks, content and search results, content stored once', async () => {
    // A version 2 store, written through the version 2 schema (content on chunks, FTS over chunks).
    const db = new SqlDb(await sqlJs(), undefined);
    await migrate(db, 1000, 2);
    const insertChunk = (snapshot: number, path: string, fqn: string, content: string, deleted = 0) => db.run(
      `INSERT INTO chunks (repo_id, snapshot_id, file_path, fqn, kind, language, start_line, end_line, content,
        content_hash, is_deleted, updated) VALUES (1, ?1, ?2, ?3, 'function', 'ts', 1, 2, ?4, ?5, ?6, 7)`,
      [snapshot, path, fqn, content, `hash of ${content}`, deleted]);
    db.transaction(() => {
      db.run("INSERT INTO repositories (name, url, created) VALUES ('app', NULL, 1)");
      db.run("INSERT INTO snapshots (repo_id, commit_hash, branch, parent_id, created) VALUES (1, 'c1', NULL, NULL, 2)");
      db.run("INSERT INTO snapshots (repo_id, commit_hash, branch, parent_id, created) VALUES (1, 'c2', NULL, 1, 3)");
      insertChunk(1, 'a.ts', 'a.f', 'shared needle text');
      insertChunk(1, 'b.ts', 'b.g', 'needle only in c1');
      insertChunk(1, 'c.ts', 'c.h', 'shared needle text'); // same text, other file: its own document
      insertChunk(2, 'a.ts', 'a.f', 'shared needle text'); // copied into c2
      insertChunk(2, 'b.ts', 'b.g', 'needle changed in c2');
      insertChunk(2, 'd.ts', 'd.k', 'needle deleted', 1);
    });
    const old = db.export();
    db.close();

    const journal: JournalStatement[][] = [];
    const store = await openTestStore({ data: old, journal });
    const chunks = await store.chunks.getChunks('app', 'c2', { includeDeleted: true });
    expect(chunks.map((c) => [c.filePath, c.fqn, c.content, c.isDeleted, c.updated])).toEqual([
      ['a.ts', 'a.f', 'shared needle text', false, 7], ['b.ts', 'b.g', 'needle changed in c2', false, 7],
      ['d.ts', 'd.k', 'needle deleted', true, 7],
    ]);
    const hits = async (commit?: string) => (await store.chunks.searchContent('needle', commit ? { snapshot: { repo: 'app', commit } } : {}))
      .map((h) => `${h.chunk.snapshotId}:${h.chunk.filePath}`).sort();
    expect(await hits('c1')).toEqual(['1:a.ts', '1:b.ts', '1:c.ts']);
    expect(await hits('c2')).toEqual(['2:a.ts', '2:b.ts']);
    expect(await hits()).toEqual(['1:a.ts', '1:b.ts', '1:c.ts', '2:a.ts', '2:b.ts']);
    const dump = await dumpDatabase(store.exportDatabase());
    expect(dump.chunk_contents).toHaveLength(5); // a.f is stored once for both snapshots
    expect(dump.fts_docs).toHaveLength(5);

    // The migration replays from the old bytes to the same database.
    const replayed = new SqlDb(await sqlJs(), old);
    replayed.replay(journal.flat());
    replayed.run("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')");
    expect(await dumpDatabase(replayed.export())).toEqual(dump);

    // Writes after the upgrade share and release content rows as new ones do.
    await store.replaceFile('app', 'c2', 'c2', 'a.ts', [{ fqn: 'a.f', kind: 'function', language: 'ts', startLine: 1, endLine: 2, content: 'fresh text' }]);
    expect(await hits('c1')).toEqual(['1:a.ts', '1:b.ts', '1:c.ts']); // c1 still has the old text
    expect((await store.chunks.searchContent('fresh')).map((h) => h.chunk.snapshotId)).toEqual([2]);
    // Once no chunk uses the old text of a.f, its row and index entry go (at the next upkeep
    // or search, not inside the commit); the new one is shared.
    await store.replaceFile('app', 'c1', 'c1', 'a.ts', [{ fqn: 'a.f', kind: 'function', language: 'ts', startLine: 1, endLine: 2, content: 'fresh text' }]);
    expect(await store.chunks.indexBacklog()).toEqual({ pendingTexts: 0, unsweptFiles: 1 });
    expect(await hits()).toEqual(['1:b.ts', '1:c.ts', '2:b.ts']);
    expect(await store.chunks.indexBacklog()).toEqual({ pendingTexts: 0, unsweptFiles: 0 });
    const after = await dumpDatabase(store.exportDatabase());
    expect(after.chunk_contents!.map((r) => r[4]).sort()).toEqual(
      ['fresh text', 'needle changed in c2', 'needle deleted', 'needle only in c1', 'shared needle text']);
  });

  it('migrates version 4 data to shared file versions: chunks, edges, metadata and ids carried over', async () => {
    const db = new SqlDb(await sqlJs(), undefined);
    await migrate(db, 1000, 4);
    db.transaction(() => {
      db.run("INSERT INTO repositories (name, url, created) VALUES ('app', NULL, 1)");
      db.run("INSERT INTO snapshots (repo_id, commit_hash, branch, parent_id, created) VALUES (1, 'c1', NULL, NULL, 2)");
      db.run("INSERT INTO snapshots (repo_id, commit_hash, branch, parent_id, created) VALUES (1, 'c2', NULL, 1, 3)");
      const rows: [number, string, string, number][] = [
        [1, 'a.ts', 'a.f', 0], [1, 'a.ts', 'a.g', 0], [1, 'b.ts', 'b.h', 1], [2, 'a.ts', 'a.f', 0], [2, 'b.ts', 'b.h', 0],
      ];
      for (const [snapshot, path, fqn, deleted] of rows) {
        db.run('INSERT INTO chunk_contents (file_path, fqn, content_hash, content) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING',
          [path, fqn, `h-${fqn}`, `text of ${fqn}`]);
        db.run(`INSERT INTO chunks (repo_id, snapshot_id, file_path, fqn, kind, language, start_line, end_line, content_hash,
          is_deleted, updated, content_id) VALUES (1, ?1, ?2, ?3, 'function', 'ts', 1, 2, ?4, ?5, 9,
          (SELECT id FROM chunk_contents WHERE fqn = ?3))`, [snapshot, path, fqn, `h-${fqn}`, deleted]);
      }
      // Edges as version 4 stored them (targets resolved on write).
      db.run("INSERT INTO dependencies (snapshot_id, from_chunk_id, to_chunk_id, to_fqn, kind) VALUES (1, 1, 2, 'a.g', 'calls')");
      db.run("INSERT INTO dependencies (snapshot_id, from_chunk_id, to_chunk_id, to_fqn, kind) VALUES (1, 2, NULL, 'b.h', 'calls')");
      db.run("INSERT INTO dependencies (snapshot_id, from_chunk_id, to_chunk_id, to_fqn, kind) VALUES (2, 4, 5, 'b.h', 'imports')");
      db.run(`INSERT INTO file_metadata (snapshot_id, path, content_hash, size, language, chunk_count)
        VALUES (1, 'a.ts', 'fa', 10, 'ts', 2), (1, 'c.ts', 'fc', 0, 'ts', 0)`);
    });
    const old = db.export();
    db.close();

    const journal: JournalStatement[][] = [];
    const store = await openTestStore({ data: old, journal });
    const cs = store.chunks;
    const view = async (commit: string) => (await cs.getChunks('app', commit, { includeDeleted: true }))
      .map((c) => [c.filePath, c.fqn, c.content, c.isDeleted, c.updated]);
    expect(await view('c1')).toEqual([
      ['a.ts', 'a.f', 'text of a.f', false, 9], ['a.ts', 'a.g', 'text of a.g', false, 9], ['b.ts', 'b.h', 'text of b.h', true, 9],
    ]);
    expect(await view('c2')).toEqual([['a.ts', 'a.f', 'text of a.f', false, 9], ['b.ts', 'b.h', 'text of b.h', false, 9]]);
    // Ids are now snapshot id × 2^32 + the old row id.
    const c1 = (await cs.getSnapshot('app', 'c1'))!.id;
    const c2 = (await cs.getSnapshot('app', 'c2'))!.id;
    const af1 = (await cs.getChunkByFqn('app', 'c1', 'a.f'))!;
    expect(af1.id).toBe(c1 * 2 ** 32 + 1);
    const edges = async (chunkId: number) => (await cs.getDependenciesFrom(chunkId)).map((d) => [d.toFqn, d.kind, d.toChunkId]);
    expect(await edges(af1.id)).toEqual([['a.g', 'calls', c1 * 2 ** 32 + 2]]);
    expect(await edges(c1 * 2 ** 32 + 2)).toEqual([['b.h', 'calls', null]]); // b.h is soft-deleted in c1
    expect(await edges(c2 * 2 ** 32 + 4)).toEqual([['b.h', 'imports', c2 * 2 ** 32 + 5]]);
    expect((await cs.listFileMetadata('app', 'c1')).map((m) => [m.path, m.contentHash, m.chunkCount])).toEqual([['a.ts', 'fa', 2], ['c.ts', 'fc', 0]]);
    expect(await cs.listFileMetadata('app', 'c2')).toEqual([]);
    // An incremental snapshot from migrated data shares its files and counts their live chunks.
    const stats = await store.createIncrementalSnapshot('app', 'c1', 'c3', [], () => null);
    expect(stats).toMatchObject({ filesSkipped: 3, chunksCopied: 2 });

    const replayed = new SqlDb(await sqlJs(), old);
    replayed.replay(journal.flat());
    expect(await dumpDatabase(replayed.export())).toEqual(await dumpDatabase(store.exportDatabase()));
  });

  it('refuses a database written by newer code with UNSUPPORTED_VERSION', async () => {
    const SQL = await sqlJs();
    const raw = new SQL.Database((await openTestStore()).exportDatabase());
    raw.run("INSERT INTO schema_version (version, description, applied) VALUES (?, 'from the future', 0)", [SCHEMA_VERSION + 1]);
    const error = await openError(raw.export());
    expectCode(error, 'UNSUPPORTED_VERSION');
    expect((error as Error).message).toContain(String(SCHEMA_VERSION + 1));
  });

  it('round-trips through exportDatabase and keeps working after reopening', async () => {
    const store = await openTestStore();
    await store.chunks.saveRepository('app');
    await store.chunks.createSnapshot('app', 'c1');
    const [first] = await store.chunks.saveChunks('app', 'c1', [chunk('a.ts', 'a.f', 'hello world')]);
    const bytes = store.exportDatabase();
    const reopened = await openTestStore({ data: bytes });
    expect(await dumpDatabase(reopened.exportDatabase())).toEqual(await dumpDatabase(bytes));
    const [second] = await reopened.chunks.saveChunks('app', 'c1', [chunk('b.ts', 'b.g', 'hello again')]);
    expect(second).toBe(first! + 1);
    expect((await reopened.chunks.searchContent('hello')).length).toBe(2);
    // The original is unaffected by writes to the copy.
    expect((await store.chunks.searchContent('hello')).length).toBe(1);
  });

  it('treats empty bytes as a new database', async () => {
    const store = await openSnapshotStore({ sqlJs: sqlJs(), data: new Uint8Array(0) });
    expect(await store.chunks.listRepositories()).toEqual([]);
  });

  it('refuses bytes that are not a snapshot database with CORRUPT', async () => {
    const SQL = await sqlJs();
    const good = (await openTestStore()).exportDatabase();
    const pageSize = (good[16]! << 8) | good[17]!;

    expectCode(await openError(new Uint8Array(4096).fill(7)), 'CORRUPT');
    expectCode(await openError(new TextEncoder().encode('not a database at all')), 'CORRUPT');
    expectCode(await openError(good.slice(0, good.byteLength - pageSize / 2)), 'CORRUPT');

    // A valid header over scrambled pages.
    const scrambled = good.slice();
    for (let i = 100; i < scrambled.byteLength; i++) scrambled[i] = (i * 131) & 0xff;
    expectCode(await openError(scrambled), 'CORRUPT');

    // A healthy SQLite file of some other application.
    const foreign = new SQL.Database();
    foreign.run('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
    expectCode(await openError(foreign.export()), 'CORRUPT');
    const otherApp = new SQL.Database();
    otherApp.run('PRAGMA application_id = 42');
    expectCode(await openError(otherApp.export()), 'CORRUPT');

    expectCode(await openError('SQLite format 3'), 'INVALID_ARGUMENT');
  });
});
