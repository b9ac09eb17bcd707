import { ShelfError } from '../errors/index.ts';
import type { SqlDb } from './sql-db.ts';

/**
 * `PRAGMA application_id` of a codeshelf snapshot database: "CSSN" in the SQLite header
 * (offset 68), so a foreign SQLite file is told apart from ours before any table is read.
 */
export const SNAPSHOT_APPLICATION_ID = 0x4353534e;

/** One forward step of the schema. Each SQL string holds exactly one statement. @internal */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly statements: readonly string[];
}

const FTS_COLUMNS = 'content, fqn, file_path';

/**
 * Every schema step, oldest first. Never edit a released step: append a new one.
 * @internal
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'repositories, snapshots, chunks, dependencies, file metadata',
    statements: [
      `PRAGMA application_id = ${SNAPSHOT_APPLICATION_ID}`,
      `CREATE TABLE schema_version (
        version INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        applied INTEGER NOT NULL
      )`,
      `CREATE TABLE repositories (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        url TEXT,
        created INTEGER NOT NULL
      )`,
      `CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        repo_id INTEGER NOT NULL REFERENCES repositories(id),
        commit_hash TEXT NOT NULL,
        branch TEXT,
        parent_id INTEGER REFERENCES snapshots(id),
        created INTEGER NOT NULL,
        UNIQUE (repo_id, commit_hash)
      )`,
      `CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        repo_id INTEGER NOT NULL REFERENCES repositories(id),
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
        file_path TEXT NOT NULL,
        fqn TEXT NOT NULL,
        kind TEXT NOT NULL,
        language TEXT NOT NULL,
        start_line INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        content TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        is_deleted INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL
      )`,
      // Serves lookups by snapshot, by (snapshot, file) and the upsert key.
      'CREATE UNIQUE INDEX idx_chunks_snapshot_file ON chunks (snapshot_id, file_path, fqn)',
      // Serves FQN lookups and dependency target resolution within a snapshot.
      'CREATE INDEX idx_chunks_fqn ON chunks (snapshot_id, fqn, file_path)',
      `CREATE TABLE dependencies (
        id INTEGER PRIMARY KEY,
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
        from_chunk_id INTEGER NOT NULL REFERENCES chunks(id),
        to_chunk_id INTEGER REFERENCES chunks(id),
        to_fqn TEXT NOT NULL,
        kind TEXT NOT NULL
      )`,
      // One edge per (from, kind, target name); doubles as the "from" index.
      'CREATE UNIQUE INDEX idx_deps_from ON dependencies (from_chunk_id, kind, to_fqn)',
      'CREATE INDEX idx_deps_to ON dependencies (to_chunk_id)',
      'CREATE INDEX idx_deps_to_fqn ON dependencies (snapshot_id, to_fqn)',
      `CREATE TABLE file_metadata (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
        path TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        language TEXT NOT NULL,
        chunk_count INTEGER NOT NULL,
        PRIMARY KEY (snapshot_id, path)
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 2,
    description: 'FTS4 full-text index over chunk content, fqn and file path',
    statements: [
      // External content: the index stores no second copy of the text; snippet() reads
      // it back from `chunks` by docid (= chunks.id).
      `CREATE VIRTUAL TABLE chunks_fts USING fts4(content="chunks", ${FTS_COLUMNS}, tokenize=unicode61)`,
      // BEFORE triggers: FTS4 must read the old text from `chunks` to remove its terms.
      `CREATE TRIGGER chunks_fts_before_update BEFORE UPDATE OF ${FTS_COLUMNS} ON chunks
        WHEN old.content IS NOT new.content OR old.fqn IS NOT new.fqn OR old.file_path IS NOT new.file_path
        BEGIN DELETE FROM chunks_fts WHERE docid = old.id; END`,
      `CREATE TRIGGER chunks_fts_after_update AFTER UPDATE OF ${FTS_COLUMNS} ON chunks
        WHEN old.content IS NOT new.content OR old.fqn IS NOT new.fqn OR old.file_path IS NOT new.file_path
        BEGIN INSERT INTO chunks_fts (docid, ${FTS_COLUMNS}) VALUES (new.id, new.content, new.fqn, new.file_path); END`,
      `CREATE TRIGGER chunks_fts_before_delete BEFORE DELETE ON chunks
        BEGIN DELETE FROM chunks_fts WHERE docid = old.id; END`,
      `CREATE TRIGGER chunks_fts_after_insert AFTER INSERT ON chunks
        BEGIN INSERT INTO chunks_fts (docid, ${FTS_COLUMNS}) VALUES (new.id, new.content, new.fqn, new.file_path); END`,
      // Index chunks written by a version 1 database.
      `INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild')`,
    ],
  },
  {
    version: 3,
    description: 'chunk contents stored and full-text indexed once per (file, fqn, content hash)',
    statements: [
      // One row per distinct indexed document. A chunk copied into another snapshot, or
      // saved again unchanged, points at the same row, so copying a snapshot copies small
      // chunk rows and never touches the FTS index. Rows are never updated, only added and
      // (once no chunk refers to them) deleted. The unique index is the lookup key and, by
      // its leading column, the per-file index the orphan sweep uses.
      `CREATE TABLE chunk_contents (
        id INTEGER PRIMARY KEY,
        file_path TEXT NOT NULL,
        fqn TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        content TEXT NOT NULL
      )`,
      'CREATE UNIQUE INDEX idx_contents_key ON chunk_contents (file_path, fqn, content_hash)',
      // Existing chunks: one content row per distinct key, in chunk order. content_hash is
      // the SHA-256 of content, so equal keys hold equal text.
      `INSERT INTO chunk_contents (file_path, fqn, content_hash, content)
        SELECT file_path, fqn, content_hash, content FROM chunks WHERE true ORDER BY id
        ON CONFLICT (file_path, fqn, content_hash) DO NOTHING`,
      'ALTER TABLE chunks ADD COLUMN content_id INTEGER REFERENCES chunk_contents(id)',
      `UPDATE chunks SET content_id = (SELECT x.id FROM chunk_contents x
        WHERE x.file_path = chunks.file_path AND x.fqn = chunks.fqn AND x.content_hash = chunks.content_hash)`,
      'DROP TRIGGER chunks_fts_before_update',
      'DROP TRIGGER chunks_fts_after_update',
      'DROP TRIGGER chunks_fts_before_delete',
      'DROP TRIGGER chunks_fts_after_insert',
      'DROP TABLE chunks_fts',
      'ALTER TABLE chunks DROP COLUMN content',
      // Search joins FTS hits (content ids) to the chunks that use them, per snapshot; the
      // orphan sweep asks whether any chunk still uses a content row.
      'CREATE INDEX idx_chunks_content ON chunks (content_id, snapshot_id)',
      // Same name, columns and tokenizer as before, now over chunk_contents: docid = chunk_contents.id.
      `CREATE VIRTUAL TABLE chunks_fts USING fts4(content="chunk_contents", ${FTS_COLUMNS}, tokenize=unicode61)`,
      `CREATE TRIGGER contents_fts_after_insert AFTER INSERT ON chunk_contents
        BEGIN INSERT INTO chunks_fts (docid, ${FTS_COLUMNS}) VALUES (new.id, new.content, new.fqn, new.file_path); END`,
      `CREATE TRIGGER contents_fts_before_delete BEFORE DELETE ON chunk_contents
        BEGIN DELETE FROM chunks_fts WHERE docid = old.id; END`,
      // The store never updates a content row; these keep the index right if anything does.
      `CREATE TRIGGER contents_fts_before_update BEFORE UPDATE OF ${FTS_COLUMNS} ON chunk_contents
        BEGIN DELETE FROM chunks_fts WHERE docid = old.id; END`,
      `CREATE TRIGGER contents_fts_after_update AFTER UPDATE OF ${FTS_COLUMNS} ON chunk_contents
        BEGIN INSERT INTO chunks_fts (docid, ${FTS_COLUMNS}) VALUES (new.id, new.content, new.fqn, new.file_path); END`,
      `INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild')`,
    ],
  },
  {
    version: 4,
    description: 'full-text indexing deferred out of commits: pending texts and unswept files',
    statements: [
      // Content rows written but not yet in chunks_fts. A commit only lists them here; the
      // index takes them in later, in bounded upkeep steps or before the next search, so a
      // commit does not pay for tokenizing its texts or for the segment merges that follow.
      'CREATE TABLE fts_pending (content_id INTEGER PRIMARY KEY)',
      // Files whose content rows may have lost their last chunk (a chunk's text changed in
      // place). The orphaned rows are deleted by the same upkeep, because removing an
      // indexed text from FTS4 costs as much as indexing it.
      'CREATE TABLE contents_unswept (file_path TEXT PRIMARY KEY) WITHOUT ROWID',
      'DROP TRIGGER contents_fts_after_insert',
      'DROP TRIGGER contents_fts_before_delete',
      'DROP TRIGGER contents_fts_before_update',
      'DROP TRIGGER contents_fts_after_update',
      'DROP TABLE chunks_fts',
      // The index's external content is this view: the texts it holds, pending ones left
      // out, so the index always equals its content — integrity checks pass between
      // upkeep steps, and FTS4 reads a removed text back from here (by rowid, through the
      // primary key). A view column named rowid stands for the rowid FTS4 asks for.
      `CREATE VIEW chunk_texts AS SELECT x.id AS rowid, x.content AS content, x.fqn AS fqn, x.file_path AS file_path
        FROM chunk_contents x WHERE NOT EXISTS (SELECT 1 FROM fts_pending p WHERE p.content_id = x.id)`,
      `CREATE VIRTUAL TABLE chunks_fts USING fts4(content="chunk_texts", ${FTS_COLUMNS}, tokenize=unicode61)`,
      `INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild')`,
      `CREATE TRIGGER contents_after_insert AFTER INSERT ON chunk_contents
        BEGIN INSERT INTO fts_pending (content_id) VALUES (new.id); END`,
      // Only an indexed text has terms to remove; a pending one just leaves the list.
      `CREATE TRIGGER contents_before_delete BEFORE DELETE ON chunk_contents
        WHEN NOT EXISTS (SELECT 1 FROM fts_pending WHERE content_id = old.id)
        BEGIN DELETE FROM chunks_fts WHERE docid = old.id; END`,
      `CREATE TRIGGER contents_after_delete AFTER DELETE ON chunk_contents
        BEGIN DELETE FROM fts_pending WHERE content_id = old.id; END`,
      // The store never updates a content row; these keep the index right if anything
      // changes its text, FQN or path (not its id).
      `CREATE TRIGGER contents_before_update BEFORE UPDATE OF ${FTS_COLUMNS} ON chunk_contents
        WHEN NOT EXISTS (SELECT 1 FROM fts_pending WHERE content_id = old.id)
        BEGIN DELETE FROM chunks_fts WHERE docid = old.id; END`,
      `CREATE TRIGGER contents_after_update AFTER UPDATE OF ${FTS_COLUMNS} ON chunk_contents
        BEGIN INSERT OR IGNORE INTO fts_pending (content_id) VALUES (new.id); END`,
    ],
  },
  {
    version: 5,
    description: 'snapshots share unchanged files: file versions, snapshot file maps, chunks and edges per version',
    statements: [
      // A file version: one state of one file — its chunks, the edges leaving them and its
      // metadata. Snapshots map paths to versions, so a snapshot that leaves a file as its
      // parent had it shares the parent's version instead of copying its rows. A version is
      // written in place only while one snapshot maps it; the first write through another
      // snapshot copies it (cloned_from records which it was copied from). live_chunks
      // counts its chunks that are not soft-deleted (kept by every write, so a snapshot's
      // statistics need not visit chunks). The metadata columns are NULL until metadata is
      // saved for the file.
      `CREATE TABLE file_versions (
        id INTEGER PRIMARY KEY,
        repo_id INTEGER NOT NULL REFERENCES repositories(id),
        path TEXT NOT NULL,
        cloned_from INTEGER REFERENCES file_versions(id),
        live_chunks INTEGER NOT NULL DEFAULT 0,
        content_hash TEXT,
        size INTEGER,
        language TEXT,
        chunk_count INTEGER
      )`,
      `CREATE TABLE snapshot_files (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
        path TEXT NOT NULL,
        version_id INTEGER NOT NULL REFERENCES file_versions(id),
        PRIMARY KEY (snapshot_id, path)
      ) WITHOUT ROWID`,
      // Existing data: one version per (snapshot, path) holding chunks or metadata, numbered
      // in that order (versions first: the map refers to them).
      `INSERT INTO file_versions (id, repo_id, path, cloned_from, live_chunks, content_hash, size, language, chunk_count)
        SELECT row_number() OVER (ORDER BY u.snapshot_id, u.path), s.repo_id, u.path, NULL,
          (SELECT count(*) FROM chunks c WHERE c.snapshot_id = u.snapshot_id AND c.file_path = u.path AND c.is_deleted = 0),
          m.content_hash, m.size, m.language, m.chunk_count
        FROM (SELECT snapshot_id, file_path AS path FROM chunks UNION SELECT snapshot_id, path FROM file_metadata) u
        JOIN snapshots s ON s.id = u.snapshot_id
        LEFT JOIN file_metadata m ON m.snapshot_id = u.snapshot_id AND m.path = u.path
        ORDER BY u.snapshot_id, u.path`,
      `INSERT INTO snapshot_files (snapshot_id, path, version_id)
        SELECT snapshot_id, path, row_number() OVER (ORDER BY snapshot_id, path)
        FROM (SELECT snapshot_id, file_path AS path FROM chunks UNION SELECT snapshot_id, path FROM file_metadata)
        ORDER BY snapshot_id, path`,
      // A chunk belongs to a version. Its public id is (snapshot id << 32) | key, where the
      // key is its own rowid, or for a copy (key_id set) the rowid of the chunk it was copied
      // from: the same chunk keeps its id in a snapshot when the snapshot's version of the
      // file is copied on write.
      `CREATE TABLE chunks_v5 (
        id INTEGER PRIMARY KEY,
        version_id INTEGER NOT NULL REFERENCES file_versions(id),
        key_id INTEGER,
        fqn TEXT NOT NULL,
        kind TEXT NOT NULL,
        language TEXT NOT NULL,
        start_line INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        is_deleted INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL,
        content_id INTEGER REFERENCES chunk_contents(id)
      )`,
      `INSERT INTO chunks_v5 (id, version_id, key_id, fqn, kind, language, start_line, end_line, content_hash,
          is_deleted, updated, content_id)
        SELECT c.id, f.version_id, NULL, c.fqn, c.kind, c.language, c.start_line, c.end_line, c.content_hash,
          c.is_deleted, c.updated, c.content_id
        FROM chunks c JOIN snapshot_files f ON f.snapshot_id = c.snapshot_id AND f.path = c.file_path ORDER BY c.id`,
      // Edges leave a chunk row and name their target by FQN; the target chunk is resolved
      // when read, within the snapshot being read, so a shared version's edges are right in
      // every snapshot that maps it. key_id as for chunks.
      `CREATE TABLE dependencies_v5 (
        id INTEGER PRIMARY KEY,
        key_id INTEGER,
        from_row INTEGER NOT NULL REFERENCES chunks_v5(id),
        to_fqn TEXT NOT NULL,
        kind TEXT NOT NULL
      )`,
      `INSERT INTO dependencies_v5 (id, key_id, from_row, to_fqn, kind)
        SELECT id, NULL, from_chunk_id, to_fqn, kind FROM dependencies ORDER BY id`,
      'DROP TABLE dependencies',
      'DROP TABLE chunks',
      'DROP TABLE file_metadata',
      'ALTER TABLE chunks_v5 RENAME TO chunks',
      'ALTER TABLE dependencies_v5 RENAME TO dependencies',
      // The upsert key and the per-version listing.
      'CREATE UNIQUE INDEX idx_chunks_version_fqn ON chunks (version_id, fqn)',
      // FQN lookups and edge targets: every version defining an FQN, then the snapshot check.
      'CREATE INDEX idx_chunks_fqn ON chunks (fqn, version_id)',
      // Search joins index hits (content ids) to chunks; the orphan sweep asks whether any
      // chunk still uses a content row.
      'CREATE INDEX idx_chunks_content ON chunks (content_id)',
      // Copies only: a chunk id names its key.
      'CREATE INDEX idx_chunks_key ON chunks (key_id) WHERE key_id IS NOT NULL',
      'CREATE UNIQUE INDEX idx_deps_from ON dependencies (from_row, kind, to_fqn)',
      'CREATE INDEX idx_deps_to_fqn ON dependencies (to_fqn)',
      // Which snapshots map a version: "is it shared?" and "is this row in snapshot s?".
      'CREATE INDEX idx_snapshot_files_version ON snapshot_files (version_id, snapshot_id)',
    ],
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Reads the schema version of an open database: 0 for an empty one. A SQLite file that is
 * not a snapshot database is `CORRUPT`.
 * @internal
 */
