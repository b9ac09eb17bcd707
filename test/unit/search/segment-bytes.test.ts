import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBody, encodeBody } from '../../../src/search/segment-codec.ts';
import { builtFixture, mergedFixture } from './segment-fixtures.ts';

/**
 * The on-disk body format is pinned by bytes: `fixtures/segment-*.bin` were written by the
 * code before segment bodies held their terms in a `TermTable` (when they were a
 * string array), from the seeded documents of segment-fixtures.ts. Building, merging and
 * re-encoding must reproduce them exactly. Do not regenerate them unless SEGMENT_FORMAT
 * changes.
 */

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`fixtures/${name}`, import.meta.url)));

/** Where `actual` first differs from `expected` (-1 when identical): a short failure message, not a 60 KB diff. */
function firstDifference(actual: Uint8Array, expected: Uint8Array): number {
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) if (actual[i] !== expected[i]) return i;
  return actual.length === expected.length ? -1 : n;
}

describe('segment body bytes', () => {
  it('a freshly built segment encodes to the pinned bytes', () => {
    const { head, body } = builtFixture();
    expect(firstDifference(encodeBody(head.id, body), fixture('segment-built.bin'))).toBe(-1);
  });

  it('a merged segment encodes to the pinned bytes', () => {
    const { head, body } = mergedFixture();
    expect(firstDifference(encodeBody(head.id, body), fixture('segment-merged.bin'))).toBe(-1);
  });

  it('decoding and re-encoding the pinned bytes gives them back', () => {
    // Segment ids and document counts of the two fixtures (the merge keeps 3 × 30 of 3 × 40).
    for (const [name, id, docs] of [['segment-built.bin', 3, 100], ['segment-merged.bin', 9, 90]] as const) {
      const bytes = fixture(name);
      expect(firstDifference(encodeBody(id, decodeBody(bytes, name, id, docs)), bytes)).toBe(-1);
    }
  });
});
