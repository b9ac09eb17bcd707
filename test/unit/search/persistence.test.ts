import { describe, expect, it } from 'vitest';
import { isShelfError } from '../../../src/errors/index.ts';
import { createMemoryKv } from '../../../src/kv/index.ts';
import { kvSegmentStorage, SearchIndex, type SegmentStorage, type SegmentStorageOp } from '../../../src/search/index.ts';
import { loadCorpus, type CorpusDoc } from './corpus.ts';

/** A plain Map-backed SegmentStorage written for the tests (no batch: exercises the ordered path). */
class MapStorage implements SegmentStorage {
  readonly map = new Map<string, Uint8Array>();
  puts: string[] = [];
  async get(key: string) {
    return this.map.get(key);
  }
  async put(key: string, value: Uint8Array) {
    this.puts.push(key);
    this.map.set(key, value.slice());
  }
  async delete(key: string) {
    this.map.delete(key);
  }
}

const QUERIES = ['readonly', '"array buffer"', 'promise* -then', 'function OR class', 'Symbol.iterator'];
const REGEXES = ['new (Map|Set)\\(', 'Uint(8|16)Array', '\\bexport\\b'];

async function answers(index: SearchIndex): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const q of QUERIES) {
    const r = await index.query(q, { limit: 50 });
    out.push(r.total, r.hits.map((h) => [h.id, h.score.toFixed(9), h.ranges]));
  }
  for (const p of REGEXES) {
    const r = await index.regex(p, { limit: Infinity });
    out.push(r.matches);
  }
  return out;
}

function corpusPart(): CorpusDoc[] {
  return loadCorpus().filter((_, i) => i % 3 === 0);
}

async function builtIndex(storage: SegmentStorage, docs: CorpusDoc[]): Promise<SearchIndex> {
  const index = await SearchIndex.open(storage, { segmentTokens: 25_000 });
  index.addMany(docs);
  index.remove(docs[3]!.id);
  index.update({ ...docs[5]!, text: `${docs[5]!.text}\nconst addedLater = new Map();\n` });
  await index.flush();
  return index;
}

