import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBody, encodeBody, SEGMENT_FORMAT } from '../../../src/search/segment-codec.ts';
import { builtFixture, mergedFixture } from './segment-fixtures.ts';

/**
 * The on-disk body format is pinned by bytes, from the seeded documents of
 * segment-fixtures.ts. `fixtures/segment-*.v2.bin` are format 2 (position checkpoints
 * added), written when that format was introduced: building, merging and re-encoding must
 * reproduce them exactly. `fixtures/segment-*.v1.bin` were written by format 1 (before
 * checkpoints, and before terms were held in a `TermTable`): they must still load, and
 * re-encode to the format-2 bytes. Never regenerate a fixture of a released format.
 */

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`fixtures/${name}`, import.meta.url)));

/** Where `actual` first differs from `expected` (-1 when identical): a short failure message, not a 60 KB diff. */
function firstDifference(actual: Uint8Array, expected: Uint8Array): number {
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) if (actual[i] !== expected[i]) return i;
  return actual.length === expected.length ? -1 : n;
}

// Segment ids and document counts of the two fixtures (the merge keeps 3 × 30 of 3 × 40).
const FIXTURES = [['segment-built', 3, 100], ['segment-merged', 9, 90]] as const;

describe('segment body bytes', () => {
  it('is format 2', () => {
    expect(SEGMENT_FORMAT).toBe(2);
  });

  it('a freshly built segment encodes to the pinned bytes', () => {
    const { head, body } = builtFixture();
    expect(firstDifference(encodeBody(head.id, body), fixture('segment-built.v2.bin'))).toBe(-1);
  });

  it('a merged segment encodes to the pinned bytes', () => {
    const { head, body } = mergedFixture();
    expect(firstDifference(encodeBody(head.id, body), fixture('segment-merged.v2.bin'))).toBe(-1);
  });

  it('decoding and re-encoding the pinned bytes gives them back', () => {
    for (const [name, id, docs] of FIXTURES) {
      const bytes = fixture(`${name}.v2.bin`);
      expect(firstDifference(encodeBody(id, decodeBody(bytes, name, id, docs)), bytes)).toBe(-1);
    }
  });

  it('format-1 bodies load, their checkpoints recomputed from the texts, and re-encode as format 2', () => {
    for (const [name, id, docs] of FIXTURES) {
      const old = decodeBody(fixture(`${name}.v1.bin`), name, id, docs);
      const current = decodeBody(fixture(`${name}.v2.bin`), name, id, docs);
      expect(old).toEqual(current);
      expect(firstDifference(encodeBody(id, old), fixture(`${name}.v2.bin`))).toBe(-1);
    }
  });
});
