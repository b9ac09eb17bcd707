import type { SqlJsStatic, SqlValue } from 'sql.js';
import { openSnapshotStore, type ChunkInput, type CodeSnapshotStore, type JournalStatement, type OpenSnapshotStoreOptions } from '../../../src/snapshot/index.ts';
import { loadDefaultSqlJs } from '../../../src/snapshot/open.ts';

/** The sql.js module every test shares (loading the WASM once keeps the suite fast). */
export function sqlJs(): Promise<SqlJsStatic> {
  return loadDefaultSqlJs();
}

/** A clock that ticks 1 ms per call from a fixed origin, so runs are reproducible. */
export function testClock(start = 1_700_000_000_000): () => number {
  let t = start;
  return () => t++;
}

/** Opens a store with a test clock and, optionally, a journal that collects commits. */
export async function openTestStore(options: OpenSnapshotStoreOptions & { journal?: JournalStatement[][] } = {}): Promise<CodeSnapshotStore> {
  const { journal, ...rest } = options;
  return openSnapshotStore({
    sqlJs: sqlJs(),
    now: testClock(),
    ...(journal ? { onCommit: (statements: JournalStatement[]) => void journal.push(statements) } : {}),
    ...rest,
  });
}

/** A chunk with sensible defaults. */
export function chunk(filePath: string, fqn: string, content = `body of ${fqn}`, extra: Partial<ChunkInput> = {}): ChunkInput {
  return { filePath, fqn, kind: 'function', language: 'typescript', startLine: 1, endLine: 3, content, ...extra };
}

const USER_TABLES = [
  'schema_version', 'repositories', 'snapshots', 'file_versions', 'snapshot_files', 'chunk_contents', 'chunks', 'dependencies',
  'file_metadata', 'fts_pending', 'contents_unswept',
];

/**
 * Every row of every table of an exported database, ordered by primary key, plus the
 * logical content of the FTS index (terms × columns × documents via fts4aux, which does not
 * depend on how FTS4 happened to split its segments) and the header's application_id.
 */
export async function dumpDatabase(bytes: Uint8Array): Promise<Record<string, SqlValue[][]>> {
  const SQL = await sqlJs();
  const db = new SQL.Database(bytes);
  try {
    const out: Record<string, SqlValue[][]> = {};
    const tables = db.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")[0]?.values.map((r) => r[0] as string) ?? [];
    for (const table of USER_TABLES.filter((t) => tables.includes(t))) {
      const order = { file_metadata: 'snapshot_id, path', snapshot_files: 'snapshot_id, path', schema_version: 'version', fts_pending: 'content_id', contents_unswept: 'file_path' }[table] ?? 'id';
      out[table] = db.exec(`SELECT * FROM ${table} ORDER BY ${order}`)[0]?.values ?? [];
    }
    if (tables.includes('chunks_fts')) {
      db.run('CREATE VIRTUAL TABLE temp.fts_terms USING fts4aux(main, chunks_fts)');
      out.fts_terms = db.exec('SELECT * FROM temp.fts_terms ORDER BY 1, 2')[0]?.values ?? [];
      out.fts_docs = db.exec('SELECT docid, content, fqn, file_path FROM chunks_fts ORDER BY docid')[0]?.values ?? [];
    }
    out.schema = db.exec("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")[0]?.values ?? [];
    out.application_id = db.exec('PRAGMA application_id')[0]!.values;
    return out;
  } finally {
    db.close();
  }
}