describe('search persistence', () => {
  it('reopens from storage with identical answers, loading bodies lazily', async () => {
    const storage = new MapStorage();
    const docs = corpusPart();
    const index = await builtIndex(storage, docs);
    const expected = await answers(index);
    const reopened = await SearchIndex.open(storage);
    expect(reopened.size).toBe(index.size);
    expect(reopened.stats().loadedSegments).toBe(0);
    expect(await answers(reopened)).toEqual(expected);
    expect(reopened.stats().loadedSegments).toBe(reopened.stats().segments);
    expect((await reopened.get(docs[5]!.id))?.text).toContain('addedLater');
    expect(await reopened.get(docs[3]!.id)).toBeUndefined();
  });

  it('preloads saved bodies in the background, within the byte budget, with the same answers', async () => {
    const storage = new MapStorage();
    const index = await builtIndex(storage, corpusPart());
    const expected = await answers(index);
    const reopened = await SearchIndex.open(storage);
    const segments = reopened.stats().segments;
    expect(reopened.stats().loadedSegments).toBe(0);
    expect(await reopened.preload()).toBe(segments);
    expect(reopened.stats().loadedSegments).toBe(segments);
    expect(await reopened.preload()).toBe(0); // nothing left to load
    expect(await answers(reopened)).toEqual(expected);
    // Queries are served while a preload runs, with the same answers.
    const busy = await SearchIndex.open(storage);
    const preloading = busy.preload();
    expect(await answers(busy)).toEqual(expected);
    expect(await preloading).toBeLessThanOrEqual(segments);

    // A small budget: preloading stops once the cache is full instead of cycling it.
    const small = await SearchIndex.open(storage, { cacheBytes: 400_000 });
    const loaded = await small.preload();
    expect(loaded).toBeGreaterThan(0);
    expect(loaded).toBeLessThan(segments);
    expect(small.stats().loadedBytes).toBeLessThanOrEqual(400_000 + index.stats().loadedBytes / segments * 2);

    // A damaged body stops preloading; queries report it exactly as without preloading.
    const victim = index.stats().segmentList[0]!.id;
    const bytes = storage.map.get(`seg/${victim}/body`)!;
    bytes[Math.floor(bytes.length / 2)]! ^= 0x5a;
    const damaged = await SearchIndex.open(storage);
    expect(await damaged.preload()).toBe(0);
    const failure = await damaged.query('readonly').catch((e: unknown) => e);
    expect(isShelfError(failure, 'CORRUPT')).toBe(true);
    expect((failure as Error).message).toContain(`segment ${victim}`);
  });

  it('a body that finishes loading after its segment was replaced does not take a place in the cache', async () => {
    const storage = new MapStorage();
    const docs = corpusPart();
    const index = await builtIndex(storage, docs);
    const expected = await answers(index);
    const victim = index.stats().segmentList[0]!.id;
    // Hold the victim's body read until the segment has been rebuilt.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: SegmentStorage = {
      get: async (key) => {
        if (key === `seg/${victim}/body`) await gate;
        return storage.get(key);
      },
      put: (key, value) => storage.put(key, value),
      delete: (key) => storage.delete(key),
    };
    const reopened = await SearchIndex.open(slow);
    const preloading = reopened.preload();
    const source = new Map(docs.map((d) => [d.id, d]));
    source.set(docs[5]!.id, { ...docs[5]!, text: `${docs[5]!.text}\nconst addedLater = new Map();\n` });
    await reopened.rebuildSegment(victim, reopened.segmentDocumentIds(victim)!.map((id) => source.get(id)!));
    release();
    await preloading;
    const stats = reopened.stats();
    expect(stats.segmentList.some((e) => e.id === victim)).toBe(false);
    expect(stats.segmentList.filter((e) => e.loaded).length).toBe(stats.loadedSegments);
    // Same matches (the rebuilt documents have new numbers, so compare totals).
    const totals = (a: unknown[]) => a.filter((_, i) => i % 2 === 0 && i < 10);
    expect(totals(await answers(reopened))).toEqual(totals(expected));
  });

  it('keeps hot segments within a byte budget and still answers correctly', async () => {
    const storage = new MapStorage();
    const index = await builtIndex(storage, corpusPart());
    const expected = await answers(index);
    const small = await SearchIndex.open(storage, { cacheBytes: 400_000 });
    expect(await answers(small)).toEqual(expected);
    const stats = small.stats();
    expect(stats.loadedSegments).toBeLessThan(stats.segments - 1);
    expect(stats.loadedBytes).toBeLessThan(index.stats().loadedBytes / 2);
  });

  it('saves only what changed: one edit writes one small segment and the manifest', async () => {
    const storage = new MapStorage();
    const docs = corpusPart();
    const index = await builtIndex(storage, docs);
    const total = [...storage.map.values()].reduce((n, v) => n + v.length, 0);
    storage.puts = [];
    index.update({ ...docs[10]!, text: 'export const edited = true;' });
    const report = await index.flush();
    expect(report.segmentsWritten).toBe(1);
    expect(report.bytesWritten).toBeLessThan(total / 20);
    expect(storage.puts.at(-1)).toBe('manifest');
    expect(storage.puts.length).toBe(3);
    expect((await index.flush()).manifestWritten).toBe(false);
    const reopened = await SearchIndex.open(storage);
    expect((await reopened.query('edited')).hits.map((h) => h.id)).toEqual([docs[10]!.id]);
  });

  it('deletes merged-away segments from storage at the next flush', async () => {
    const storage = new MapStorage();
    const index = await builtIndex(storage, corpusPart());
    const before = [...storage.map.keys()].filter((k) => k.endsWith('/body')).length;
    expect(before).toBeGreaterThan(1);
    const expected = await answers(index);
    await index.merge({ force: true });
    await index.flush();
    expect([...storage.map.keys()].filter((k) => k.endsWith('/body')).length).toBe(1);
    const reopened = await SearchIndex.open(storage);
    expect(await reopened.query('readonly', { limit: 1000 }).then((r) => r.total)).toBe((expected[0] as number));
  });

  it('reports a damaged segment body as CORRUPT naming it, and rebuildSegment repairs it', async () => {
    const storage = new MapStorage();
    const docs = corpusPart();
    const index = await builtIndex(storage, docs);
    const expected = await answers(index);
    const victim = index.stats().segmentList[1]!.id;
    const key = `seg/${victim}/body`;
    const bytes = storage.map.get(key)!;
    bytes[Math.floor(bytes.length / 2)]! ^= 0x5a;

    const reopened = await SearchIndex.open(storage);
    const failure = await reopened.query('readonly').catch((e: unknown) => e);
    expect(isShelfError(failure, 'CORRUPT')).toBe(true);
    expect((failure as Error).message).toContain(`segment ${victim}`);
    await expect(reopened.regex('export')).rejects.toSatisfy((e) => isShelfError(e, 'CORRUPT'));

    const problems = await reopened.checkSegments();
    expect(problems.map((p) => p.segmentId)).toEqual([victim]);
    const ids = new Set(problems[0]!.ids);
    const source = new Map(docs.map((d) => [d.id, d]));
    source.set(docs[5]!.id, { ...docs[5]!, text: `${docs[5]!.text}\nconst addedLater = new Map();\n` });
    await reopened.rebuildSegment(victim, [...ids].map((id) => source.get(id)!));
    expect(await answers(reopened).then((a) => a.filter((_, i) => i % 2 === 0 && i < 10))).toEqual(expected.filter((_, i) => i % 2 === 0 && i < 10));
    expect(await reopened.regex(REGEXES[0]!, { limit: Infinity }).then((r) => r.matches.map((m) => m.id).sort()))
      .toEqual((expected[10] as { id: string }[]).map((m) => m.id).sort());
    await reopened.flush();
    expect(storage.map.has(key)).toBe(false);
    const again = await SearchIndex.open(storage);
    expect(await again.checkSegments()).toEqual([]);
    expect(again.size).toBe(index.size);
  });

  it('opens with a damaged head: the segment is reported and queries fail until rebuilt', async () => {
    const storage = new MapStorage();
    const docs = corpusPart();
    const index = await builtIndex(storage, docs);
    const victim = index.stats().segmentList[0]!.id;
    storage.map.set(`seg/${victim}/head`, Uint8Array.of(1, 2, 3));
    const reopened = await SearchIndex.open(storage);
    expect(reopened.stats().damagedSegments).toBe(1);
    expect(reopened.segmentDocumentIds(victim)).toBeNull();
    await expect(reopened.query('x')).rejects.toSatisfy((e) => isShelfError(e, 'CORRUPT'));
    const lost = index.segmentDocumentIds(victim)!;
    await reopened.rebuildSegment(victim, lost.map((id) => docs.find((d) => d.id === id)!).filter((d) => d !== undefined));
    expect(reopened.stats().damagedSegments).toBe(0);
    expect((await reopened.query('readonly', { limit: 1 })).total).toBe((await index.query('readonly', { limit: 1 })).total);
  });

  it('refuses a damaged manifest with CORRUPT', async () => {
    const storage = new MapStorage();
    await builtIndex(storage, corpusPart().slice(0, 8));
    const manifest = storage.map.get('manifest')!;
    manifest[manifest.length - 1]! ^= 1;
    await expect(SearchIndex.open(storage)).rejects.toSatisfy((e) => isShelfError(e, 'CORRUPT'));
  });

  it('stores through a KvStore with atomic batches', async () => {
    const kv = createMemoryKv();
    const storage = kvSegmentStorage(kv, 'search:test:');
    const batches: SegmentStorageOp[][] = [];
    const batch = storage.batch!.bind(storage);
    storage.batch = (ops) => {
      batches.push([...ops]);
      return batch(ops);
    };
    const index = await builtIndex(storage, corpusPart().slice(0, 20));
    expect(batches.length).toBe(1);
    expect((await kv.scan({ prefix: 'search:test:' })).keys).toContain('search:test:manifest');
    const reopened = await SearchIndex.open(kvSegmentStorage(kv, 'search:test:'));
    expect(await answers(reopened)).toEqual(await answers(index));
    await kv.close();
  });
});