export function readSchemaVersion(db: SqlDb): number {
  const appId = db.get<{ application_id: number }>('PRAGMA application_id')?.application_id ?? 0;
  const tables = db.query<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  );
  if (appId !== 0 && appId !== SNAPSHOT_APPLICATION_ID) {
    throw new ShelfError('CORRUPT', `data is a SQLite database of another application (application_id ${appId})`);
  }
  if (tables.length === 0 && appId === 0) return 0;
  if (!tables.some((t) => t.name === 'schema_version')) {
    throw new ShelfError('CORRUPT', 'data is a SQLite database without a codeshelf schema_version table');
  }
  const row = db.get<{ version: number | null }>('SELECT max(version) AS version FROM schema_version');
  return row?.version ?? 0;
}

/**
 * Brings the schema up to `target` (default: {@link SCHEMA_VERSION}) in one transaction, so
 * an interrupted upgrade leaves the old version intact. A database written by newer code
 * is `UNSUPPORTED_VERSION`. Returns the versions before and after.
 * @internal
 */
export async function migrate(db: SqlDb, now: number, target = SCHEMA_VERSION): Promise<{ from: number; to: number }> {
  const from = readSchemaVersion(db);
  if (from > SCHEMA_VERSION) {
    throw new ShelfError(
      'UNSUPPORTED_VERSION',
      `snapshot database has schema version ${from}; this code supports up to ${SCHEMA_VERSION}`,
    );
  }
  const steps = MIGRATIONS.filter((m) => m.version > from && m.version <= target);
  if (steps.length === 0) return { from, to: from };
  await db.commit(() => {
    for (const step of steps) {
      for (const sql of step.statements) db.run(sql);
      db.run('INSERT INTO schema_version (version, description, applied) VALUES (?1, ?2, ?3)', [
        step.version, step.description, now,
      ]);
    }
  });
  return { from, to: steps[steps.length - 1]!.version };
}
