/**
 * One conformance suite for every KvStore: the memory adapter (Node), the IndexedDB adapter
 * (Chromium, same thread) and the IndexedDB adapter reached through the storage worker.
 * Transaction methods are awaited so the same cases run against a Comlink proxy.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineKeySpace, ShelfError, type BatchOp, type KvStats, type ScanOptions, type ScanPage } from '../../src/index.ts';

/** The store surface the suite exercises; transaction calls may be sync or async. */
export interface ConformanceKv {
  get(key: string): Promise<Uint8Array | undefined>;
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  has(key: string): Promise<boolean>;
  count(range?: { prefix?: string; start?: string; end?: string }): Promise<number>;
  clear(): Promise<void>;
  batch(ops: readonly BatchOp[]): Promise<void>;
  scan(options?: ScanOptions): Promise<ScanPage>;
  iterate(options?: ScanOptions & { pageSize?: number }): AsyncIterableIterator<{ key: string; value: Uint8Array }>;
  transaction<T>(fn: (tx: ConformanceTx) => Promise<T>, options?: { retries?: number }): Promise<T>;
  stats(): Promise<KvStats>;
}

export interface ConformanceTx {
  get(key: string): Promise<Uint8Array | undefined>;
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  has(key: string): Promise<boolean>;
  scan(options?: ScanOptions): Promise<ScanPage>;
  set(key: string, value: Uint8Array): void | Promise<void>;
  delete(key: string): void | Promise<void>;
}