describe('background merges', () => {
  it('never delay a write and its flush, and carry over deletions made while they ran', async () => {
    const corpus = loadCorpus().slice(0, 240);
    const storage = new MapStorage();
    const index = new SearchIndex({ storage, segmentTokens: 20_000, merge: { mergeFactor: 4, floorTokens: 1_000_000 } });
    index.addMany(corpus.slice(0, 200));
    await index.flush();
    expect(index.pendingMerges()).toBeGreaterThan(0);
    const segmentsBefore = index.stats().segments;
    let merged = false;
    const merging = index.merge({ force: true }).then((r) => {
      merged = true;
      return r;
    });
    // Writes, deletions and flushes while the merge works in slices (after it has started).
    await new Promise((resolve) => setTimeout(resolve, 3));
    expect(merged).toBe(false);
    const doomed = corpus.slice(0, 200).filter((_, i) => i % 7 === 0).map((d) => d.id);
    for (const id of doomed) index.remove(id);
    index.update({ ...corpus[1]!, text: `${corpus[1]!.text}\n// zqxMergeMarker` });
    index.addMany(corpus.slice(200));
    const report = await index.flush();
    expect(merged).toBe(false); // the flush did not wait for the merge
    expect(report.manifestWritten).toBe(true);
    expect((await index.query('zqxMergeMarker')).hits.map((h) => h.id)).toEqual([corpus[1]!.id]);
    const result = await merging;
    expect(result.merges).toBe(1);
    expect(index.stats().segments).toBeLessThan(segmentsBefore);
    await index.flush();

    const live = new Map(corpus.map((d) => [d.id, d.text]));
    for (const id of doomed) live.delete(id);
    live.set(corpus[1]!.id, `${corpus[1]!.text}\n// zqxMergeMarker`);
    expect(index.size).toBe(live.size);
    for (const id of doomed.slice(0, 5)) expect(index.has(id)).toBe(false);
    const expected = [...live].filter(([, text]) => /\bexport\b/.test(text)).map(([id]) => id).sort();
    expect((await index.regex('\\bexport\\b', { limit: Infinity })).matches.map((m) => m.id).sort()).toEqual(expected);
    // The saved index agrees, deletions included.
    const reopened = await SearchIndex.open(storage);
    expect(reopened.size).toBe(live.size);
    expect(await answers(reopened)).toEqual(await answers(index));
    expect((await reopened.query('zqxMergeMarker')).total).toBe(1);
  });
});
