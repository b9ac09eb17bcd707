import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortTermIds } from '../../../src/search/segment-builder.ts';
import { TermTable } from '../../../src/search/term-table.ts';

/**
 * The term table against its oracle, a plain sorted string array searched the way segment
 * bodies searched it before (`<` to binary search, `startsWith` for prefixes).
 */

/** Units around the one-byte/three-byte boundary, the Latin-1 and BMP ends, and surrogates (paired and lone). */
const EDGE_UNITS = ['a', 'b', 'z', '_', '0', '\u0000', '\u007f', '\u00e9', '\u00f7', '\u00f8', '\u00f9', '\u00ff', '\u0100', '\u03bb', '\u6f22', '\ud83d', '\ude00', '\ud835', '\udcb3', '\uffff'];
const term = fc.oneof(
  fc.string({ unit: fc.constantFrom(...EDGE_UNITS), maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 10 }),
);
const sortedTerms = fc.uniqueArray(term, { maxLength: 60 }).map((terms) => terms.sort());

function oracleFind(terms: readonly string[], t: string): number {
  return terms.indexOf(t);
}

function oraclePrefixRange(terms: readonly string[], prefix: string): [number, number] {
  let lo = 0;
  while (lo < terms.length && terms[lo]! < prefix) lo++;
  let end = lo;
  while (end < terms.length && terms[end]!.startsWith(prefix)) end++;
  return [lo, end];
}

/** Probes: the terms themselves, their prefixes and extensions, and unrelated strings. */
function probes(terms: readonly string[], extra: readonly string[]): string[] {
  const out = [...extra, ''];
  for (const t of terms) out.push(t, t.slice(0, -1), t.slice(0, 1), `${t}a`, `${t}\u00f8`, `${t}\ud83d`);
  return out;
}

describe('TermTable', () => {
  it('holds the terms in order', () => {
    fc.assert(fc.property(sortedTerms, (terms) => {
      const table = new TermTable(terms);
      expect(table.size).toBe(terms.length);
      expect(table.toArray()).toEqual(terms);
      for (let i = 0; i < terms.length; i++) expect(table.termAt(i)).toBe(terms[i]);
    }), { numRuns: 300 });
  });

  it('finds terms exactly like a search of the sorted array', () => {
    fc.assert(fc.property(sortedTerms, fc.array(term, { maxLength: 10 }), (terms, extra) => {
      const table = new TermTable(terms);
      for (const q of probes(terms, extra)) expect(table.findTerm(q)).toBe(oracleFind(terms, q));
    }), { numRuns: 300 });
  });

  it('gives the range of terms starting with a prefix exactly like a scan of the sorted array', () => {
    fc.assert(fc.property(sortedTerms, fc.array(term, { maxLength: 10 }), (terms, extra) => {
      const table = new TermTable(terms);
      for (const p of probes(terms, extra)) expect(table.prefixRange(p)).toEqual(oraclePrefixRange(terms, p));
    }), { numRuns: 300 });
  });

  it('handles the empty table and the empty term', () => {
    const empty = new TermTable([]);
    expect(empty.size).toBe(0);
    expect(empty.toArray()).toEqual([]);
    expect(empty.findTerm('')).toBe(-1);
    expect(empty.findTerm('a')).toBe(-1);
    expect(empty.prefixRange('')).toEqual([0, 0]);
    expect(empty.prefixRange('a')).toEqual([0, 0]);
    const withEmpty = new TermTable(['', 'a', 'ab']);
    expect(withEmpty.findTerm('')).toBe(0);
    expect(withEmpty.termAt(0)).toBe('');
    expect(withEmpty.prefixRange('')).toEqual([0, 3]);
    expect(withEmpty.prefixRange('a')).toEqual([1, 3]);
  });

  it('sorts non-ASCII terms, surrogate pairs included, by UTF-16 code units', () => {
    // U+1F600 (😀, surrogates D83D DE00) sorts before U+FF21 (Ａ) by code units, after it by code points.
    const terms = ['naïve', 'naïvety', 'über', 'λόγος', '漢字', '😀', '\uff21'].sort();
    expect(terms.indexOf('😀')).toBeLessThan(terms.indexOf('\uff21'));
    const table = new TermTable(terms);
    expect(table.toArray()).toEqual(terms);
    expect(table.findTerm('über')).toBe(terms.indexOf('über'));
    expect(table.findTerm('\ud83d')).toBe(-1);
    expect(table.prefixRange('\ud83d')).toEqual([terms.indexOf('😀'), terms.indexOf('😀') + 1]);
    expect(table.prefixRange('naï')).toEqual([terms.indexOf('naïve'), terms.indexOf('naïvety') + 1]);
  });

  it('stores code units below U+00F8 in one byte and the rest in three', () => {
    const table = new TermTable(['abc', 'café', 'ø', '漢字']);
    expect(table.bytes.length).toBe(3 + 4 + 3 + 6);
    expect(table.byteLength).toBe(16 + 5 * 4);
  });

  it('returns terms longer than one String.fromCharCode call takes', () => {
    const long = 'ab\u00f8\ud83d\ude00漢'.repeat(3000);
    const table = new TermTable(['a', long, 'z']);
    expect(table.termAt(1)).toBe(long);
    expect(table.findTerm(long)).toBe(1);
  });
});

describe('sortTermIds', () => {
  it('orders term ids as sorting the terms themselves does', () => {
    // Many terms sharing two leading units, so that buckets above the insertion-sort size occur.
    const many = fc.uniqueArray(fc.oneof(term, fc.string({ unit: fc.constantFrom('g', 'e', 't', 'x'), maxLength: 5 })).filter((t) => t.length > 0), { maxLength: 200 });
    fc.assert(fc.property(many, fc.integer({ min: 0, max: 1000 }), (terms, seed) => {
      // Any subset of the ids, in any order.
      const ids = Int32Array.from(terms.keys()).filter((i) => (i * 7919 + seed) % 5 !== 0).reverse();
      const want = Array.from(ids, (i) => terms[i]!).sort();
      expect(Array.from(sortTermIds(terms, ids), (i) => terms[i]!)).toEqual(want);
    }), { numRuns: 500 });
  });
});
