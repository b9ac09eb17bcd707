import { MessageChannel as NodeChannel } from 'node:worker_threads';
import { expose } from 'comlink';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openShelf, ShelfError } from '../../src/index.ts';
import { TypedKvStore } from '../../src/kv/index.ts';
import { MemoryBackend } from '../../src/kv/memory-backend.ts';
import { MemoryBlobStore } from '../../src/opfs/index.ts';
import { SearchService } from '../../src/service/search-service.ts';
import { StorageService } from '../../src/service/storage-service.ts';

// sql.js that cannot load (a bundler that left out its WASM, a blocked fetch).
vi.mock('../../src/service/sqljs-loader.ts', () => ({
  loadBrowserSqlJs: () => Promise.reject(new TypeError('Failed to fetch dynamically imported module: sql-wasm-browser.wasm')),
}));

/**
 * A Worker stand-in: `service` exposed with Comlink on a Node MessageChannel, in this
 * thread. `terminate` is recorded in `log` as `terminate <label>` and closes both ports.
 */
function fakeWorker(service: object, log: string[] = [], label = 'storage') {
  const { port1, port2 } = new NodeChannel();
  expose(service, port2 as unknown as MessagePort);
  const w = port1 as unknown as Worker;
  w.terminate = () => {
    log.push(`terminate ${label}`);
    port1.close();
    port2.close();
  };
  return w;
}

/** A worker that never answers and reports a load error when the test says so. */
function brokenWorker(log: string[]) {
  const target = new EventTarget() as EventTarget & Worker & { fail(): void };
  target.postMessage = () => undefined;
  target.terminate = () => void log.push('terminate broken');
  target.fail = () => target.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message: 'SyntaxError in search.worker.js' }));
  return target;
}

/** Runs every queued callback and microtask once: what settled because of work already done has settled after this. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Where `promise` stands, as `{ settled }` updated when it settles. */
function watch<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then((value) => Object.assign(state, { settled: true, value }), (error: unknown) => Object.assign(state, { settled: true, error }));
  return state;
}

