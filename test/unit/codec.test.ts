import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, decodeCollectionBytes, decodeFrame, decodeFrameBytes, encodeCollectionFile, encodeFrame, encodeFrameBytes, encodeRecord, readRecords, ShelfError } from '../../src/index.ts';
import { decodeDocBatch, encodeDocBatch } from '../../src/collections/packed-batch.ts';

const ctx = { kind: 'TEST', name: 'unit' };

function typedError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ShelfError);
    return (error as ShelfError).code;
  }
  return 'none';
}

describe('frame', () => {
  it('round-trips values with and without compression and records', () => {
    const value = { rows: Array.from({ length: 50 }, (_, i) => ({ id: i, path: `src/${i}.ts`, tags: ['a'] })), big: 2n ** 64n };
    for (const compress of [true, false]) {
      for (const records of [true, false]) {
        expect(decodeFrame(encodeFrame(value, { kind: 'TEST', compress, records }), ctx)).toEqual(value);
      }
    }
    const bytes = new Uint8Array([1, 2, 3, 250]);
    expect([...decodeFrameBytes(encodeFrameBytes(bytes, { kind: 'TEST' }), ctx)]).toEqual([1, 2, 3, 250]);
  });

  it('frames and batches made one after another each keep their own bytes (the packer packs over one buffer)', () => {
    // Sizes that make the packer grow its buffer, then fit in it again.
    const values = [3_000, 200_000, 10, 50_000].map((n, k) => ({ k, text: 'x'.repeat(n), ids: Array.from({ length: n % 997 }, (_, i) => i * k) }));
    for (const compress of [true, false]) {
      for (const records of [true, false]) {
        const frames = values.map((v) => encodeFrame(v, { kind: 'TEST', compress, records }));
        expect(frames.map((f) => decodeFrame(f, ctx))).toEqual(values);
      }
    }
    const docs = values.map((v) => [{ _id: `d${v.k}`, ...v }]);
    const batches = docs.map((d) => encodeDocBatch(d));
    expect(batches.map((b) => decodeDocBatch(b, 'batch'))).toEqual(docs);
  });

  it('continues a CRC like zlib does', () => {
    const a = new TextEncoder().encode('123456789');
    expect(crc32(a)).toBe(0xcbf43926);
    expect(crc32(a, 4, 9, crc32(a, 0, 4))).toBe(0xcbf43926);
  });

  it('property: equals a bit-by-bit CRC-32 on any bytes, any range, continued from any value', () => {
    const bitwise = (bytes: Uint8Array, previous: number) => {
      let crc = ~previous;
      for (const b of bytes) {
        crc ^= b;
        for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
      }
      return ~crc >>> 0;
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), fc.nat({ max: 0xffffffff }), (bytes, x, y, previous) => {
        const start = bytes.length ? x % (bytes.length + 1) : 0;
        const end = start + (bytes.length - start ? y % (bytes.length - start + 1) : 0);
        expect(crc32(bytes, start, end, previous)).toBe(bitwise(bytes.subarray(start, end), previous));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches the documented header layout', () => {
    const frame = encodeFrame({ a: 1 }, { kind: 'ABCD', compress: false, records: false });
    expect(String.fromCharCode(...frame.subarray(0, 4))).toBe('CSHF');
    expect(frame[4]).toBe(1);
    expect(frame[5]).toBe(0);
    expect(String.fromCharCode(...frame.subarray(8, 12))).toBe('ABCD');
    const view = new DataView(frame.buffer);
    expect(view.getUint32(12, true)).toBe(frame.length - 24);
    expect(view.getUint32(20, true)).toBe(crc32(frame, 24, frame.length, crc32(frame, 4, 20)));
  });

  it('classifies damage: magic, version, kind, truncation, checksum', () => {
    const good = encodeFrame({ hello: 'world' }, { kind: 'TEST' });
    const mutate = (f: (b: Uint8Array) => void) => {
      const b = good.slice();
      f(b);
      return b;
    };
    expect(typedError(() => decodeFrame(mutate((b) => (b[0] = 0)), ctx))).toBe('CORRUPT');
    expect(typedError(() => decodeFrame(mutate((b) => (b[4] = 9)), ctx))).toBe('UNSUPPORTED_VERSION');
    expect(typedError(() => decodeFrame(good, { kind: 'OTHR', name: 'x' }))).toBe('CORRUPT');
    expect(typedError(() => decodeFrame(good.subarray(0, good.length - 1), ctx))).toBe('CORRUPT');
    expect(typedError(() => decodeFrame(good.subarray(0, 10), ctx))).toBe('CORRUPT');
    expect(typedError(() => decodeFrame(mutate((b) => (b[b.length - 1]! ^= 1)), ctx))).toBe('CORRUPT');
    expect(() => decodeFrame(good.subarray(0, 3), ctx)).toThrowError(/unit/);
  });

  it('fuzz: random and mutated bytes always end in a typed error or a value', () => {
    const good = encodeFrame({ docs: [{ _id: 'a', n: 1 }] }, { kind: 'TEST' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(['CORRUPT', 'UNSUPPORTED_VERSION']).toContain(typedError(() => decodeFrame(bytes, ctx)));
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      // Distinct positions: two flips of one byte with the same mask would cancel out and
      // leave the frame undamaged.
      fc.property(
        fc.uniqueArray(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
          selector: ([at]) => at,
        }),
        (flips) => {
          const bytes = good.slice();
          for (const [at, x] of flips) bytes[at]! ^= x;
          const outcome = typedError(() => decodeFrame(bytes, ctx));
          // A flip in the reserved/unused space can't exist: every byte is covered by a check.
          expect(['CORRUPT', 'UNSUPPORTED_VERSION']).toContain(outcome);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('collection file', () => {
  it('fuzz: mutated collection files decode to the same docs or a typed error, never anything else', async () => {
    const docs = Array.from({ length: 2500 }, (_, i) => ({ _id: `d${i}`, n: i }));
    const good = await encodeCollectionFile('fz', docs, 1);
    expect(await decodeCollectionBytes(good, 'fz')).toEqual(docs);
    await fc.assert(
      fc.asyncProperty(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), async (at, x, truncate) => {
        const bytes = truncate ? good.slice(0, at) : good.slice();
        if (!truncate) bytes[at]! ^= x;
        try {
          await decodeCollectionBytes(bytes, 'fz');
          throw new Error('damaged file decoded');
        } catch (error) {
          expect(error).toBeInstanceOf(ShelfError);
          expect(['CORRUPT', 'UNSUPPORTED_VERSION']).toContain((error as ShelfError).code);
          expect((error as ShelfError).message).toMatch(/"fz"/);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('record log', () => {
  it('reads records back and drops a torn tail', () => {
    const records = [{ op: 'a' }, { op: 'b', n: [1, 2] }, { op: 'c' }].map(encodeRecord);
    const all = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
    let o = 0;
    for (const r of records) {
      all.set(r, o);
      o += r.length;
    }
    expect(readRecords(all)).toEqual({ records: [{ op: 'a' }, { op: 'b', n: [1, 2] }, { op: 'c' }], validBytes: all.length, tornTail: false });
    const torn = readRecords(all.subarray(0, all.length - 2));
    expect(torn.records).toHaveLength(2);
    expect(torn.tornTail).toBe(true);
    expect(torn.validBytes).toBe(records[0]!.length + records[1]!.length);
    const flipped = all.slice();
    flipped[records[0]!.length + 9]! ^= 0xff;
    expect(readRecords(flipped).records).toHaveLength(1);
  });

  it('reads back whatever size it wrote: a record past 256 MiB and the ones after it are not taken for a torn tail', () => {
    const big = new Uint8Array(256 * 1024 * 1024 + 16).fill(7);
    const records = [encodeRecord('small-1'), encodeRecord(big), encodeRecord('small-2')];
    const all = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
    let o = 0;
    for (const r of records) {
      all.set(r, o);
      o += r.length;
    }
    const scan = readRecords<unknown>(all);
    expect(scan.tornTail).toBe(false);
    expect(scan.records).toHaveLength(3);
    expect((scan.records[1] as Uint8Array).length).toBe(big.length);
    expect(scan.records[2]).toBe('small-2');
  }, 60_000);
});
