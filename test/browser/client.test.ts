import { deleteDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { openIndexedDbKv, openShelf, ShelfError, type Shelf } from '../../src/index.ts';

const opened: { shelf: Shelf; name: string }[] = [];
async function fresh(options: { memory?: boolean } = {}): Promise<Shelf> {
  const name = `client-${Date.now()}-${opened.length}`;
  const shelf = await openShelf({ name, ...options });
  opened.push({ shelf, name });
  return shelf;
}

afterEach(async () => {
  for (const { shelf, name } of opened.splice(0)) {
    await shelf.close();
    await deleteDB(`codeshelf:${name}:kv`);
  }
});

describe('openShelf', () => {
  it('round-trips structured values through the worker', async () => {
    const shelf = await fresh();
    expect(shelf.persistent).toBe(true);
    const value = { path: 'src/a.ts', symbols: ['a', 'b'], size: 12, nested: { when: new Date(5) } };
    await shelf.kv.set('file:a', value);
    expect(await shelf.kv.get('file:a')).toEqual(value);
    await shelf.kv.batch([{ type: 'put', key: 'file:b', value: 2 }, { type: 'delete', key: 'file:a' }]);
    expect((await shelf.kv.scan({ prefix: 'file:' })).values).toEqual([2]);
    const seen = [];
    for await (const entry of shelf.kv.iterate({ prefix: 'file:' })) seen.push(entry);
    expect(seen).toEqual([{ key: 'file:b', value: 2 }]);
  });

  it('writes are durable: a second connection after close sees them', async () => {
    const shelf = await fresh();
    await shelf.kvBytes.set('durable', new Uint8Array([9, 9]));
    const name = shelf.name;
    await shelf.close();
    const direct = await openIndexedDbKv({ name });
    expect([...(await direct.get('durable'))!]).toEqual([9, 9]);
    await direct.close();
  });

  it('typed transactions run through proxies and detect conflicts', async () => {
    const shelf = await fresh({ memory: true });
    expect(shelf.persistent).toBe(false);
    await shelf.kv.set('n', { v: 1 });
    await shelf.kv.transaction(async (tx) => {
      const n = (await tx.get('n')) as { v: number };
      await tx.set('n', { v: n.v + 1 });
    });
    expect(await shelf.kv.get('n')).toEqual({ v: 2 });
    const conflict = await shelf.kv
      .transaction(async (tx) => {
        await tx.get('n');
        await shelf.kv.set('n', { v: 100 });
        await tx.set('n', { v: -1 });
      })
      .catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ShelfError);
    expect((conflict as ShelfError).code).toBe('TXN_CONFLICT');
    expect(await shelf.kv.get('n')).toEqual({ v: 100 });
  });

  it('errors thrown in the worker arrive as ShelfError with code, message and worker stack', async () => {
    const shelf = await fresh();
    const error = (await shelf.kv.set('', 1).catch((e: unknown) => e)) as ShelfError;
    expect(error).toBeInstanceOf(ShelfError);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toBe('key must not be empty');
    expect(error.stack).toMatch(/validate/);
    const undecodable = (await shelf.kv.set('u', undefined).catch((e: unknown) => e)) as ShelfError;
    expect(undecodable.code).toBe('INVALID_ARGUMENT');
  });

  it('keeps the cause of a wrapped error across the boundary', async () => {
    const shelf = await fresh();
    await shelf.kvBytes.set('bad', new Uint8Array([0x92, 0x01]));
    const error = (await shelf.kv.get('bad').catch((e: unknown) => e)) as ShelfError;
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toMatch(/"bad"/);
    expect((error.cause as { message: string }).message).toMatch(/MessagePack/);
  });

  it('refuses bad options with INVALID_ARGUMENT', async () => {
    for (const bad of [{}, { name: '' }, { name: 5 }]) {
      const error = (await openShelf(bad as { name: string }).catch((e: unknown) => e)) as ShelfError;
      expect(error).toBeInstanceOf(ShelfError);
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toMatch(/options\.name/);
    }
  });

  it('after close every call fails with CLOSED and close is idempotent', async () => {
    const shelf = await fresh();
    await shelf.kv.set('k', 1);
    await shelf.close();
    await shelf.close();
    for (const call of [() => shelf.kv.get('k'), () => shelf.kvBytes.scan(), () => shelf.logs.flush(), () => shelf.kv.transaction(async () => 1)]) {
      const error = (await call().catch((e: unknown) => e)) as ShelfError;
      expect(error).toBeInstanceOf(ShelfError);
      expect(error.code).toBe('CLOSED');
    }
  });

  it('sends large writes in slices, letting the page run between them, and keeps them atomic', async () => {
    const shelf = await fresh();
    // Which calls reach the storage worker, in order, beside a task the page queued.
    const order: string[] = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, message: unknown, ...rest: unknown[]) {
      const path = (message as { path?: string[] } | null)?.path;
      if (Array.isArray(path) && path.length) order.push(path[path.length - 1]!);
      return (post as (...a: unknown[]) => void).call(this, message, ...rest);
    } as typeof Worker.prototype.postMessage;
    try {
      const docs = Array.from({ length: 20_000 }, (_, i) => ({ _id: `d${i}`, i, text: `document ${i}` }));
      await shelf.collections.create('big');
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => order.push('page task');
      port2.postMessage(0); // queued before the insert starts sending
      const ids = await shelf.collections.insertMany('big', docs);
      port1.close();
      expect(ids).toEqual(docs.map((d) => d._id));
      expect(await shelf.collections.count('big')).toBe(20_000);
      expect(await shelf.collections.get('big', 'd19999')).toEqual(docs[19_999]);
      const stages = order.filter((c) => c === 'stage').length;
      expect(stages).toBeGreaterThan(1);
      // The page's task ran after the first slice went and before the write was made.
      expect(order.indexOf('page task')).toBeGreaterThan(order.indexOf('stage'));
      expect(order.indexOf('page task')).toBeLessThan(order.indexOf('insertManyStaged'));
      // Small writes go in one message, as before.
      order.length = 0;
      await shelf.collections.insertMany('big', [{ _id: 'small' }]);
      expect(order).toEqual(['insertMany']);

      // Atomic as one call: a duplicate id in the last slice writes nothing and names it.
      const dup = Array.from({ length: 3000 }, (_, i) => ({ _id: i === 2999 ? 'x5' : `x${i}` }));
      await expect(shelf.collections.insertMany('big', dup)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('docs[2999]') });
      // A document that cannot be sent, in a later slice: named as in a call in one piece.
      const bad = Array.from({ length: 3000 }, (_, i) => (i === 2500 ? { _id: 'f', f: () => 1 } : { _id: `y${i}` }));
      await expect(shelf.collections.insertMany('big', bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('docs[2500].f is a function') });
      expect(await shelf.collections.count('big')).toBe(20_001);

      // KV batches the same way, typed and bytes.
      order.length = 0;
      await shelf.kv.batch(Array.from({ length: 5000 }, (_, i) => ({ type: 'put' as const, key: `k:${String(i).padStart(5, '0')}`, value: { i } })));
      expect(order.filter((c) => c === 'stage').length).toBeGreaterThan(1);
      expect(order[order.length - 1]).toBe('batchStaged');
      expect(await shelf.kv.count({ prefix: 'k:' })).toBe(5000);
      expect(await shelf.kv.get('k:04999')).toEqual({ i: 4999 });
      await shelf.kvBytes.batch(Array.from({ length: 3000 }, (_, i) => ({ type: 'put' as const, key: `b:${i}`, value: new Uint8Array([i & 0xff]) })));
      expect(await shelf.kvBytes.get('b:2999')).toEqual(new Uint8Array([2999 & 0xff]));
      const badOps = Array.from({ length: 3000 }, (_, i) => ({ type: 'put' as const, key: `z:${i}`, value: i === 2000 ? Symbol('no') : i }));
      await expect(shelf.kv.batch(badOps)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('ops[2000].value is a symbol') });
      expect(await shelf.kv.count({ prefix: 'z:' })).toBe(0);
      // An item whose getter throws rejects, as in a small batch (it does not throw at the call).
      const getters = Array.from({ length: 3000 }, (_, i) => ({ type: 'put' as const, key: `g:${i}`, value: i }));
      Object.defineProperty(getters, 2999, { get: () => { throw new Error('getter boom'); } });
      const batched = shelf.kv.batch(getters);
      await expect(batched).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('getter boom') });
    } finally {
      Worker.prototype.postMessage = post;
    }
  });

  it('a write sent in slices keeps its place among the page\'s calls and takes the array as it was', async () => {
    const shelf = await fresh();
    // A call made after a sliced batch reaches the worker after it.
    const ops = Array.from({ length: 3000 }, (_, i) => ({ type: 'put' as const, key: i === 2999 ? 'x' : `o:${i}`, value: i === 2999 ? 1 : i }));
    await Promise.all([shelf.kv.batch(ops), shelf.kv.set('x', 2)]);
    expect(await shelf.kv.get('x')).toBe(2);
    // The array is taken when the call is made: emptying it afterwards changes nothing.
    await shelf.collections.create('c');
    const docs = Array.from({ length: 5000 }, (_, i) => ({ _id: `d${i}` }));
    const writing = shelf.collections.insertMany('c', docs);
    docs.length = 0;
    expect(await writing).toHaveLength(5000);
    // A read made after an unawaited sliced write sees it.
    const more = Array.from({ length: 4000 }, (_, i) => ({ _id: `e${i}` }));
    const inserted = shelf.collections.insertMany('c', more);
    expect(await shelf.collections.count('c')).toBe(9000);
    await inserted;
    // A hole in a sliced array is refused at its index, as in one message.
    const sparse: { _id: string }[] = Array.from({ length: 3000 }, (_, i) => ({ _id: `s${i}` }));
    delete (sparse as unknown as Record<number, unknown>)[2000];
    await expect(shelf.collections.insertMany('c', sparse)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('docs[2000]') });
    // close() right after an unawaited sliced write: the write lands before the shelf closes.
    const last = Array.from({ length: 3000 }, (_, i) => ({ _id: `z${i}` }));
    const landing = shelf.collections.insertMany('c', last);
    const name = shelf.name;
    await shelf.close();
    expect(await landing).toHaveLength(3000);
    const again = await openShelf({ name });
    opened.push({ shelf: again, name });
    expect(await again.collections.count('c')).toBe(12_000);
  });

  it('returns large find and findAll results as packed batches, the same documents as a small result', async () => {
    const shelf = await fresh();
    await shelf.collections.create('many');
    const docs = Array.from({ length: 5000 }, (_, i) => ({ _id: `m${i}`, i, even: i % 2 === 0, tags: [`t${i % 7}`], when: new Date(i), nested: { n: i, s: `s${i}` } }));
    await shelf.collections.insertMany('many', docs);
    // Credits the page hands back: one per packed batch it takes.
    let credits = 0;
    const post = MessagePort.prototype.postMessage;
    MessagePort.prototype.postMessage = function (this: MessagePort, message: unknown, ...rest: unknown[]) {
      if ((message as { credit?: unknown } | null)?.credit === 1) credits++;
      return (post as (...a: unknown[]) => void).call(this, message, ...rest);
    } as typeof MessagePort.prototype.postMessage;
    try {
      expect(await shelf.collections.findAll('many')).toEqual(docs);
      expect(credits).toBe(5);
      credits = 0;
      const evens = await shelf.collections.find('many', { even: true }, { offset: 10, limit: 2000 });
      expect(evens).toEqual(docs.filter((d) => d.even).slice(10, 2010));
      expect(credits).toBe(2);
      // A small result comes back in one message, as before.
      credits = 0;
      expect(await shelf.collections.find('many', { i: { $lt: 3 } })).toEqual(docs.slice(0, 3));
      expect(credits).toBe(0);
    } finally {
      MessagePort.prototype.postMessage = post;
    }
    // Errors keep their codes; closing the shelf fails a large read still under way.
    await expect(shelf.collections.findAll('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(shelf.collections.find('many', { i: { $gt: {} } } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const reading = expect(shelf.collections.findAll('many')).rejects.toMatchObject({ code: 'CLOSED' });
    await shelf.close();
    await reading;
  });

  it('buffers logs in the worker and flushes them on close', async () => {
    const shelf = await fresh();
    const keys = await shelf.logs.add([
      { level: 'info', message: 'indexing started' },
      { level: 'error', message: 'parse failed', file: 'a.ts' },
    ]);
    expect(keys).toHaveLength(2);
    expect(await shelf.logs.list({ level: 'error' })).toEqual([]);
    await shelf.logs.flush();
    const errors = await shelf.logs.list({ level: 'error' });
    expect(errors.map((e) => [e.message, e.file])).toEqual([['parse failed', 'a.ts']]);
    await shelf.logs.add({ level: 'info', message: 'unflushed at close' });
    const name = shelf.name;
    await shelf.close();
    const reopened = await openShelf({ name });
    opened.push({ shelf: reopened, name });
    expect((await reopened.logs.list({ level: 'info' })).map((e) => e.message)).toEqual(['indexing started', 'unflushed at close']);
  });
});
