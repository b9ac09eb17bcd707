import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MatchResults, SearchResults } from '../../src/index.ts';
import { packMatchResults, packSearchResults, unpackMatchResults, unpackSearchResults } from '../../src/service/wire-search.ts';

const u32 = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const range = fc.record({ line: u32, column: u32, length: u32, offset: u32 });
const ranges = fc.array(range, { maxLength: 70 });

describe('search answers across the thread boundary', () => {
  it('keyword answers come back equal, ranges packed into one buffer', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ id: fc.string(), score: fc.double({ noNaN: true }), ranges }), { maxLength: 25 }),
      (hits) => {
        const results: SearchResults = { hits, total: hits.length + 3, truncated: false, query: 'a AND b', elapsedMs: 1.5 };
        const wire = packSearchResults(results);
        expect(wire.ranges).toBeInstanceOf(Uint32Array);
        expect(wire.hits.every((h) => !('ranges' in h))).toBe(true);
        // What crosses must survive a structured clone, as postMessage does.
        expect(unpackSearchResults(structuredClone(wire))).toEqual(results);
      },
    ));
  });

  it('regex and substring answers come back equal', () => {
    fc.assert(fc.property(fc.array(fc.record({ id: fc.string(), ranges }), { maxLength: 120 }), (matches) => {
      const results: MatchResults = {
        matches, total: matches.length, complete: true, truncated: false, candidates: 9, verified: 7, plan: '"abc"', elapsedMs: 2,
      };
      expect(unpackMatchResults(structuredClone(packMatchResults(results)))).toEqual(results);
    }));
  });
});
