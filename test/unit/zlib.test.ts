import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deflateSync, inflateSync } from 'fflate';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deflateBlocks, inflateInOrder } from '../../src/codec/compression-helpers.ts';
import { loadZlib } from '../../src/codec/zlib.ts';
import { instantiateLibDeflate, LibDeflate, LIBDEFLATE_MAX_INPUT } from '../../src/codec/libdeflate.ts';
import { LIBDEFLATE_VERSION, LIBDEFLATE_WASM_BASE64 } from '../../src/codec/libdeflate-wasm.ts';
import { ZLIB_WASM_BASE64, ZLIB_WASM_VERSION } from '../../src/codec/zlib-wasm.ts';
import { frameDeflated } from '../../src/codec/index.ts';
import { CollectionEngine, crc32, decodeCollectionBytes, decodeFrame, encodeCollectionFile, encodeFrame, encodeFrameAsync, MemoryBlobStore, ShelfError } from '../../src/index.ts';

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;
const require = createRequire(import.meta.url);

describe('zlib in WebAssembly', () => {
  it('embeds exactly the installed zlib-streams module (run scripts/embed-zlib-wasm.mjs after an upgrade)', () => {
    const installed = readFileSync(require.resolve('zlib-streams/zlib-streams.wasm'));
    expect(ZLIB_WASM_VERSION).toBe((require('zlib-streams/package.json') as { version: string }).version);
    expect(Buffer.from(ZLIB_WASM_BASE64, 'base64').equals(installed)).toBe(true);
  });

  it('writes raw deflate that fflate reads, reads what fflate writes, at every level', async () => {
    const zlib = (await loadZlib())!;
    expect(zlib).toBeDefined();
    const text = new TextEncoder().encode(Array.from({ length: 30_000 }, (_, i) => `line ${i % 977} of some code;\n`).join(''));
    for (const level of [0, 1, 2, 6, 9]) {
      const packed = zlib.deflateRaw(text, level);
      expect(same(inflateSync(packed), text)).toBe(true);
      expect(same(zlib.inflateRaw(packed, text.length), text)).toBe(true);
      if (level > 0) expect(packed.length).toBeLessThan(text.length / 5);
    }
    expect(same(zlib.inflateRaw(deflateSync(text, { level: 6 }), text.length), text)).toBe(true);
    expect(zlib.inflateRaw(zlib.deflateRaw(new Uint8Array(0), 1), 0)).toHaveLength(0);
  });

  it('streams inputs larger than its 16 MB memory', async () => {
    const zlib = (await loadZlib())!;
    const big = new Uint8Array(40_000_000);
    for (let i = 0; i < big.length; i++) big[i] = (Math.imul(i, 2654435761) >>> 27) ^ (i & 3);
    const packed = zlib.deflateRaw(big, 1);
    expect(same(zlib.inflateRaw(packed, big.length), big)).toBe(true);
  });

  it('refuses truncated, padded and wrong-length streams, through libdeflate and through zlib', async () => {
    const zlib = (await loadZlib())!;
    const ld = await instantiateLibDeflate();
    // Small enough for libdeflate, and over its limit so zlib streams it.
    for (const text of [new TextEncoder().encode('abcabcabd'.repeat(10_000)), new Uint8Array(LIBDEFLATE_MAX_INPUT + 10).map((_, i) => (i * 7) % 251)]) {
      const packed = zlib.deflateRaw(text, 2);
      const inflaters = text.length <= LIBDEFLATE_MAX_INPUT ? [zlib, ld] : [zlib];
      for (const z of inflaters) {
        expect(() => z.inflateRaw(packed.subarray(0, packed.length - 4), text.length)).toThrow(/truncated/);
        const padded = new Uint8Array(packed.length + 3);
        padded.set(packed);
        expect(() => z.inflateRaw(padded, text.length)).toThrow(/follow/);
        expect(() => z.inflateRaw(packed, text.length - 1)).toThrow(/past/);
        expect(() => z.inflateRaw(packed, text.length + 1)).toThrow(/expected/);
        expect(() => z.inflateRaw(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 10)).toThrow();
        expect(same(z.inflateRaw(packed, text.length), text)).toBe(true);
      }
    }
  });

  it('frames: once loaded, sync and async frames use it and damage is still CORRUPT', async () => {
    await loadZlib();
    const value = { rows: Array.from({ length: 2000 }, (_, i) => ({ id: i, path: `src/${i % 40}.ts` })) };
    const a = await encodeFrameAsync(value, { kind: 'TEST', level: 2 });
    const b = encodeFrame(value, { kind: 'TEST', level: 2 });
    expect(same(a, b)).toBe(true);
    expect(decodeFrame(a, { kind: 'TEST', name: 'z' })).toEqual(value);
    for (let at = 24; at < a.length; at += 97) {
      const bad = a.slice();
      bad[at]! ^= 0x40;
      const error = (() => {
        try {
          decodeFrame(bad, { kind: 'TEST', name: 'z' });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ShelfError);
      expect((error as ShelfError).code).toBe('CORRUPT');
    }
    // Damage the checksum cannot see (recomputed after the flip) is caught by the inflater.
    const forged = a.slice();
    forged[30]! ^= 0xff;
    new DataView(forged.buffer).setUint32(20, crc32(forged, 24, forged.length, crc32(forged, 4, 20)), true);
    expect(() => decodeFrame(forged, { kind: 'TEST', name: 'forged' })).toThrowError(/forged/);
  });
});

describe('libdeflate in WebAssembly', () => {
  it('embeds the module scripts/build-libdeflate-wasm.mjs built: the bytes its header names, importing nothing', async () => {
    const generated = readFileSync(new URL('../../src/codec/libdeflate-wasm.ts', import.meta.url), 'utf8');
    const wasm = Buffer.from(LIBDEFLATE_WASM_BASE64, 'base64');
    const header = /from libdeflate (\S+) \(MIT\)[^\n]*\n\/\/ [^:]+: (\d+) bytes, SHA-256 ([0-9a-f]{64})\./.exec(generated)!;
    expect(header).not.toBeNull();
    expect(header[1]).toBe(LIBDEFLATE_VERSION);
    expect(wasm.length).toBe(Number(header[2]));
    expect(createHash('sha256').update(wasm).digest('hex')).toBe(header[3]);
    const module = new WebAssembly.Module(wasm);
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name).sort()).toEqual(['cs_deflate', 'cs_deflate_bound', 'cs_inflate', 'cs_init', 'cs_scratch', 'memory']);
  });

  it('property: what it writes at any level, zlib and fflate inflate to the same bytes, and it inflates what they write', async () => {
    const ld = await instantiateLibDeflate();
    const zlib = (await loadZlib())!;
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 5000 }),
      // repetitive, like code: words from a small vocabulary
      fc.array(fc.constantFrom('const ', 'x', ' = ', 'parse', '(', ');\n', 'index'), { maxLength: 3000 }).map((w) => new TextEncoder().encode(w.join(''))),
    );
    fc.assert(fc.property(bytes, fc.integer({ min: 0, max: 12 }), (input, level) => {
      const packed = ld.deflateRaw(input, level);
      expect(same(zlib.inflateRaw(packed, input.length), input)).toBe(true);
      expect(same(inflateSync(packed), input)).toBe(true);
      expect(same(ld.inflateRaw(packed, input.length), input)).toBe(true);
      const byFflate = deflateSync(input, { level: Math.min(level, 9) as 1 });
      expect(same(ld.inflateRaw(byFflate, input.length), input)).toBe(true);
    }), { numRuns: 300 });
  });

  it('property: damaged streams fail with an Error or inflate to exactly the length asked, never anything else', async () => {
    const ld = await instantiateLibDeflate();
    const zlib = (await loadZlib())!;
    const text = new TextEncoder().encode(Array.from({ length: 400 }, (_, i) => `export const v${i % 37} = load(${i});\n`).join(''));
    const packed = ld.deflateRaw(text, 6);
    const damage = fc.array(fc.tuple(fc.nat(packed.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 });
    fc.assert(fc.property(damage, fc.integer({ min: -8, max: 8 }), (flips, skew) => {
      const bad = packed.slice();
      for (const [at, x] of flips) bad[at]! ^= x;
      const length = text.length + skew;
      let out: Uint8Array | undefined;
      try {
        out = ld.inflateRaw(bad, length);
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(/^libdeflate: /);
        return;
      }
      expect(out.length).toBe(length);
      // A stream that still inflates inflates the same under zlib.
      expect(same(zlib.inflateRaw(bad, length), out)).toBe(true);
    }), { numRuns: 500 });
    expect(same(ld.inflateRaw(packed, text.length), text)).toBe(true);
  });

  it('refuses levels it has no compressor for, and lengths that are not sizes', async () => {
    const ld = await instantiateLibDeflate();
    for (const level of [-1, 13, 1.5, Number.NaN]) expect(() => ld.deflateRaw(new Uint8Array(10), level)).toThrow(RangeError);
    for (const length of [-1, 1.5, Number.NaN]) expect(() => ld.inflateRaw(new Uint8Array(10), length)).toThrow(RangeError);
  });

  it('an input its memory cannot grow to hold fails that call only', () => {
    // A stand-in module whose scratch region refuses more than 100,000 bytes and whose
    // "compressor" copies.
    const memory = new WebAssembly.Memory({ initial: 4 });
    const stub = {
      memory,
      cs_init: () => 1,
      cs_scratch: (size: number) => (size > 100_000 ? 0 : 64),
      cs_deflate_bound: (_level: number, n: number) => n + 16,
      cs_deflate(_level: number, input: number, n: number, output: number) {
        new Uint8Array(memory.buffer).copyWithin(output, input, input + n);
        return n;
      },
      cs_inflate: () => 0,
    };
    const ld = new LibDeflate(stub as never);
    const bytes = (n: number) => new Uint8Array(n).fill(n & 0xff);
    expect(ld.deflateRaw(bytes(1000), 1)).toEqual(bytes(1000));
    expect(() => ld.deflateRaw(bytes(60_000), 1)).toThrow(/out of memory/);
    expect(() => ld.inflateRaw(bytes(60_000), 50_000)).toThrow(/out of memory/);
    expect(ld.deflateRaw(bytes(40_000), 1)).toEqual(bytes(40_000));
  });

  it('grows its memory for the largest input the codec gives it, and keeps working after', async () => {
    const ld = await instantiateLibDeflate();
    const zlib = (await loadZlib())!;
    const big = new Uint8Array(LIBDEFLATE_MAX_INPUT);
    for (let i = 0; i < big.length; i++) big[i] = (Math.imul(i, 2654435761) >>> 27) ^ (i & 3);
    const before = ld.memoryBytes;
    const packed = ld.deflateRaw(big, 1);
    expect(same(zlib.inflateRaw(packed, big.length), big)).toBe(true);
    expect(same(ld.inflateRaw(packed, big.length), big)).toBe(true);
    expect(ld.memoryBytes).toBeGreaterThan(before);
    const small = new TextEncoder().encode('after the big one '.repeat(100));
    expect(same(ld.inflateRaw(ld.deflateRaw(small, 6), small.length), small)).toBe(true);
  });

  it('works for the codec up to its input limit; larger inputs and outputs stream through zlib', async () => {
    const ld = await instantiateLibDeflate();
    const zlib = (await loadZlib())!;
    const text = new TextEncoder().encode(Array.from({ length: 5000 }, (_, i) => `symbol ${i % 313} in file ${i % 17}\n`).join(''));
    for (const level of [1, 2, 6]) expect(same(zlib.deflateRaw(text, level), ld.deflateRaw(text, level))).toBe(true);
    const limit = new Uint8Array(LIBDEFLATE_MAX_INPUT).fill(7);
    expect(same(zlib.deflateRaw(limit, 1), ld.deflateRaw(limit, 1))).toBe(true);
    const over = new Uint8Array(LIBDEFLATE_MAX_INPUT + 1).fill(7);
    expect(same(zlib.deflateRaw(over, 1), ld.deflateRaw(over, 1))).toBe(false);
    expect(same(zlib.inflateRaw(zlib.deflateRaw(over, 1), over.length), over)).toBe(true);
    // zlib's inflate names itself in its errors; libdeflate's names libdeflate.
    expect(() => zlib.inflateRaw(ld.deflateRaw(limit, 1), limit.length - 1)).toThrow(/^libdeflate: /);
    expect(() => zlib.inflateRaw(zlib.deflateRaw(over, 1), over.length + 1)).toThrow(/^zlib: /);
  });
});

