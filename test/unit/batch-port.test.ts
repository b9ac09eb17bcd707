import { MessageChannel as NodeChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ShelfError } from '../../src/errors/index.ts';
import { BATCH_CREDITS, BatchReader, pushBatches } from '../../src/service/batch-port.ts';
import { BufferPool } from '../../src/codec/buffer-pool.ts';

// Node's ports keep the process alive until closed; each test closes both ends.
const channel = () => new NodeChannel() as unknown as MessageChannel;
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

/** A source of `n` one-byte batches that records how far it was pulled and whether it ended. */
function source(n: number, failAt?: number) {
  const seen = { pulled: 0, finished: false };
  async function* gen(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      for (let i = 0; i < n; i++) {
        if (i === failAt) throw new ShelfError('CORRUPT', `block ${i} is damaged`);
        seen.pulled++;
        yield new Uint8Array([i]);
      }
    } finally {
      seen.finished = true;
    }
  }
  return { gen: gen(), seen };
}

describe('batch port', () => {
  it('delivers every batch in order, transferred, and ends', async () => {
    const { port1, port2 } = channel();
    const { gen, seen } = source(25);
    const pushing = pushBatches(port2, gen);
    const reader = new BatchReader(port1);
    const got: number[] = [];
    for (let b = await reader.next(); b; b = await reader.next()) got.push(b[0]!);
    await pushing;
    expect(got).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(seen.finished).toBe(true);
    expect(await reader.next()).toBeUndefined();
  });

  it('runs at most the credits ahead of a reader that does not take batches', async () => {
    const { port1, port2 } = channel();
    const { gen, seen } = source(100);
    void pushBatches(port2, gen);
    const reader = new BatchReader(port1);
    await tick();
    expect(seen.pulled).toBe(BATCH_CREDITS);
    expect((await reader.next())![0]).toBe(0);
    await tick();
    expect(seen.pulled).toBe(BATCH_CREDITS + 1);
    reader.cancel();
    await tick();
    expect(seen.finished).toBe(true);
    expect(seen.pulled).toBe(BATCH_CREDITS + 1);
  });

  it('carries a ShelfError with its code, after the batches before it', async () => {
    const { port1, port2 } = channel();
    const { gen, seen } = source(10, 3);
    void pushBatches(port2, gen);
    const reader = new BatchReader(port1);
    const got: number[] = [];
    const error = await (async () => {
      for (let b = await reader.next(); b; b = await reader.next()) got.push(b[0]!);
    })().catch((e: unknown) => e);
    expect(got).toEqual([0, 1, 2]);
    expect(error).toBeInstanceOf(ShelfError);
    expect(error).toMatchObject({ code: 'CORRUPT', message: 'block 3 is damaged' });
    expect(seen.finished).toBe(true);
  });

  it('abort (the shelf closing) also stops the worker: its source is returned', async () => {
    const { port1, port2 } = channel();
    const { gen, seen } = source(100);
    let settled = false;
    void pushBatches(port2, gen).then(() => (settled = true));
    const reader = new BatchReader(port1);
    expect((await reader.next())![0]).toBe(0);
    reader.abort(new ShelfError('CLOSED', 'closed'));
    await expect(reader.next()).rejects.toMatchObject({ code: 'CLOSED' });
    await tick();
    expect({ finished: seen.finished, settled }).toEqual({ finished: true, settled: true });
  });

  it('the worker side stops when its signal aborts, and when the reader\'s port closes', async () => {
    for (const how of ['signal', 'port'] as const) {
      const { port1, port2 } = channel();
      const { gen, seen } = source(100);
      const stop = new AbortController();
      const done = pushBatches(port2, gen, { signal: stop.signal });
      await tick();
      if (how === 'signal') stop.abort();
      else port1.close();
      await done;
      expect(seen.finished, how).toBe(true);
      expect(seen.pulled, how).toBe(BATCH_CREDITS);
      port1.close();
    }
  });

  it('errors other than ShelfError arrive as ShelfErrors with a code; a cause survives', async () => {
    const failing = (make: () => unknown) => {
      const { port1, port2 } = channel();
      async function* gen(): AsyncGenerator<Uint8Array, void, undefined> {
        yield new Uint8Array([1]);
        throw make();
      }
      void pushBatches(port2, gen());
      const reader = new BatchReader(port1);
      return (async () => {
        while (await reader.next());
      })().catch((e: unknown) => e);
    };
    const quota = await failing(() => Object.assign(new Error('no room'), { name: 'QuotaExceededError' }));
    expect(quota).toBeInstanceOf(ShelfError);
    expect(quota).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    const corrupt = await failing(() => new ShelfError('CORRUPT', 'block 2 does not inflate', { cause: new Error('invalid distance') }));
    expect(corrupt).toMatchObject({ code: 'CORRUPT', message: 'block 2 does not inflate' });
    expect((corrupt as Error).cause).toMatchObject({ message: 'invalid distance' });
  });

  /** A reader waiting on a worker side that never sends anything. */
  const waitingReader = () => {
    const { port1, port2 } = channel();
    async function* never(): AsyncGenerator<Uint8Array, void, undefined> {
      await new Promise(() => undefined);
    }
    void pushBatches(port2, never());
    const reader = new BatchReader(port1);
    return { reader, pending: reader.next(), close: () => port2.close() };
  };

  it('cancel while a next() waits ends that next()', async () => {
    const { reader, pending, close } = waitingReader();
    reader.cancel();
    expect(await pending).toBeUndefined();
    close();
  });

  it('abort fails a waiting reader at once (the worker is going away)', async () => {
    const { reader, pending, close } = waitingReader();
    reader.abort(new ShelfError('CLOSED', 'shelf is closed'));
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    expect(await reader.next()).toBeUndefined();
    close();
  });
});

