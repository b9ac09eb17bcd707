import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryKv, LogBuffer, logKeys, ShelfError, TypedKvStore, type BatchOp, type KvStore, type LogEntry } from '../../src/index.ts';

describe('TypedKvStore', () => {
  it('round-trips structured values through msgpackr', async () => {
    const store = new TypedKvStore<unknown>(createMemoryKv());
    const value = { path: 'src/a.ts', size: 120, tags: ['x', 'y'], nested: { n: null, big: 2n ** 70n }, when: new Date(0), bin: new Uint8Array([1, 2]) };
    await store.set('file:a', value);
    expect(await store.get('file:a')).toEqual(value);
    await store.batch([{ type: 'put', key: 'n', value: 1 }, { type: 'put', key: 's', value: 'two' }]);
    expect(await store.getMany(['n', 's', 'none'])).toEqual([1, 'two', undefined]);
    expect((await store.scan({ prefix: 'file:' })).values).toEqual([value]);
  });

  it('refuses undefined and functions, writing nothing from a batch', async () => {
    const store = new TypedKvStore<unknown>(createMemoryKv());
    await expect(store.set('k', undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.batch([{ type: 'put', key: 'a', value: 1 }, { type: 'put', key: 'b', value: () => 1 }]))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/ops\[1\]\.value/) });
    expect(await store.count()).toBe(0);
  });

  it('reports undecodable bytes as CORRUPT naming the key', async () => {
    const kv = createMemoryKv();
    await kv.set('bad', new Uint8Array([0x92, 0x01]));
    const store = new TypedKvStore(kv);
    await expect(store.get('bad')).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/"bad"/) });
  });

  it('typed transactions encode in and decode out', async () => {
    const store = new TypedKvStore<{ n: number }>(createMemoryKv());
    await store.set('c', { n: 1 });
    await store.transaction(async (tx) => {
      const c = await tx.get('c');
      tx.set('c', { n: c!.n + 1 });
    });
    expect(await store.get('c')).toEqual({ n: 2 });
  });
});

describe('LogBuffer', () => {
  afterEach(() => vi.useRealTimers());

  it('flushes when the count is reached, as one batch, in time order per level', async () => {
    const kv = createMemoryKv();
    const batchSpy = vi.spyOn(kv, 'batch');
    const logs = new LogBuffer(new TypedKvStore<LogEntry>(kv), { maxEntries: 3, intervalMs: 0 });
    logs.add({ level: 'info', message: 'one' });
    logs.add({ level: 'error', message: 'two' });
    expect(batchSpy).not.toHaveBeenCalled();
    logs.add({ level: 'info', message: 'three' });
    await logs.flush();
    expect(batchSpy).toHaveBeenCalledTimes(1);
    expect((batchSpy.mock.calls[0]![0] as BatchOp[]).length).toBe(3);
    const info = await new TypedKvStore<LogEntry>(kv).scan({ prefix: logKeys.prefix({ level: 'info' }) });
    expect(info.values!.map((e) => e.message)).toEqual(['one', 'three']);
    expect(logs.flushed).toBe(3);
    await logs.stop();
  });

  it('flushes on the interval', async () => {
    vi.useFakeTimers();
    const kv = createMemoryKv();
    const logs = new LogBuffer(new TypedKvStore<LogEntry>(kv), { maxEntries: 1000, intervalMs: 2000 });
    logs.add({ level: 'debug', message: 'tick' });
    await vi.advanceTimersByTimeAsync(1999);
    expect(await kv.count()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await kv.count()).toBe(1);
    await logs.stop();
  });

  it('stop() flushes the rest and refuses further entries', async () => {
    const kv = createMemoryKv();
    const logs = new LogBuffer(new TypedKvStore<LogEntry>(kv), { maxEntries: 100, intervalMs: 0 });
    for (let i = 0; i < 42; i++) logs.add({ level: 'trace', message: `m${i}` });
    await logs.stop();
    expect(await kv.count({ prefix: logKeys.prefix({ level: 'trace' }) })).toBe(42);
    expect(() => logs.add({ level: 'info', message: 'late' })).toThrowError(ShelfError);
  });

  it('keeps entries when a flush fails, and writes them on the next', async () => {
    const kv: KvStore = createMemoryKv();
    const logs = new LogBuffer(new TypedKvStore<LogEntry>(kv), { maxEntries: 100, intervalMs: 0 });
    logs.add({ level: 'info', message: 'survives' });
    const spy = vi.spyOn(kv, 'batch').mockRejectedValueOnce(new ShelfError('QUOTA_EXCEEDED', 'full'));
    await expect(logs.flush()).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(logs.pending).toBe(1);
    spy.mockRestore();
    await logs.flush();
    expect(logs.pending).toBe(0);
    expect(await kv.count()).toBe(1);
  });

  it('refuses bad entries and options', () => {
    const store = new TypedKvStore<LogEntry>(createMemoryKv());
    expect(() => new LogBuffer(store, { maxEntries: 0 })).toThrowError(/maxEntries/);
    const logs = new LogBuffer(store, { intervalMs: 0 });
    expect(() => logs.add({ level: 'loud' as 'info', message: 'x' })).toThrowError(/level/);
    expect(() => logs.add({ level: 'info', message: 5 as unknown as string })).toThrowError(/message/);
  });
});
