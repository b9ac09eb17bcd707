import { deleteDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { openShelf, ShelfError, type SearchDocument, type Shelf } from '../../src/index.ts';

let n = 0;
const opened: Shelf[] = [];
async function fresh(options: Parameters<typeof openShelf>[0] extends infer O ? Partial<O> : never = {}): Promise<Shelf> {
  const shelf = await openShelf({ name: `search-${Date.now()}-${n++}`, ...options });
  opened.push(shelf);
  return shelf;
}
afterEach(async () => {
  for (const shelf of opened.splice(0)) {
    await shelf.close();
    await deleteDB(`codeshelf:${shelf.name}:kv`);
    await deleteDB(`codeshelf:${shelf.name}:search:kv`);
  }
});

const docs: SearchDocument[] = [
  { id: 'src/lru.ts', path: 'src/lru.ts', language: 'typescript', text: 'export class LruCache {\n  evictOldest(): void {}\n  getValue(key: string) { return this.map.get(key) }\n}' },
  { id: 'src/emitter.ts', path: 'src/emitter.ts', language: 'typescript', text: 'export class Emitter {\n  emit(event: string) {}\n}' },
  { id: 'tools/warm.py', path: 'tools/warm.py', language: 'python', text: 'def read_log(path):\n    return open(path)\n' },
];

describe('search through its worker', () => {
  it('adds (batched), queries with highlights, filters, regex and substring', async () => {
    const shelf = await fresh();
    await Promise.all(docs.map((d) => shelf.search.add(d)));
    expect((await shelf.search.stats()).documents).toBe(3);
    const hits = await shelf.search.query('evict');
    expect(hits.hits.map((h) => h.id)).toEqual(['src/lru.ts']);
    expect(hits.hits[0]!.ranges[0]).toMatchObject({ line: 1 });
    expect((await shelf.search.query('log', { filters: { language: 'python' } })).hits.map((h) => h.id)).toEqual(['tools/warm.py']);
    expect((await shelf.search.query('class', { filters: { path: 'src/**' } })).total).toBe(2);
    const re = await shelf.search.regex('get[A-Z]\\w+');
    expect(re.matches.map((m) => m.id)).toEqual(['src/lru.ts']);
    expect(re.matches[0]!.ranges[0]).toMatchObject({ line: 2, length: 'getValue'.length });
    expect((await shelf.search.substring('OPEN(PATH)')).matches.map((m) => m.id)).toEqual(['tools/warm.py']);
  });

  it('an update is visible to the next query and survives a new worker', async () => {
    const shelf = await fresh();
    await shelf.search.addMany(docs);
    await shelf.search.update({ ...docs[1]!, text: 'export class Emitter { broadcastAll() {} }' });
    expect((await shelf.search.query('broadcast')).hits.map((h) => h.id)).toEqual(['src/emitter.ts']);
    expect((await shelf.search.remove('tools/warm.py'))).toEqual([true]);
    const name = shelf.name;
    await shelf.close();
    opened.pop();
    const again = await fresh({ name });
    expect((await again.search.query('broadcast')).hits.map((h) => h.id)).toEqual(['src/emitter.ts']);
    expect((await again.search.query('read_log')).total).toBe(0);
    expect((await again.search.stats()).documents).toBe(2);
  });

  it('a reopened index loads its segments in the background before the first query, unless told not to', async () => {
    const shelf = await fresh();
    await shelf.search.addMany(docs);
    await shelf.search.compact();
    const name = shelf.name;
    await shelf.close();
    opened.pop();
    const lazy = await fresh({ name, search: { preload: false } });
    await new Promise((r) => setTimeout(r, 100));
    const idle = await lazy.search.stats();
    expect(idle.segments).toBeGreaterThan(0);
    expect(idle.loadedSegments).toBe(0);
    await lazy.close();
    opened.pop();
    const eager = await fresh({ name });
    let stats = await eager.search.stats();
    for (let i = 0; i < 100 && stats.loadedSegments < stats.segments; i++) {
      await new Promise((r) => setTimeout(r, 10));
      stats = await eager.search.stats();
    }
    expect(stats.loadedSegments).toBe(stats.segments); // no query asked for them
    expect((await eager.search.query('evict')).hits.map((h) => h.id)).toEqual(['src/lru.ts']);
  });

  it('a catastrophic regex cannot hang search for good: the worker is restarted, data kept', async () => {
    const shelf = await fresh({ search: { watchdogGraceMs: 300 } });
    await shelf.search.addMany([...docs, { id: 'evil.txt', text: `${'a'.repeat(34)}!` }]);
    const started = performance.now();
    const error = (await shelf.search.regex('^(a+)+$', { budgetMs: 200, flags: 'm' }).catch((e: unknown) => e)) as ShelfError;
    expect(error).toBeInstanceOf(ShelfError);
    expect(error.code).toBe('ABORTED');
    expect(performance.now() - started).toBeLessThan(5000);
    expect(shelf.search.restarts).toBe(1);
    expect((await shelf.search.query('emit')).hits.map((h) => h.id)).toEqual(['src/emitter.ts']);
  });

  it('bad input arrives as INVALID_ARGUMENT', async () => {
    const shelf = await fresh();
    const error = (await shelf.search.addMany([{ id: '', text: 'x' }]).catch((e: unknown) => e)) as ShelfError;
    expect(error.code).toBe('INVALID_ARGUMENT');
    const bad = (await shelf.search.regex('(unclosed').catch((e: unknown) => e)) as ShelfError;
    expect(bad.code).toBe('INVALID_ARGUMENT');
  });

  it('a damaged stored segment is CORRUPT and repair() rebuilds it from the app documents', async () => {
    const shelf = await fresh();
    await shelf.search.addMany(docs);
    const name = shelf.name;
    await shelf.close();
    opened.pop();
    // Damage one segment body in IndexedDB, as a disk error would.
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(`codeshelf:${name}:search:kv`);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const keys = await new Promise<string[]>((resolve) => {
      const req = db.transaction('kv').objectStore('kv').getAllKeys();
      req.onsuccess = () => resolve(req.result as string[]);
    });
    const bodyKey = keys.find((k) => /body/.test(k))!;
    expect(bodyKey).toBeTruthy();
    await new Promise<void>((resolve) => {
      const tx = db.transaction('kv', 'readwrite');
      const store = tx.objectStore('kv');
      const get = store.get(bodyKey);
      get.onsuccess = () => {
        const bytes = (get.result as Uint8Array).slice();
        bytes[bytes.length - 3]! ^= 0xff;
        store.put(bytes, bodyKey);
      };
      tx.oncomplete = () => resolve();
    });
    db.close();
    const again = await fresh({ name });
    const error = (await again.search.query('emit').catch((e: unknown) => e)) as ShelfError;
    expect(error.code).toBe('CORRUPT');
    const rebuilt = await again.search.repair(async (ids) => docs.filter((d) => ids.includes(d.id)));
    expect(rebuilt.length).toBe(1);
    expect((await again.search.query('emit')).hits.map((h) => h.id)).toEqual(['src/emitter.ts']);
  });
});