let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}`;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('shelf.close() and its workers', () => {
  it('waits for the storage close to finish before terminating either worker when the search close fails', async () => {
    const log: string[] = [];
    let searchTerminated!: () => void;
    const whenSearchTerminated = new Promise<void>((resolve) => (searchTerminated = resolve));
    const storage = new StorageService();
    const realClose = storage.close.bind(storage);
    storage.close = async () => {
      log.push('close start');
      // Finishes once the search worker is gone or, if nothing terminates it early, after a turn.
      await Promise.race([whenSearchTerminated, turn()]);
      await realClose();
      log.push('close done');
    };
    class FailingClose extends SearchService {
      override close() {
        return Promise.reject(new ShelfError('QUOTA_EXCEEDED', 'the final search save failed'));
      }
    }
    const searchWorker = () => {
      const w = fakeWorker(new FailingClose(), log, 'search');
      const terminate = w.terminate.bind(w);
      w.terminate = () => {
        terminate();
        searchTerminated();
      };
      return w;
    };
    const shelf = await openShelf({ name: unique('close-order'), memory: true, worker: fakeWorker(storage, log), searchWorker });
    await shelf.logs.add({ level: 'info', message: 'pending at close' });
    await shelf.search.stats();
    const error = await shelf.close().catch((e: unknown) => e);
    expect(log.slice(0, 2)).toEqual(['close start', 'close done']);
    expect(log.slice(2).sort()).toEqual(['terminate search', 'terminate storage']);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('QUOTA_EXCEEDED');
    // Nothing left to retry: the storage worker closed.
    await expect(shelf.close()).resolves.toBeUndefined();
    expect(log.filter((l) => l === 'terminate storage')).toHaveLength(1);
  });

  it('a failed storage close keeps the worker up and close() again retries it', async () => {
    const log: string[] = [];
    const storage = new StorageService();
    const realClose = storage.close.bind(storage);
    let attempts = 0;
    storage.close = async () => {
      attempts++;
      if (attempts === 1) throw new ShelfError('QUOTA_EXCEEDED', 'the final save failed');
      await realClose();
    };
    const shelf = await openShelf({ name: unique('close-retry'), memory: true, worker: fakeWorker(storage, log) });
    await shelf.kv.set('k', 1);
    await expect(shelf.close()).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(log).toEqual([]);
    await expect(shelf.kv.get('k')).rejects.toMatchObject({ code: 'CLOSED' });
    await shelf.close();
    expect(attempts).toBe(2);
    expect(log).toEqual(['terminate storage']);
  });

  it('a bad search or snapshots option fails openShelf with INVALID_ARGUMENT before anything runs', async () => {
    const bad = [
      { search: { preload: 'yes' } },
      { search: { watchdogGraceMs: Number.NaN } },
      { search: { segmentTokens: -1 } },
      { search: { merge: null } },
      { search: null },
      { snapshots: { maintenanceDelayMs: -5 } },
      { snapshots: { checkpointBytes: 'big' } },
      { collections: null },
      { logs: null },
      { collections: { storage: 'disk' } },
    ];
    for (const options of bad) {
      const log: string[] = [];
      const service = new StorageService();
      const open = vi.spyOn(service, 'open');
      const error = await openShelf({ name: unique('bad-options'), memory: true, worker: fakeWorker(service, log), ...(options as object) }).catch((e: unknown) => e);
      expect(error, JSON.stringify(options)).toBeInstanceOf(ShelfError);
      expect((error as ShelfError).code).toBe('INVALID_ARGUMENT');
      expect(open).not.toHaveBeenCalled();
      expect(log).toEqual(['terminate storage']);
    }
  });

  it('a shelf name ending in ":search", which would share another shelf\'s search database, is INVALID_ARGUMENT', async () => {
    const service = new StorageService();
    const error = await service.open({ name: 'project:search', memory: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('INVALID_ARGUMENT');
    expect((error as ShelfError).message).toMatch(/search index of shelf "project"/);
    await expect(service.open({ name: 'project:searches', memory: true })).resolves.toMatchObject({ persistent: false });
    await service.close();
  });

  it('the storage service refuses null option groups itself with INVALID_ARGUMENT and can be opened after', async () => {
    const service = new StorageService();
    await expect(service.open({ name: unique('svc-null'), memory: true, collections: null as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service.open({ name: unique('svc-null'), memory: true, logs: null as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // A failure after the KV store opened (bad engine options) leaves nothing open either.
    await expect(service.open({ name: unique('svc-null'), memory: true, collections: { memoryLimitBytes: -1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service.open({ name: unique('svc-null'), memory: true })).resolves.toMatchObject({ persistent: false });
    await service.close();
  });
});

describe('a search worker that fails to load', () => {
  it('fails waiting calls with a ShelfError, is terminated, and the next call starts a fresh worker', async () => {
    const log: string[] = [];
    const broken = brokenWorker(log);
    const created: string[] = [];
    const searchWorker = () => {
      created.push(created.length ? 'good' : 'broken');
      return created.length === 1 ? broken : fakeWorker(new SearchService(), log, 'search');
    };
    const shelf = await openShelf({ name: unique('search-load'), memory: true, worker: fakeWorker(new StorageService(), log), searchWorker });
    const stats = watch(shelf.search.stats());
    expect(created).toEqual(['broken']);
    broken.fail();
    await turn();
    expect(stats.settled).toBe(true);
    expect(stats.error).toBeInstanceOf(ShelfError);
    expect((stats.error as ShelfError).code).toBe('INTERNAL');
    expect(log).toEqual(['terminate broken']);
    // Not the dead worker again.
    await expect(shelf.search.stats()).resolves.toMatchObject({ documents: 0 });
    expect(created).toEqual(['broken', 'good']);
    await shelf.close();
  });

  it('close() does not wait forever for a worker that failed to load', async () => {
    const log: string[] = [];
    const broken = brokenWorker(log);
    const shelf = await openShelf({ name: unique('search-close'), memory: true, worker: fakeWorker(new StorageService(), log), searchWorker: () => broken });
    const stats = watch(shelf.search.stats());
    const closing = shelf.close();
    broken.fail();
    // Before, close() waited for the worker's opening, which never came.
    await expect(closing).resolves.toBeUndefined();
    expect(stats.settled).toBe(true);
    expect(log.sort()).toEqual(['terminate broken', 'terminate storage']);
  });
});

describe('kv transactions running when the shelf closes', () => {
  it('reject with CLOSED, commit nothing, and the callback\'s next tx call is CLOSED', async () => {
    const shelf = await openShelf({ name: unique('tx-close'), memory: true, worker: fakeWorker(new StorageService()) });
    await shelf.kv.set('a', 1);
    const writes = vi.spyOn(MemoryBackend.prototype, 'write');
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
    expect(tx.error).toBeInstanceOf(ShelfError);
    expect((tx.error as ShelfError).code).toBe('CLOSED');
    release();
    await turn();
    expect(late).toBeInstanceOf(ShelfError);
    expect((late as ShelfError).code).toBe('CLOSED');
    expect(writes).not.toHaveBeenCalled();
  });

  it('in the storage service: close() ends a transaction whose callback never returns', async () => {
    const service = new StorageService();
    await service.open({ name: unique('tx-svc'), memory: true });
    const writes = vi.spyOn(MemoryBackend.prototype, 'write');
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const tx = watch(service.kvBytes.transaction(async (t) => {
      await t.get('a');
      t.set('a', new Uint8Array([1]));
      entered();
      await new Promise(() => undefined);
    }));
    await inside;
    await service.close();
    await turn();
    expect(tx).toMatchObject({ settled: true, error: expect.objectContaining({ code: 'CLOSED' }) });
    expect(writes).not.toHaveBeenCalled();
  });
});

describe('collection streams', () => {
  it('stream(): bad options, an unknown collection and worker-side errors arrive as ShelfErrors with their code', async () => {
    const shelf = await openShelf({ name: unique('stream-errors'), memory: true, worker: fakeWorker(new StorageService()) });
    await shelf.collections.create('c');
    await shelf.collections.insert('c', { v: 1 });
    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof ShelfError ? e.code : `not a ShelfError: ${String(e)}`));
    const firstRead = async (o: object) => (await shelf.collections.stream('c', o)).getReader().read();
    expect(await code(firstRead({ batchSize: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await code(shelf.collections.stream('nope'))).toBe('NOT_FOUND');
    expect(await code(firstRead({ filter: { v: { $bogus: 1 } } }))).toBe('INVALID_ARGUMENT');
    const reader = (await shelf.collections.stream('c', { batchSize: 5 })).getReader();
    expect(await reader.read()).toEqual({ done: false, value: [expect.objectContaining({ v: 1 })] });
    expect((await reader.read()).done).toBe(true);
    await shelf.close();
  });

  it('a stream handed to the page fails with CLOSED when the shelf closes, even with batches queued', async () => {
    const shelf = await openShelf({ name: unique('stream-close'), memory: true, worker: fakeWorker(new StorageService()) });
    await shelf.collections.create('c');
    await shelf.collections.insertMany('c', Array.from({ length: 500 }, (_, i) => ({ i })));
    const stream = await shelf.collections.stream('c', { batchSize: 10 });
    const reader = stream.getReader();
    expect((await reader.read()).value).toHaveLength(10);
    await turn(); // the stream has pulled its next batch ahead
    await shelf.close();
    const after = watch(reader.read());
    await turn();
    expect(after.settled).toBe(true);
    expect(after.error).toBeInstanceOf(ShelfError);
    expect((after.error as ShelfError).code).toBe('CLOSED');
  });
});

describe('search watchdog budgets', () => {
  /** A search service whose queries wait for `release`: a slow query the watchdog may judge. */
  function gatedSearch() {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class Gated extends SearchService {
      override async query(text: string, options?: Parameters<SearchService['query']>[1]) {
        await gate;
        return super.query(text, options);
      }
    }
    return { service: new Gated(), release };
  }

  it('a close behind a runaway query ends when the watchdog kills the search worker, and the storage worker is terminated', async () => {
    const log: string[] = [];
    let busy: Promise<void> = Promise.resolve();
    class Busy extends SearchService {
      override async regex(): Promise<never> {
        busy = new Promise<void>(() => undefined);
        return busy as never;
      }
      override async close(): Promise<void> {
        await busy;
        return super.close();
      }
    }
    const shelf = await openShelf({
      name: unique('runaway'), memory: true, worker: fakeWorker(new StorageService(), log),
      search: { watchdogGraceMs: 20 }, searchWorker: () => fakeWorker(new Busy(), log, 'search'),
    });
    await shelf.search.stats();
    const query = watch(shelf.search.regex('^(a+)+$', { budgetMs: 20 }));
    await turn();
    const closing = watch(shelf.close());
    for (let i = 0; i < 300 && !closing.settled; i++) await new Promise((r) => setTimeout(r, 10));
    expect((query.error as ShelfError).code).toBe('ABORTED');
    expect(closing.settled).toBe(true);
    expect(log).toContain('terminate search');
    expect(log).toContain('terminate storage');
  });

  it('Infinity and budgets past the timer range set no watchdog that fires at once', async () => {
    for (const budgetMs of [Infinity, 1e12]) {
      const { service, release } = gatedSearch();
      let started = 0;
      const shelf = await openShelf({
        name: unique('budget'), memory: true, worker: fakeWorker(new StorageService()),
        searchWorker: () => (started++, fakeWorker(service, [], 'search')),
      });
      await shelf.search.add({ id: 'a', text: 'const map = new Map()' });
      const result = watch(shelf.search.query('map', { budgetMs }));
      // A timer given Infinity or more than 2^31-1 ms fires after about 1 ms.
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await turn();
      await turn();
      expect(result.error, String(budgetMs)).toBeUndefined();
      expect(result.value?.total).toBe(1);
      expect(shelf.search.restarts).toBe(0);
      expect(started).toBe(1);
      await shelf.close();
    }
  });

  it('NaN, negative and non-number budgets are INVALID_ARGUMENT and leave the worker alone', async () => {
    let started = 0;
    const shelf = await openShelf({
      name: unique('budget-bad'), memory: true, worker: fakeWorker(new StorageService()),
      searchWorker: () => (started++, fakeWorker(new SearchService(), [], 'search')),
    });
    await shelf.search.add({ id: 'a', text: 'const map = new Map()' });
    for (const budgetMs of [Number.NaN, -1, '5']) {
      const error = await shelf.search.query('map', { budgetMs: budgetMs as number }).catch((e: unknown) => e);
      expect(error, String(budgetMs)).toBeInstanceOf(ShelfError);
      expect((error as ShelfError).code).toBe('INVALID_ARGUMENT');
      const regexError = await shelf.search.regex('ma+p', { budgetMs: budgetMs as number }).catch((e: unknown) => e);
      expect((regexError as ShelfError).code).toBe('INVALID_ARGUMENT');
    }
    await turn();
    expect(shelf.search.restarts).toBe(0);
    expect(started).toBe(1);
    expect((await shelf.search.query('map')).total).toBe(1);
    await shelf.close();
  });
});

describe('errors reaching the page', () => {
  it('an error the page\'s own callback throws comes back as it was, a DataCloneError too', async () => {
    const shelf = await openShelf({ name: unique('callback-error'), memory: true, worker: fakeWorker(new StorageService()) });
    const error = await shelf.kv.transaction(async () => {
      throw new DOMException('the page could not clone this', 'DataCloneError');
    }).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ShelfError);
    expect((error as Error).name).toBe('DataCloneError');
    expect((error as Error).message).toBe('the page could not clone this');
    // An argument that cannot be sent is still INVALID_ARGUMENT naming it.
    const bad = await shelf.kv.transaction(async () => 1, { retries: (() => 1) as never }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ShelfError);
    expect((bad as ShelfError).code).toBe('INVALID_ARGUMENT');
    expect((bad as ShelfError).message).toMatch(/options\.retries/);
    await shelf.close();
  });

  it('an argument that cannot be sent to the worker is INVALID_ARGUMENT naming it', async () => {
    const shelf = await openShelf({
      name: unique('clone'), memory: true, worker: fakeWorker(new StorageService()), searchWorker: () => fakeWorker(new SearchService(), [], 'search'),
    });
    const e = await shelf.kv.set('k', { f() {} }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShelfError);
    expect((e as ShelfError).code).toBe('INVALID_ARGUMENT');
    expect((e as ShelfError).message).toContain('.f');
    await shelf.collections.create('c');
    const filter = { v: () => true } as never;
    await expect(shelf.collections.find('c', filter)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(shelf.collections.iterate('c', { filter }).next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(shelf.collections.stream('c', { filter })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(shelf.search.add({ id: 'x', text: 'y', fields: { f: Symbol('s') } } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // The shelf still works after.
    await shelf.kv.set('k', 1);
    expect(await shelf.kv.get('k')).toBe(1);
    await shelf.close();
  });

  it('sql.js failing to load reaches the caller as INTERNAL', async () => {
    const shelf = await openShelf({ name: unique('sqljs'), memory: true, worker: fakeWorker(new StorageService()) });
    const e = await shelf.snapshots.stats().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShelfError);
    expect((e as ShelfError).code).toBe('INTERNAL');
    await shelf.close();
  });
});

describe('StorageService.close()', () => {
  it('a failed log flush still saves dirty collections, and close() again flushes the logs', async () => {
    const s = new StorageService();
    await s.open({ name: unique('close-logs'), memory: true, collections: { saveIntervalMs: 0 } });
    await s.collections.create('c');
    await s.collections.insert('c', { _id: 'a', v: 1 });
    s.logs.add({ level: 'info', message: 'x' });
    const saves = vi.spyOn(MemoryBlobStore.prototype, 'write');
    const batch = vi.spyOn(TypedKvStore.prototype, 'batch').mockRejectedValueOnce(new ShelfError('QUOTA_EXCEEDED', 'full'));
    await expect(s.close()).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(saves).toHaveBeenCalled();
    expect(batch).toHaveBeenCalledTimes(1);
    // Refused while closing, even though the first attempt failed.
    await expect(Promise.resolve().then(() => s.kv.get('k'))).rejects.toMatchObject({ code: 'CLOSED' });
    await s.close();
    expect(batch).toHaveBeenCalledTimes(2);
    expect(batch.mock.calls[1]![0]).toEqual([expect.objectContaining({ type: 'put', value: expect.objectContaining({ message: 'x' }) })]);
  });

  it('a failed collection save at close is retried by the next close()', async () => {
    const s = new StorageService();
    await s.open({ name: unique('close-save'), memory: true, collections: { saveIntervalMs: 0 } });
    await s.collections.create('c');
    await s.collections.insert('c', { _id: 'a', v: 1 });
    const writes = vi.spyOn(MemoryBlobStore.prototype, 'write').mockRejectedValueOnce(new ShelfError('QUOTA_EXCEEDED', 'full'));
    await expect(s.close()).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    const before = writes.mock.calls.length;
    await s.close();
    expect(writes.mock.calls.length).toBeGreaterThan(before);
    // Closed for good now: nothing to retry.
    const after = writes.mock.calls.length;
    await s.close();
    expect(writes.mock.calls.length).toBe(after);
  });
});
