// The codeshelf explorer demo. It uses only the public API: everything below that touches
// storage runs in the storage worker behind `openShelf`.
import { openShelf, defineKeySpace, type Shelf } from '../src/index.ts';
import { runSnapshotPanel } from './snapshot-panel.ts';
import { runSearch } from './search-panel.ts';

interface FileRecord {
  path: string;
  language: string;
  size: number;
  lines: number;
  text: string;
  importedAt: string;
}

const files = defineKeySpace('file', { path: 'string' });
const notes = defineKeySpace('note', { name: 'string' });

const sample = import.meta.glob('./sample-repo/**/*', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

const LANGUAGES: Record<string, string> = { ts: 'typescript', py: 'python', md: 'markdown', js: 'javascript' };
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function languageOf(path: string): string {
  return LANGUAGES[path.split('.').pop() ?? ''] ?? 'text';
}

async function importSample(shelf: Shelf): Promise<number> {
  const importedAt = new Date().toISOString();
  const ops = Object.entries(sample).map(([rawPath, text]) => {
    const path = rawPath.replace('./sample-repo/', '');
    const value: FileRecord = { path, language: languageOf(path), size: new Blob([text]).size, lines: text.split('\n').length, text, importedAt };
    return { type: 'put' as const, key: files.key({ path }), value };
  });
  await shelf.kv.batch(ops);
  // The search index (its own worker) gets every file; update() is an upsert.
  await shelf.search.update(ops.map(({ value }) => ({ id: value.path, text: value.text, path: value.path, language: value.language })));
  // Per-file outlines go into a document collection (saved in the background to OPFS).
  if (!(await shelf.collections.list()).includes('outlines')) await shelf.collections.create('outlines');
  for (const { value } of ops) {
    const outline = { _id: value.path, language: value.language, lines: value.lines, symbols: outlineOf(value.text) };
    await shelf.collections.replace('outlines', value.path, outline).catch(() => shelf.collections.insert('outlines', outline));
  }
  await shelf.logs.add({ level: 'info', message: `imported ${ops.length} files from the sample repository` });
  return ops.length;
}

/** A rough outline (declared names) for the demo; the real one comes from tree-sitter later. */
function outlineOf(text: string): string[] {
  const names = text.matchAll(/(?:class|interface|function|def|type)\s+([A-Za-z_][\w]*)/g);
  return [...new Set([...names].map((m) => m[1]!))];
}

async function renderFiles(shelf: Shelf): Promise<void> {
  const page = await shelf.kv.scan({ prefix: files.prefix(), keysOnly: true });
  const list = $('file-list');
  list.replaceChildren(
    ...page.keys.map((key) => {
      const { path } = files.parse(key);
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.textContent = path;
      button.dataset.path = path;
      button.addEventListener('click', () => void showFile(shelf, path, button));
      li.append(button);
      return li;
    }),
  );
  $('file-count').textContent = `${page.keys.length} in storage`;
}

async function showFile(shelf: Shelf, path: string, button: HTMLElement): Promise<void> {
  const [record, outline] = await Promise.all([
    shelf.kv.get(files.key({ path })) as Promise<FileRecord | undefined>,
    shelf.collections.get('outlines', path),
  ]);
  document.querySelectorAll('#file-list button').forEach((b) => b.setAttribute('aria-current', String(b === button)));
  $('viewer-title').textContent = path;
  const symbols = (outline?.symbols as string[] | undefined)?.join(', ') || 'none';
  $('viewer-meta').textContent = record ? `${record.language} · ${record.lines} lines · ${record.size} bytes · declares ${symbols}` : 'not in storage';
  $('viewer').textContent = record?.text ?? '';
}

async function renderNotes(shelf: Shelf): Promise<void> {
  const page = await shelf.kv.scan({ prefix: notes.prefix() });
  $('notes').replaceChildren(
    ...page.keys.map((key, i) => {
      const li = document.createElement('li');
      li.textContent = `${notes.parse(key).name}: ${String(page.values![i])}`;
      return li;
    }),
  );
}

async function renderStats(shelf: Shelf): Promise<void> {
  const stats = await shelf.kv.stats();
  const rows: [string, string][] = [
    ['keys', String(stats.keyCount)],
    ['bytes written', String(stats.bytesWritten)],
    ['bytes read', String(stats.bytesRead)],
    ...(['get', 'set', 'batch', 'scan'] as const).map((k): [string, string] => [
      `${k} (count · mean)`,
      `${stats.ops[k].count} · ${stats.ops[k].meanMs.toFixed(2)} ms`,
    ]),
  ];
  $('stats').replaceChildren(...rows.map(([label, value]) => row(label, value)));
}

async function renderCollections(shelf: Shelf): Promise<void> {
  const stats = await shelf.collections.stats();
  const rows: [string, string][] = [
    ['collections (loaded / total)', `${stats.loadedCollections} / ${stats.totalCollections}`],
    ['memory used / limit', `${(stats.memoryUsed / 1024).toFixed(1)} KiB / ${(stats.memoryLimit / 1048576).toFixed(0)} MiB`],
    ['cache hits / misses', `${stats.cacheHits} / ${stats.cacheMisses}`],
    ['evictions', String(stats.evictions)],
    ['saves / bytes written', `${stats.saves} / ${stats.bytesWritten}`],
    ['blocks kept by saves / compressed by helpers', `${stats.blocksReused} / ${stats.blocksCompressedByHelpers}`],
    ['saves that could not keep blocks', String(stats.reuseFailures)],
    ['background saves that failed', String(stats.backgroundSaveFailures)],
  ];
  $('collection-stats').replaceChildren(...rows.map(([label, value]) => row(label, value)));
}

function row(label: string, value: string): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.innerHTML = '<td></td><td></td>';
  tr.children[0]!.textContent = label;
  tr.children[1]!.textContent = value;
  return tr;
}