export interface ConformanceTarget {
  kv: ConformanceKv;
  /** Closes the store; afterwards every call must fail with CLOSED. */
  close(): Promise<void>;
  /** Releases everything (and wipes persistent data). */
  dispose(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);
const s = (v: Uint8Array | undefined) => (v === undefined ? undefined : dec.decode(v));

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<ShelfError> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a ShelfError ${code}`).toBeInstanceOf(ShelfError);
  expect((caught as ShelfError).code).toBe(code);
  return caught as ShelfError;
}

async function dump(kv: ConformanceKv): Promise<[string, string | undefined][]> {
  const page = await kv.scan();
  return page.keys.map((k, i) => [k, s(page.values![i])]);
}

export function runKvConformance(label: string, open: () => Promise<ConformanceTarget>): void {
  describe(`KvStore conformance: ${label}`, () => {
    let target: ConformanceTarget;
    let kv: ConformanceKv;

    beforeEach(async () => {
      target = await open();
      kv = target.kv;
    });
    afterEach(async () => {
      await target.dispose();
    });

    it('round-trips bytes and overwrites', async () => {
      expect(await kv.get('missing')).toBeUndefined();
      await kv.set('a', new Uint8Array([0, 1, 255]));
      expect([...(await kv.get('a'))!]).toEqual([0, 1, 255]);
      await kv.set('a', b('second'));
      expect(s(await kv.get('a'))).toBe('second');
      await kv.set('empty', new Uint8Array(0));
      expect((await kv.get('empty'))?.byteLength).toBe(0);
      expect(await kv.has('empty')).toBe(true);
    });

    it('stores a copy: mutating the value afterwards changes nothing', async () => {
      const value = b('abc');
      await kv.set('k', value);
      value[0] = 0x7a;
      expect(s(await kv.get('k'))).toBe('abc');
    });

    it('stores only the bytes of a view, not its whole buffer', async () => {
      const big = new Uint8Array(1024).fill(7);
      await kv.set('view', big.subarray(10, 13));
      const got = (await kv.get('view'))!;
      expect(got.byteLength).toBe(3);
      expect([...got]).toEqual([7, 7, 7]);
    });

    it('getMany keeps order and reports missing keys', async () => {
      await kv.batch([
        { type: 'put', key: 'x', value: b('1') },
        { type: 'put', key: 'z', value: b('3') },
      ]);
      expect((await kv.getMany(['z', 'nope', 'x'])).map(s)).toEqual(['3', undefined, '1']);
      expect(await kv.getMany([])).toEqual([]);
    });

    it('has, delete and deleting a missing key', async () => {
      await kv.set('k', b('v'));
      expect(await kv.has('k')).toBe(true);
      await kv.delete('k');
      expect(await kv.has('k')).toBe(false);
      expect(await kv.get('k')).toBeUndefined();
      await kv.delete('never-there');
      expect(await kv.count()).toBe(0);
    });

    it('count by range and prefix, and clear', async () => {
      await kv.batch(['a:1', 'a:2', 'a:3', 'b:1', 'c'].map((key) => ({ type: 'put' as const, key, value: b(key) })));
      expect(await kv.count()).toBe(5);
      expect(await kv.count({ prefix: 'a:' })).toBe(3);
      expect(await kv.count({ start: 'a:2', end: 'b:1' })).toBe(2);
      expect(await kv.count({ prefix: 'zz' })).toBe(0);
      await kv.clear();
      expect(await kv.count()).toBe(0);
    });

    it('batch applies puts and deletes together; the last op on a key wins', async () => {
      await kv.set('gone', b('x'));
      await kv.batch([
        { type: 'put', key: 'k1', value: b('one') },
        { type: 'put', key: 'k2', value: b('two') },
        { type: 'delete', key: 'gone' },
        { type: 'put', key: 'k1', value: b('uno') },
        { type: 'put', key: 'k3', value: b('tmp') },
        { type: 'delete', key: 'k3' },
      ]);
      expect(await dump(kv)).toEqual([['k1', 'uno'], ['k2', 'two']]);
    });

    it('batch with one bad entry writes nothing', async () => {
      await kv.set('before', b('kept'));
      const before = await dump(kv);
      const bad: unknown[] = [
        { type: 'put', key: '', value: b('x') },
        { type: 'put', key: 'ok', value: 'not bytes' },
        { type: 'put', key: 42, value: b('x') },
        { type: 'upsert', key: 'ok', value: b('x') },
        null,
      ];
      for (const entry of bad) {
        const ops = [
          { type: 'put', key: 'n1', value: b('1') },
          { type: 'delete', key: 'before' },
          entry,
          { type: 'put', key: 'n2', value: b('2') },
        ];
        const error = await expectCode(kv.batch(ops as BatchOp[]), 'INVALID_ARGUMENT');
        expect(error.message).toMatch(/ops\[2\]/);
        expect(await dump(kv)).toEqual(before);
      }
    });

    it('refuses bad keys and values with INVALID_ARGUMENT naming the argument', async () => {
      expect((await expectCode(kv.set('', b('x')), 'INVALID_ARGUMENT')).message).toMatch(/key/);
      await expectCode(kv.set(7 as unknown as string, b('x')), 'INVALID_ARGUMENT');
      expect((await expectCode(kv.set('k', 'text' as unknown as Uint8Array), 'INVALID_ARGUMENT')).message).toMatch(/value/);
      await expectCode(kv.set('k', [1, 2] as unknown as Uint8Array), 'INVALID_ARGUMENT');
      await expectCode(kv.set('x'.repeat(5000), b('x')), 'INVALID_ARGUMENT');
      await expectCode(kv.get(''), 'INVALID_ARGUMENT');
      await expectCode(kv.getMany(['ok', ''] as string[]), 'INVALID_ARGUMENT');
      await expectCode(kv.scan({ limit: -1 }), 'INVALID_ARGUMENT');
      await expectCode(kv.scan({ prefix: 5 as unknown as string }), 'INVALID_ARGUMENT');
      expect(await kv.count()).toBe(0);
    });

    it('scans in key order with prefix, [start, end), limit, reverse and keys-only', async () => {
      const keys = ['b', 'a:3', 'a:1', 'a:2', 'a', 'a;', 'ab', 'c'];
      await kv.batch(keys.map((key) => ({ type: 'put' as const, key, value: b(`v-${key}`) })));
      const all = await kv.scan();
      expect(all.keys).toEqual([...keys].sort());
      expect(all.values!.map(s)).toEqual([...keys].sort().map((k) => `v-${k}`));
      expect(all.cursor).toBeNull();
      expect((await kv.scan({ prefix: 'a:' })).keys).toEqual(['a:1', 'a:2', 'a:3']);
      expect((await kv.scan({ start: 'a:2', end: 'ab' })).keys).toEqual(['a:2', 'a:3', 'a;']);
      expect((await kv.scan({ prefix: 'a', start: 'a:2', limit: 2 })).keys).toEqual(['a:2', 'a:3']);
      expect((await kv.scan({ prefix: 'a:', reverse: true })).keys).toEqual(['a:3', 'a:2', 'a:1']);
      const keysOnly = await kv.scan({ prefix: 'a:', keysOnly: true });
      expect(keysOnly.keys).toEqual(['a:1', 'a:2', 'a:3']);
      expect(keysOnly.values).toBeNull();
      expect((await kv.scan({ prefix: 'a:', keysOnly: true, reverse: true })).keys).toEqual(['a:3', 'a:2', 'a:1']);
      expect((await kv.scan({ start: 'b', end: 'a' })).keys).toEqual([]);
      expect((await kv.scan({ limit: 0 })).keys).toEqual([]);
    });

    it('orders by UTF-16 code unit, including astral and U+FFFF keys', async () => {
      const keys = ['z', 'é', '\uffff', '\uffff\uffff', '😀', 'Z', '\u0001', 'p\uffff', 'p\uffffx', 'q'];
      await kv.batch(keys.map((key) => ({ type: 'put' as const, key, value: b('1') })));
      const expected = [...keys].sort();
      expect((await kv.scan()).keys).toEqual(expected);
      expect((await kv.scan({ prefix: 'p\uffff' })).keys).toEqual(['p\uffff', 'p\uffffx']);
      expect((await kv.scan({ prefix: '\uffff' })).keys).toEqual(['\uffff', '\uffff\uffff']);
    });

    it('pages with cursors: every key exactly once, forward and reverse', async () => {
      const keys = Array.from({ length: 53 }, (_, i) => `k:${String(i).padStart(3, '0')}`);
      await kv.batch(keys.map((key) => ({ type: 'put' as const, key, value: b(key) })));
      for (const reverse of [false, true]) {
        const seen: string[] = [];
        let after: string | undefined;
        let pagesRead = 0;
        for (;;) {
          const page = await kv.scan({ prefix: 'k:', limit: 10, reverse, ...(after ? { after } : {}) });
          seen.push(...page.keys);
          pagesRead++;
          if (!page.cursor) break;
          after = page.cursor;
        }
        expect(seen).toEqual(reverse ? [...keys].reverse() : keys);
        expect(pagesRead).toBe(6);
      }
      // A page that ends exactly at the end of the range has no cursor.
      expect((await kv.scan({ prefix: 'k:', limit: 53 })).cursor).toBeNull();
      expect((await kv.scan({ prefix: 'k:', limit: 52 })).cursor).toBe('k:051');
    });

    it('iterates lazily page by page', async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `it:${String(i).padStart(2, '0')}`);
      await kv.batch(keys.map((key) => ({ type: 'put' as const, key, value: b(key) })));
      const seen: string[] = [];
      for await (const { key, value } of kv.iterate({ prefix: 'it:', pageSize: 4 })) {
        expect(s(value)).toBe(key);
        seen.push(key);
      }
      expect(seen).toEqual(keys);
      const firstSeven: string[] = [];
      for await (const { key } of kv.iterate({ prefix: 'it:', pageSize: 3, reverse: true, limit: 7 })) firstSeven.push(key);
      expect(firstSeven).toEqual([...keys].reverse().slice(0, 7));
    });

    it('scans structured keys by tuple prefix in tuple order', async () => {
      const nodes = defineKeySpace('node', { queue: 'string', level: 'number', status: 'string', hash: 'string' });
      const ops: BatchOp[] = [];
      for (const queue of ['src', 'dst']) {
        for (const level of [10, 2, 3, 0]) {
          for (const status of ['pending', 'done']) {
            ops.push({ type: 'put', key: nodes.key({ queue, level, status, hash: `${queue}${level}${status}` }), value: b('1') });
          }
        }
      }
      await kv.batch(ops);
      const pending3 = await kv.scan({ prefix: nodes.prefix({ queue: 'src', level: 3, status: 'pending' }) });
      expect(pending3.keys.map((k) => nodes.parse(k).hash)).toEqual(['src3pending']);
      const src = await kv.scan({ prefix: nodes.prefix({ queue: 'src' }), keysOnly: true });
      expect(src.keys.map((k) => nodes.parse(k).level)).toEqual([0, 0, 2, 2, 3, 3, 10, 10]);
    });

    describe('transactions', () => {
      it('reads its own writes and commits them atomically at the end', async () => {
        await kv.set('n', b('1'));
        const result = await kv.transaction(async (tx) => {
          const n = Number(s(await tx.get('n')));
          await tx.set('n', b(String(n + 1)));
          await tx.set('m', b('new'));
          await tx.delete('n2');
          expect(s(await tx.get('n'))).toBe('2');
          expect(await tx.has('m')).toBe(true);
          expect((await tx.getMany(['m', 'n'])).map(s)).toEqual(['new', '2']);
          // Nothing is visible outside until commit.
          expect(await kv.get('m')).toBeUndefined();
          return n;
        });
        expect(result).toBe(1);
        expect(s(await kv.get('n'))).toBe('2');
        expect(s(await kv.get('m'))).toBe('new');
      });

      it('scan inside a transaction merges buffered puts and deletes', async () => {
        await kv.batch(['p:1', 'p:2', 'p:3', 'p:4'].map((key) => ({ type: 'put' as const, key, value: b(key) })));
        await kv.transaction(async (tx) => {
          await tx.delete('p:2');
          await tx.set('p:25', b('new'));
          await tx.set('p:9', b('late'));
          expect((await tx.scan({ prefix: 'p:' })).keys).toEqual(['p:1', 'p:25', 'p:3', 'p:4', 'p:9']);
          const first = await tx.scan({ prefix: 'p:', limit: 2 });
          expect(first.keys).toEqual(['p:1', 'p:25']);
          const second = await tx.scan({ prefix: 'p:', limit: 2, after: first.cursor! });
          expect(second.keys).toEqual(['p:3', 'p:4']);
          const third = await tx.scan({ prefix: 'p:', limit: 2, after: second.cursor! });
          expect(third.keys).toEqual(['p:9']);
          expect(third.cursor).toBeNull();
          expect((await tx.scan({ prefix: 'p:', reverse: true, limit: 3 })).keys).toEqual(['p:9', 'p:4', 'p:3']);
        });
        expect((await kv.scan({ prefix: 'p:' })).keys).toEqual(['p:1', 'p:25', 'p:3', 'p:4', 'p:9']);
      });

      it('fails with TXN_CONFLICT and writes nothing when a read key changed', async () => {
        await kv.set('balance', b('10'));
        const error = await expectCode(
          kv.transaction(async (tx) => {
            const v = Number(s(await tx.get('balance')));
            await kv.set('balance', b('99')); // a concurrent writer
            await tx.set('balance', b(String(v - 5)));
            await tx.set('audit', b('spent 5'));
          }),
          'TXN_CONFLICT',
        );
        expect(error.message).toMatch(/balance/);
        expect(s(await kv.get('balance'))).toBe('99');
        expect(await kv.get('audit')).toBeUndefined();
        expect((await kv.stats()).conflicts).toBe(1);
      });

      it('detects a conflict on a scanned range, and not on unrelated keys', async () => {
        await kv.set('q:1', b('1'));
        await expectCode(
          kv.transaction(async (tx) => {
            const page = await tx.scan({ prefix: 'q:' });
            await kv.set('q:2', b('phantom'));
            await tx.set('q:count', b(String(page.keys.length)));
          }),
          'TXN_CONFLICT',
        );
        expect(await kv.get('q:count')).toBeUndefined();
        await kv.transaction(async (tx) => {
          await tx.get('q:1');
          await kv.set('elsewhere', b('x'));
          await tx.set('q:seen', b('ok'));
        });
        expect(s(await kv.get('q:seen'))).toBe('ok');
      });

      it('a conflicting clear() fails the transaction', async () => {
        await kv.set('c', b('1'));
        await expectCode(
          kv.transaction(async (tx) => {
            await tx.get('c');
            await kv.clear();
            await tx.set('d', b('2'));
          }),
          'TXN_CONFLICT',
        );
        expect(await kv.count()).toBe(0);
      });

      it('an error thrown in fn aborts: nothing written, the error comes back', async () => {
        const error = await expectCode(
          kv.transaction(async (tx) => {
            await tx.set('half', b('written?'));
            throw new ShelfError('ABORTED', 'caller gave up');
          }),
          'ABORTED',
        );
        expect(error.message).toBe('caller gave up');
        expect(await kv.get('half')).toBeUndefined();
      });

      it('retries after a conflict when asked', async () => {
        await kv.set('ctr', b('0'));
        let attempts = 0;
        await kv.transaction(
          async (tx) => {
            attempts++;
            const v = Number(s(await tx.get('ctr')));
            if (attempts === 1) await kv.set('ctr', b('100'));
            await tx.set('ctr', b(String(v + 1)));
          },
          { retries: 2 },
        );
        expect(attempts).toBe(2);
        expect(s(await kv.get('ctr'))).toBe('101');
      });

      it('refuses bad writes inside the transaction', async () => {
        await expectCode(kv.transaction(async (tx) => { await tx.set('', b('x')); }), 'INVALID_ARGUMENT');
        await expectCode(kv.transaction(async (tx) => { await tx.set('k', 'str' as unknown as Uint8Array); }), 'INVALID_ARGUMENT');
        expect(await kv.count()).toBe(0);
      });
    });

    it('counts operations, bytes and keys in stats', async () => {
      await kv.set('a', new Uint8Array(10));
      await kv.batch([{ type: 'put', key: 'b', value: new Uint8Array(20) }, { type: 'put', key: 'c', value: new Uint8Array(5) }]);
      await kv.get('a');
      await kv.getMany(['b', 'c']);
      await kv.scan({ prefix: 'a' });
      await kv.get('').catch(() => undefined);
      const stats = await kv.stats();
      expect(stats.ops.set.count).toBe(1);
      expect(stats.ops.batch.count).toBe(1);
      expect(stats.ops.get.count).toBe(2);
      expect(stats.ops.get.errors).toBe(1);
      expect(stats.ops.getMany.count).toBe(1);
      expect(stats.ops.scan.count).toBe(1);
      expect(stats.bytesWritten).toBe(35);
      expect(stats.bytesRead).toBe(10 + 25 + 10);
      expect(stats.keyCount).toBe(3);
      expect(stats.ops.set.meanMs).toBeGreaterThanOrEqual(0);
      expect(stats.ops.set.totalMs).toBeGreaterThanOrEqual(stats.ops.set.meanMs);
    });

    it('fails every call with CLOSED after close', async () => {
      await kv.set('k', b('v'));
      await target.close();
      await expectCode(kv.get('k'), 'CLOSED');
      await expectCode(kv.set('k', b('v')), 'CLOSED');
      await expectCode(kv.scan(), 'CLOSED');
      await expectCode(kv.transaction(async () => 1), 'CLOSED');
    });
  });
}
