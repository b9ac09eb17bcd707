import { describe, expect, it } from 'vitest';
import { ShelfError } from '../../src/errors/index.ts';
import { createMemoryKv, LogBuffer, TypedKvStore, type LogEntry } from '../../src/kv/index.ts';
import type { KvBackend } from '../../src/kv/types.ts';
import { BackedKvStore } from '../../src/kv/kv-store.ts';

/** A backend whose reads find nothing and whose `write` the test supplies. */
function backend(write: KvBackend['write']): KvBackend {
  return {
    getMany: async (keys) => keys.map(() => undefined),
    write,
    scan: async () => ({ keys: [], values: [] }),
    count: async () => 0,
    clear: async () => undefined,
    close: () => undefined,
  };
}

const one = new Uint8Array([1]);

/** A Uint8Array over a buffer that has been transferred away. */
function detached(): Uint8Array {
  const buffer = new ArrayBuffer(4);
  const view = new Uint8Array(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

describe('kv store: failures, copies and closing', () => {
  it('one bad log entry queues nothing and never blocks later flushes; a list of entries is all or nothing', async () => {
    const kv = createMemoryKv();
    const logs = new LogBuffer(new TypedKvStore<LogEntry>(kv), { intervalMs: 0 });
    expect(() => logs.add({ level: 'info', message: 'bad', id: 7 as unknown as string })).toThrow(ShelfError);
    expect(() => logs.addMany([{ level: 'info', message: 'fine' }, { level: 'loud' as LogEntry['level'], message: 'bad' }])).toThrow(/entries\[1\]\.level/);
    expect(logs.pending).toBe(0);
    logs.add({ level: 'info', message: 'good' });
    await logs.flush();
    expect(await kv.count()).toBe(1);
    await logs.stop();
  });

  it('the memory backend keeps its own copy of a Node Buffer and hands out copies', async () => {
    const kv = createMemoryKv();
    const value = Buffer.from([1, 2, 3]);
    await kv.set('k', value);
    value[0] = 99;
    const read = (await kv.get('k'))!;
    expect([...read]).toEqual([1, 2, 3]);
    read[1] = 42;
    expect([...(await kv.get('k'))!]).toEqual([1, 2, 3]);
  });

  it('a batch holding a view of a detached buffer is refused whole, nothing applied', async () => {
    const kv = createMemoryKv();
    const error = await kv.batch([{ type: 'put', key: 'a', value: one }, { type: 'put', key: 'b', value: detached() }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('INVALID_ARGUMENT');
    expect((error as ShelfError).message).toContain('ops[1].value');
    expect(await kv.count()).toBe(0);
  });

  it('a transaction commits the bytes set() was given, whatever the caller does to the array later', async () => {
    const kv = createMemoryKv();
    await kv.transaction(async (tx) => {
      const v = new Uint8Array([1]);
      tx.set('k', v);
      v[0] = 2;
      const seen = (await tx.get('k'))!;
      seen[0] = 3;
      expect([...(await tx.get('k'))!]).toEqual([1]);
      structuredClone(v.buffer, { transfer: [v.buffer] }); // even detached before commit
    });
    expect([...(await kv.get('k'))!]).toEqual([1]);
  });

  it('a backend that throws at once is a ShelfError from a transaction commit too', async () => {
    const kv = new BackedKvStore(backend(() => {
      throw new DOMException('closing', 'InvalidStateError');
    }), 'x');
    await expect(kv.set('k', one)).rejects.toBeInstanceOf(ShelfError);
    const error = await kv.transaction((tx) => tx.set('k', one)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
  });

  it('close() waits for writes already issued', async () => {
    let finish!: () => void;
    const kv = new BackedKvStore(backend(() => new Promise<void>((resolve) => (finish = resolve))), 'x');
    let settled = false;
    const write = kv.set('k', one).then(() => (settled = true));
    const closing = kv.close();
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    finish();
    await closing;
    expect(settled).toBe(true);
    await write;
    await expect(kv.set('k', one)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('stats count only writes that succeeded', async () => {
    const kv = new BackedKvStore(backend(async () => {
      throw new DOMException('quota', 'QuotaExceededError');
    }), 'x');
    await expect(kv.set('k', new Uint8Array(100))).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    const stats = await kv.stats();
    expect(stats.bytesWritten).toBe(0);
    expect(stats.keysWritten).toBe(0);
  });

  it('a read inside a transaction after close() is CLOSED, not an empty store', async () => {
    const kv = createMemoryKv();
    await kv.set('k', one);
    let seen: unknown;
    await kv.transaction(async (tx) => {
      await kv.close();
      seen = await tx.get('k').catch((e: unknown) => e);
    }).catch(() => undefined);
    expect(seen).toBeInstanceOf(ShelfError);
    expect((seen as ShelfError).code).toBe('CLOSED');
  });

  it('a scan cut at its limit conflicts only with writes up to its last key, in either direction', async () => {
    const kv = createMemoryKv();
    for (const k of ['q:1', 'q:5']) await kv.set(k, one);
    // Popping the head of a queue while a producer appends at its tail: no conflict.
    await expect(kv.transaction(async (tx) => {
      const page = await tx.scan({ prefix: 'q:', limit: 1 });
      await kv.set('q:9', one);
      tx.delete(page.keys[0]!);
    })).resolves.toBeUndefined();
    // A write inside the part the page covered still conflicts.
    await expect(kv.transaction(async (tx) => {
      await tx.scan({ prefix: 'q:', limit: 1 });
      await kv.set('q:0', one);
      tx.set('x', one);
    })).rejects.toMatchObject({ code: 'TXN_CONFLICT' });
    // Reverse: the page covers the last keys; a write below them does not conflict, one above does.
    await expect(kv.transaction(async (tx) => {
      await tx.scan({ prefix: 'q:', limit: 1, reverse: true });
      await kv.set('q:2', one);
      tx.set('y', one);
    })).resolves.toBeUndefined();
    await expect(kv.transaction(async (tx) => {
      await tx.scan({ prefix: 'q:', limit: 1, reverse: true });
      await kv.set('q:99', one);
      tx.set('z', one);
    })).rejects.toMatchObject({ code: 'TXN_CONFLICT' });
    // Deleting the key that made the page's cursor non-null ("there is more") conflicts.
    await kv.set('r:1', one);
    await kv.set('r:2', one);
    await expect(kv.transaction(async (tx) => {
      const page = await tx.scan({ prefix: 'r:', limit: 1 });
      await kv.delete('r:2');
      if (page.cursor !== null) tx.delete(page.keys[0]!);
    })).rejects.toMatchObject({ code: 'TXN_CONFLICT' });
    // Two pops from either end, each only while more than one item is left: never both.
    await kv.set('r:2', one);
    const popOne = (reverse: boolean) => kv.transaction(async (tx) => {
      const page = await tx.scan({ prefix: 'r:', limit: 1, reverse });
      await new Promise((r) => setTimeout(r, 5));
      if (page.cursor !== null) tx.delete(page.keys[0]!);
    }).then(() => 'ok', (e: ShelfError) => e.code);
    const outcomes = await Promise.all([popOne(false), popOne(true)]);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(await kv.count({ prefix: 'r:' })).toBe(1);
    // A scan that read the whole range still conflicts with any write in it.
    await expect(kv.transaction(async (tx) => {
      await tx.scan({ prefix: 'q:' });
      await kv.set('q:zz', one);
      tx.set('w', one);
    })).rejects.toMatchObject({ code: 'TXN_CONFLICT' });
  });
});