async function renderLog(shelf: Shelf): Promise<void> {
  await shelf.logs.flush();
  const entries = await shelf.logs.list({ level: 'info', reverse: true, limit: 8 });
  $('log').replaceChildren(
    ...entries.map((e) => {
      const li = document.createElement('li');
      li.textContent = `${e.timestamp?.slice(11, 19)} ${e.message}`;
      return li;
    }),
  );
}

async function main(): Promise<void> {
  const shelf = await openShelf({ name: 'codeshelf-demo' });
  const refresh = () => Promise.all([renderFiles(shelf), renderNotes(shelf), renderStats(shelf), renderLog(shelf), renderCollections(shelf)]);
  const stored = await shelf.kv.count({ prefix: files.prefix() });
  if (stored === 0) {
    const n = await importSample(shelf);
    $('status').textContent = `Imported ${n} sample files into IndexedDB through the storage worker.`;
  } else {
    $('status').textContent = `Opened ${stored} files persisted from an earlier visit.`;
  }
  await refresh();

  $('reindex').addEventListener('click', async () => {
    const n = await importSample(shelf);
    $('status').textContent = `Re-imported ${n} sample files.`;
    await refresh();
  });
  $('note-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = $<HTMLInputElement>('note-key').value.trim();
    const text = $<HTMLInputElement>('note-text').value;
    if (!name) return;
    await shelf.kv.set(notes.key({ name }), text);
    await shelf.logs.add({ level: 'info', message: `saved note "${name}"` });
    $<HTMLFormElement>('note-form').reset();
    await refresh();
  });
  const search = () => {
    const q = $<HTMLInputElement>('search-input').value;
    const regex = $<HTMLInputElement>('search-regex').checked;
    runSearch(shelf, q, regex, $('search-out')).catch((error: unknown) => {
      $('search-out').textContent = `${(error as { code?: string }).code ?? 'Error'}: ${(error as Error).message}`;
    });
  };
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    search();
  });
  $('search-input').addEventListener('input', search);
  $('snapshot-run').addEventListener('click', async () => {
    $('snapshot-out').textContent = 'Snapshotting…';
    const sampleFiles = Object.entries(sample).map(([raw, text]) => {
      const path = raw.replace('./sample-repo/', '');
      return { path, text, language: languageOf(path) };
    });
    await runSnapshotPanel(shelf, sampleFiles, $('snapshot-out')).catch((error: unknown) => {
      $('snapshot-out').textContent = `Failed: ${(error as Error).message}`;
    });
  });
  // Live stats while the demo works (the background save shows up here).
  setInterval(() => void renderCollections(shelf).catch(() => undefined), 1000);
  document.body.dataset.ready = 'true';
}

main().catch((error: unknown) => {
  $('status').textContent = `Failed: ${(error as Error).message}`;
  document.body.dataset.ready = 'error';
});
