import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { packedSize } from '../../src/collections/doc-size.ts';
import { makeAnalysisDocs } from '../../bench/analysis-docs.ts';

const packr = new Packr({ useRecords: false });
const packed = (v: unknown) => packr.pack(v).length;

// Strings of every UTF-8 width, lone surrogates included, short and long (msgpackr encodes
// strings under 64 units in JavaScript and longer ones natively).
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\ud800', '\udc00'), maxLength: 300 }),
  fc.constantFrom('', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(65535), 'x'.repeat(65536), 'é'.repeat(16), '😀'.repeat(64)),
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 31, 32, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, NaN, Infinity, -Infinity, 0.5, Number.MAX_SAFE_INTEGER),
);
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text, number, fc.boolean(), fc.constant(null), fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 20 }),
    fc.sparseArray(tie('value'), { maxLength: 5 }),
    fc.dictionary(text, tie('value'), { maxKeys: 20 }),
  ),
})).value;

describe('packedSize', () => {
  it('counts JSON-like values byte for byte as msgpackr packs them', () => {
    fc.assert(fc.property(value, (v) => {
      expect(packedSize(v)).toBe(packed(v));
    }), { numRuns: 2000 });
  });

  it('counts the benchmark documents and objects of many keys exactly', () => {
    for (const doc of makeAnalysisDocs(200)) expect(packedSize(doc)).toBe(packed(doc));
    const wide = Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i]));
    expect(() => packedSize(wide)).toThrow(); // msgpackr's map of a 16-bit count refuses it, as before
    const long = Array.from({ length: 70_000 }, (_, i) => i);
    expect(packedSize({ long })).toBe(packed({ long }));
  });

  it('dispatches on `constructor` as msgpackr does', () => {
    const outcome = (f: () => number) => {
      try {
        return f();
      } catch (error) {
        return `throws ${(error as Error).name}`;
      }
    };
    const same = (v: unknown) => expect(outcome(() => packedSize(v))).toBe(outcome(() => packed(v)));
    // msgpackr calls value.toJSON() for an object whose constructor is not Object: here it throws.
    same(JSON.parse('{"_id":"a","constructor":"x","toJSON":"y"}'));
    same({ _id: 'a', p: new Proxy(new Map([['k', 1]]), { getPrototypeOf: () => Object.prototype }) });
    const asMap: unknown[] = [1, 2];
    (asMap as unknown as { constructor: unknown }).constructor = Object; // packed as a map
    same({ _id: 'a', a: asMap });
    const refused: unknown[] = [1];
    (refused as unknown as { constructor: unknown }).constructor = Map;
    same({ _id: 'a', a: refused });
  });

  it('packs what it does not count: other objects, deep nesting, cycles', () => {
    const others = { when: new Date(0), map: new Map([['a', 1]]), bytes: new Uint8Array([1, 2, 3]), big: 2n ** 40n };
    expect(packedSize(others)).toBe(packed(others));
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100; i++) deep = { d: [deep] };
    expect(packedSize(deep)).toBe(packed(deep));
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(() => packedSize(cycle)).toThrow(); // as msgpackr does
    expect(() => packedSize({ s: Symbol('x') })).toThrow();
  });
});
