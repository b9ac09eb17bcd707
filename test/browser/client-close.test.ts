import { deleteDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { openShelf, ShelfError } from '../../src/index.ts';

/** Runs every queued callback and microtask once: what settled because of work already done has settled after this. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

function watch<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then((value) => Object.assign(state, { settled: true, value }), (error: unknown) => Object.assign(state, { settled: true, error }));
  return state;
}

const databases: string[] = [];
const unique = (prefix: string) => `${prefix}-${Date.now()}-${databases.length}`;

afterEach(async () => {
  for (const name of databases.splice(0)) await deleteDB(`codeshelf:${name}:kv`);
});

describe('closing a shelf in a real worker', () => {
  it('a kv.transaction whose callback is running rejects with CLOSED and commits nothing', async () => {
    const name = unique('close-tx');
    databases.push(name);
    const shelf = await openShelf({ name });
    await shelf.kv.set('a', 1);
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let late: unknown;
    const tx = watch(shelf.kv.transaction(async (t) => {
      await t.get('a');
      entered();
      await gate;
      late = await t.set('a', 2).catch((e: unknown) => e);
    }));
    await inside;
    await shelf.close();
    await turn();
    expect(tx.settled).toBe(true);
    expect((tx.error as ShelfError).code).toBe('CLOSED');
    release();
    await turn();
    expect((late as ShelfError).code).toBe('CLOSED');
    const reopened = await openShelf({ name });
    expect(await reopened.kv.get('a')).toBe(1);
    await reopened.close();
  });

  it('collections.stream(): errors keep their ShelfError code', async () => {
    const shelf = await openShelf({ name: unique('stream-codes'), memory: true });
    await shelf.collections.create('c');
    await shelf.collections.insert('c', { v: 1 });
    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof ShelfError ? e.code : `not a ShelfError: ${String(e)}`));
    expect(await code(shelf.collections.stream('c', { batchSize: 0 }).then((s) => s.getReader().read()))).toBe('INVALID_ARGUMENT');
    expect(await code(shelf.collections.stream('missing'))).toBe('NOT_FOUND');
    const filtered = await shelf.collections.stream('c', { filter: { v: { $bogus: 1 } } as never });
    expect(await code(filtered.getReader().read())).toBe('INVALID_ARGUMENT');
    await shelf.close();
  });

  it('collections.stream(): a read after close() fails with CLOSED', async () => {
    const shelf = await openShelf({ name: unique('stream-close'), memory: true });
    await shelf.collections.create('c');
    await shelf.collections.insertMany('c', Array.from({ length: 5000 }, (_, i) => ({ i })));
    const reader = (await shelf.collections.stream('c', { batchSize: 10 })).getReader();
    expect((await reader.read()).value).toHaveLength(10);
    await shelf.close();
    const after = watch(reader.read());
    await turn();
    expect(after.settled).toBe(true);
    expect((after.error as ShelfError).code).toBe('CLOSED');
  });

  it('a search worker that fails to load: the call rejects and close() ends', async () => {
    const bad = URL.createObjectURL(new Blob(['throw new Error("boom")'], { type: 'text/javascript' }));
    const shelf = await openShelf({ name: unique('search-broken'), memory: true, searchWorker: () => new Worker(bad, { type: 'module' }) });
    const error = await shelf.search.stats().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('INTERNAL');
    await expect(shelf.close()).resolves.toBeUndefined();
    URL.revokeObjectURL(bad);
  });

  it('an argument that cannot be cloned is INVALID_ARGUMENT, and the shelf keeps working', async () => {
    const shelf = await openShelf({ name: unique('clone'), memory: true });
    await expect(shelf.kv.set('k', { f() {} })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await shelf.kv.set('k', 1);
    expect(await shelf.kv.get('k')).toBe(1);
    await shelf.close();
  });
});
