import { describe, expect, it, vi } from 'vitest';
import { ByteLru, CollectionEngine, createMemoryKv, KvBlobStore, MemoryBlobStore } from '../../src/index.ts';
import { runCollectionsConformance } from '../conformance/collections-conformance.ts';

runCollectionsConformance('memory blobs', async () => ({ storage: new MemoryBlobStore(), dispose: async () => undefined }));
runCollectionsConformance('KV blobs (memory KV)', async () => {
  const kv = createMemoryKv();
  return { storage: new KvBlobStore(kv), dispose: () => kv.close() };
});

describe('KvBlobStore', () => {
  it('reads ranges across 256 KiB chunks and shrinks cleanly', async () => {
    const kv = createMemoryKv();
    const blobs = new KvBlobStore(kv);
    const big = new Uint8Array(700_000).map((_, i) => i % 251);
    await blobs.write('f', big);
    expect(await blobs.size('f')).toBe(700_000);
    expect([...(await blobs.read('f', 262_140, 10))]).toEqual([...big.subarray(262_140, 262_150)]);
    expect((await blobs.read('f')).length).toBe(700_000);
    await blobs.write('f', big.subarray(0, 10));
    expect(await kv.count({ prefix: 'blob:f\u0000' })).toBe(2);
    expect(await blobs.list()).toEqual(['f']);
    await blobs.remove('f');
    expect(await kv.count()).toBe(0);
  });
});

describe('ByteLru', () => {
  it('orders by recency and proposes victims by bytes', () => {
    const lru = new ByteLru<string, number>(100);
    lru.set('a', 1, 40);
    lru.set('b', 2, 40);
    lru.set('c', 3, 40);
    expect(lru.bytes).toBe(120);
    lru.get('a');
    expect(lru.victims()).toEqual(['b']);
    expect(lru.victims((k) => k === 'b')).toEqual(['c']);
    lru.resize('a', 10);
    expect(lru.victims()).toEqual([]);
    expect(lru.get('zz')).toBeUndefined();
    expect([lru.hits, lru.misses]).toEqual([1, 1]);
  });
});

describe('background saving', () => {
  it('saves dirty collections on the interval and flushes on close', async () => {
    // Only the interval is faked: compression runs on real (native stream) time.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const storage = new MemoryBlobStore();
      const engine = await CollectionEngine.open({ storage, saveIntervalMs: 1000 });
      await engine.create('bg');
      await engine.insert('bg', { _id: 'a' });
      expect(engine.state('bg')).toBe('dirty');
      vi.advanceTimersByTime(999);
      expect(engine.state('bg')).toBe('dirty');
      vi.advanceTimersByTime(1);
      await vi.waitFor(() => expect(engine.state('bg')).toBe('loaded'));
      await engine.insert('bg', { _id: 'b' });
      await engine.close();
      const again = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
      expect(await again.count('bg')).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