describe('batch port buffers handed back', () => {
  it('the reader’s recycled buffers reach the worker’s pool with later credits; pooled batches go whole', async () => {
    const { port1, port2 } = channel();
    const pool = new BufferPool();
    // Each batch is the start of a larger buffer from the pool, as an inflated block is.
    async function* gen(): AsyncGenerator<Uint8Array, void, undefined> {
      for (let i = 0; i < 30; i++) {
        const buffer = pool.take(100) ?? pool.fresh(100);
        const view = new Uint8Array(buffer, 0, 100).fill(i);
        yield view;
      }
    }
    const pushing = pushBatches(port2, gen(), { pool });
    const reader = new BatchReader(port1);
    const capacities = new Set<number>();
    let n = 0;
    for (let b = await reader.next(); b; b = await reader.next()) {
      expect(b.length).toBe(100);
      expect(b.every((x) => x === n)).toBe(true);
      capacities.add(b.buffer.byteLength);
      n++;
      reader.recycle(b.buffer);
    }
    await pushing;
    expect(n).toBe(30);
    // Whole buffers crossed (not 100-byte copies), and the same few were used again.
    expect([...capacities].every((c) => c >= 65536)).toBe(true);
    expect(pool.size).toBeGreaterThan(0);
    port1.close();
  });

  it('a batch whose buffer is not the pool’s and is a view is copied before it is transferred', async () => {
    const { port1, port2 } = channel();
    const shared = new Uint8Array(1000).fill(7);
    async function* gen(): AsyncGenerator<Uint8Array, void, undefined> {
      yield shared.subarray(10, 20);
    }
    const pushing = pushBatches(port2, gen(), { pool: new BufferPool() });
    const reader = new BatchReader(port1);
    const b = (await reader.next())!;
    expect(b.buffer.byteLength).toBe(10);
    expect(await reader.next()).toBeUndefined();
    await pushing;
    // The source's buffer was not taken from it.
    expect(shared.byteLength).toBe(1000);
  });
});

describe('BufferPool', () => {
  it('takes the smallest kept buffer that fits, and keeps within its limits', () => {
    const pool = new BufferPool(3, 1 << 20);
    expect(pool.take(10)).toBeUndefined();
    const [a, b, c, d] = [new ArrayBuffer(300), new ArrayBuffer(100), new ArrayBuffer(200), new ArrayBuffer(50)];
    for (const x of [a, b, c, d]) pool.give(x);
    expect(pool.size).toBe(3); // the fourth did not fit
    expect(pool.take(150)).toBe(c);
    expect(pool.issued(c)).toBe(true);
    expect(pool.take(400)).toBeUndefined();
    pool.give(new ArrayBuffer(600_000)); // more than half the byte limit: dropped
    pool.give(new Uint8Array(10)); // not an ArrayBuffer
    expect(pool.size).toBe(2);
    const f = pool.fresh(100_000);
    expect(f.byteLength).toBeGreaterThanOrEqual(125_000);
    expect(pool.issued(f)).toBe(true);
    pool.give(f);
    expect(pool.issued(f)).toBe(false);
  });
});
