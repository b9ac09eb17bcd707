import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isShelfError } from '../../../src/errors/index.ts';
import { decodePostings, encodePostings } from '../../../src/search/index.ts';
import { difference, intersect, intersectAll, union, unionAll, withoutMasked } from '../../../src/search/sorted-set.ts';

const sortedIds = (max = 0xffffffff) =>
  fc.uniqueArray(fc.integer({ min: 0, max }), { maxLength: 300 }).map((a) => Uint32Array.from(a.sort((x, y) => x - y)));

describe('postings codec (delta + varint)', () => {
  it('round-trips any strictly increasing list of 32-bit ids', () => {
    fc.assert(fc.property(sortedIds(), (ids) => {
      expect(decodePostings(encodePostings(ids))).toEqual(ids);
    }), { numRuns: 1000 });
  });

  it('is compact for dense lists: about one byte per id', () => {
    const ids = Uint32Array.from({ length: 10_000 }, (_, i) => i * 3 + 1000);
    expect(encodePostings(ids).length).toBeLessThan(10_010);
  });

  it('has a documented byte layout', () => {
    expect([...encodePostings([3, 7, 300])]).toEqual([3, 3, 4, 0xa5, 0x02]);
    expect([...encodePostings([])]).toEqual([0]);
  });

  it('refuses unsorted or duplicate ids', () => {
    for (const bad of [[2, 1], [1, 1], [-1], [1.5], [2 ** 32]]) {
      expect(() => encodePostings(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('reports truncated, overlong or trailing bytes as CORRUPT', () => {
    fc.assert(fc.property(sortedIds(1 << 20).filter((a) => a.length > 0), fc.nat(), (ids, cut) => {
      const bytes = encodePostings(ids);
      const truncated = bytes.slice(0, cut % bytes.length);
      let error: unknown = null;
      try {
        decodePostings(truncated);
      } catch (e) {
        error = e;
      }
      expect(isShelfError(error, 'CORRUPT')).toBe(true);
    }), { numRuns: 300 });
    expect(() => decodePostings(Uint8Array.of(1, 5, 9))).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => decodePostings(Uint8Array.of(2, 5, 0))).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });
});

describe('sorted doc-list algebra', () => {
  const small = sortedIds(400);
  it('agrees with Set arithmetic', () => {
    fc.assert(fc.property(small, small, small, (a, b, c) => {
      const sa = new Set(a);
      const sb = new Set(b);
      const sorted = (xs: Iterable<number>) => [...xs].sort((x, y) => x - y);
      expect([...intersect(a, b)]).toEqual(sorted([...sa].filter((x) => sb.has(x))));
      expect([...union(a, b)]).toEqual(sorted(new Set([...a, ...b])));
      expect([...difference(a, b)]).toEqual(sorted([...sa].filter((x) => !sb.has(x))));
      expect([...unionAll([a, b, c, a, b, c], 401)]).toEqual(sorted(new Set([...a, ...b, ...c])));
      expect([...intersectAll([a, b, c])]).toEqual(sorted([...sa].filter((x) => sb.has(x) && c.includes(x))));
      const mask = new Uint8Array(401);
      for (const x of b) mask[x] = 1;
      expect([...withoutMasked(a, mask)]).toEqual([...difference(a, b)]);
    }), { numRuns: 500 });
  });

  it('gallops correctly through very unequal lists', () => {
    const big = Uint32Array.from({ length: 100_000 }, (_, i) => i * 2);
    const few = Uint32Array.of(1, 2, 3, 50_000, 199_998, 300_000);
    expect([...intersect(few, big)]).toEqual([2, 50_000, 199_998]);
    expect([...difference(few, big)]).toEqual([1, 3, 300_000]);
  });
});