describe('deflateBlocks where no worker can start (Node)', () => {
  it('compresses every block on the calling thread, in order, at the level asked', async () => {
    const blocks = Array.from({ length: 9 }, (_, i) => new TextEncoder().encode(`block ${i} `.repeat(200 + i * 50)));
    const produced: number[] = [];
    const { payloads, byHelpers } = await deflateBlocks(blocks.length, (i) => (produced.push(i), blocks[i]!), { level: 2 });
    expect(produced).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(byHelpers).toBe(0);
    payloads.forEach((p, i) => expect(same(inflateSync(p), blocks[i]!)).toBe(true));
    expect(same(payloads[3]!, (await loadZlib())!.deflateRaw(blocks[3]!, 2))).toBe(true);
  });

  it('passes on what produce throws', async () => {
    await expect(deflateBlocks(5, (i) => {
      if (i === 2) throw new ShelfError('INVALID_ARGUMENT', 'value cannot be encoded');
      return new Uint8Array(10);
    }, { level: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('inflateInOrder where no worker can start (Node)', () => {
  it('yields every block in order, and throws for a broken one only when it is due', async () => {
    const raw = Array.from({ length: 6 }, (_, i) => new TextEncoder().encode(`piece ${i};`.repeat(300 + i)));
    const zlib = (await loadZlib())!;
    const frames = raw.map((r, i) => ({ stored: i === 2 ? r : zlib.deflateRaw(r, 2), deflated: i !== 2, rawLength: r.length, i }));
    const got: Uint8Array[] = [];
    for await (const { frame, payload } of inflateInOrder(frames)) {
      expect(frame.i).toBe(got.length);
      got.push(payload);
    }
    got.forEach((g, i) => expect(same(g, raw[i]!)).toBe(true));

    // From an async source, pulled as it goes; the broken frame fails when it is due.
    let pulled = 0;
    const source = (async function* () {
      for (const [i, f] of frames.entries()) {
        pulled++;
        yield i === 4 ? { ...f, stored: f.stored.subarray(0, 20) } : f;
      }
    })();
    const before: number[] = [];
    const error = await (async () => {
      for await (const { frame } of inflateInOrder(source)) {
        expect(pulled).toBe(frame.i + 1); // no helpers here: nothing is read ahead
        before.push(frame.i);
      }
    })().catch((e: unknown) => e);
    expect(before).toEqual([0, 1, 2, 3]);
    expect(String(error)).toMatch(/truncated|inflate/);
  });

  it('a collection block whose checksum holds but whose deflate stream is broken is CORRUPT, naming the block', async () => {
    const docs = Array.from({ length: 3000 }, (_, i) => ({ _id: `d${i}`, n: i }));
    const good = await encodeCollectionFile('z', docs, 1);
    // Rebuild block 1 around a truncated deflate stream with a valid frame checksum.
    const headLength = 24 + new DataView(good.buffer).getUint32(12, true);
    const frameLength = (at: number) => 24 + new DataView(good.buffer).getUint32(at + 12, true);
    const b0 = headLength;
    const b1 = b0 + frameLength(b0);
    const b2 = b1 + frameLength(b1);
    const rawLength = new DataView(good.buffer).getUint32(b1 + 16, true);
    const bad = frameDeflated(good.subarray(b1 + 24, b1 + 60), rawLength, { kind: 'COLB', level: 2 });
    const file = new Uint8Array([...good.subarray(0, b1), ...bad, ...good.subarray(b2)]);
    const error = await decodeCollectionBytes(file, 'z').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('CORRUPT');
    expect((error as ShelfError).message).toMatch(/"z".*block 1: compressed payload does not inflate/);
  });
});

describe('libdeflate running out of memory', () => {
  type Scratch = { cs_scratch(n: number): number };
  /** Makes the next `times` scratch requests of the shared libdeflate module fail, as a failed memory.grow does. */
  const failScratch = async (times: number) => {
    const ld = ((await loadZlib()) as unknown as { libdeflate: { x: Scratch } }).libdeflate;
    const x = ld.x;
    let left = times;
    ld.x = { ...x, cs_scratch: (n: number) => (left-- > 0 ? 0 : x.cs_scratch(n)) };
    return () => {
      ld.x = x;
    };
  };

  it('falls back to zlib for that call, both ways', async () => {
    const zlib = (await loadZlib())!;
    const text = new TextEncoder().encode('fall back to zlib when memory cannot grow; '.repeat(2000));
    let restore = await failScratch(1);
    try {
      const packed = zlib.deflateRaw(text, 1);
      expect(same(inflateSync(packed), text)).toBe(true);
    } finally {
      restore();
    }
    const packed = zlib.deflateRaw(text, 1);
    restore = await failScratch(1);
    try {
      expect(same(zlib.inflateRaw(packed, text.length), text)).toBe(true);
    } finally {
      restore();
    }
  });

  it('is never taken for damage: a load keeps the newest save instead of falling back and removing it', async () => {
    const storage = new MemoryBlobStore();
    let engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, compressionWorkers: 0 });
    await engine.create('c');
    await engine.insertMany('c', Array.from({ length: 200 }, (_, i) => ({ _id: `d${i}`, n: i })));
    await engine.save('c');
    const older = (await storage.list()).find((f) => f.startsWith('c.'))!;
    const olderBytes = await storage.read(older);
    await engine.insert('c', { _id: 'written-later', n: -1 });
    await engine.save('c');
    await engine.close();
    // A superseded file that could not be removed.
    await storage.write(older, olderBytes);
    expect((await storage.list()).filter((f) => f.startsWith('c.')).length).toBe(2);
    const restore = await failScratch(1);
    try {
      engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, compressionWorkers: 0 });
      expect(await engine.get('c', 'written-later')).toEqual({ _id: 'written-later', n: -1 });
      await engine.close();
    } finally {
      restore();
    }
    expect((await storage.list()).filter((f) => f.startsWith('c.')).length).toBe(2);
  });

  it('an inflate that runs out of JavaScript memory is thrown as it is, not as damage', async () => {
    const zlib = (await loadZlib())!;
    const text = new TextEncoder().encode('a block '.repeat(500));
    const frame = { stored: zlib.deflateRaw(text, 1), deflated: true, rawLength: text.length };
    // Allocating the output fails as V8 does when it cannot (a RangeError).
    const ld = (zlib as unknown as { libdeflate: { x: { cs_inflate: unknown } } }).libdeflate;
    const x = ld.x;
    ld.x = { ...x, cs_inflate: () => { throw new RangeError('Array buffer allocation failed'); } };
    try {
      const error = await inflateInOrder([frame], { helpers: 0 }).next().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError);
    } finally {
      ld.x = x;
    }
    expect((await inflateInOrder([frame], { helpers: 0 }).next()).value?.payload).toEqual(text);
  });
});
