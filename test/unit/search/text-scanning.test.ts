import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntVector } from '../../../src/search/int-vector.ts';
import { CheckpointLocator, checkpointLines, LineIndex } from '../../../src/search/line-index.ts';
import { LiteralFinder } from '../../../src/search/literal-finder.ts';
import { TermInterner } from '../../../src/search/term-interner.ts';
import { charClass, scanTokens } from '../../../src/search/tokenizer.ts';

/** Texts over a small alphabet, so that lines, literals and identifier edges are frequent. */
const textOf = (units: string[], maxLength = 200) => fc.string({ unit: fc.constantFrom(...units), maxLength });

/** Line and column the slow way: count the newlines before the offset. */
function naiveLocate(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length - 1, column: offset - (before.lastIndexOf('\n') + 1) };
}

describe('LineIndex', () => {
  it('locates any offsets, in any order and asked again, like counting newlines', () => {
    const text = textOf(['a', 'b', ' ', '\n', '\r', 'é', '😀'], 300);
    const arb = text.chain((t) => fc.tuple(fc.constant(t), fc.array(fc.integer({ min: 0, max: t.length }), { maxLength: 40 })));
    fc.assert(fc.property(arb, ([t, offsets]) => {
      const lines = new LineIndex(t);
      for (const o of [...offsets, ...offsets.slice().reverse()]) expect(lines.locate(o)).toEqual(naiveLocate(t, o));
    }), { numRuns: 500 });
  });

  it('counts only \\n as a line end and puts a newline on the line it ends', () => {
    const lines = new LineIndex('ab\r\ncd\n\nx');
    expect(lines.locate(2)).toEqual({ line: 0, column: 2 }); // '\r'
    expect(lines.locate(3)).toEqual({ line: 0, column: 3 }); // '\n'
    expect(lines.locate(4)).toEqual({ line: 1, column: 0 });
    expect(lines.locate(7)).toEqual({ line: 2, column: 0 });
    expect(lines.locate(9)).toEqual({ line: 3, column: 1 }); // the end of the text
    expect(lines.locate(0)).toEqual({ line: 0, column: 0 });
  });
});

describe('CheckpointLocator', () => {
  /** A text, offsets to locate, and sorted offsets to serve as checkpoints (any will do). */
  const arb = textOf(['a', 'b', ' ', '\n', '\r', 'é', '😀'], 400).chain((t) => fc.tuple(
    fc.constant(t),
    fc.array(fc.integer({ min: 0, max: t.length }), { maxLength: 40 }),
    fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, t.length - 1) }), { maxLength: 30 }).map((xs) => xs.sort((a, b) => a - b)),
  ));

  it('checkpointLines gives each checkpoint its line, document by document', () => {
    fc.assert(fc.property(fc.array(arb, { minLength: 1, maxLength: 4 }), (docs) => {
      const cpStart = new Uint32Array(docs.length + 1);
      docs.forEach(([, , cps], d) => (cpStart[d + 1] = cpStart[d]! + cps.length));
      const checkpoints = Uint32Array.from(docs.flatMap(([, , cps]) => cps));
      const lines = checkpointLines(docs.map(([t]) => t), cpStart, checkpoints);
      docs.forEach(([t, , cps], d) => cps.forEach((o, i) => expect(lines[cpStart[d]! + i]).toBe(naiveLocate(t, o).line)));
    }), { numRuns: 300 });
  });

  it('locates any offsets, ascending, descending and repeated, like counting newlines', () => {
    fc.assert(fc.property(arb, ([t, offsets, cps]) => {
      const cp = Uint32Array.from(cps);
      const locator = new CheckpointLocator(t, cp, checkpointLines([t], Uint32Array.of(0, cp.length), cp));
      const ascending = [...offsets].sort((a, b) => a - b);
      for (const o of [...ascending, ...offsets, ...ascending.reverse()]) expect(locator.locate(o)).toEqual(naiveLocate(t, o));
    }), { numRuns: 1000 });
  });

  it('walks along a long line with checkpoints in it, and past its end', () => {
    const t = `${'word '.repeat(2_000)}\nnext line\n`;
    const cp = Uint32Array.from({ length: 40 }, (_, i) => i * 250);
    const locator = new CheckpointLocator(t, cp, checkpointLines([t], Uint32Array.of(0, cp.length), cp));
    for (let o = 0; o <= t.length; o += 97) expect(locator.locate(o)).toEqual(naiveLocate(t, o));
    expect(locator.locate(t.length - 1)).toEqual({ line: 1, column: 9 });
  });
});

describe('LiteralFinder', () => {
  it('finds exactly what indexOf finds, from any start', () => {
    const units = ['a', 'b', 'x', ' ', '(', '\n', 'É', '\uD83D', '\uDE00'];
    const arb = fc.tuple(textOf(units, 120), textOf(units, 8).filter((s) => s.length > 0), fc.nat(130));
    fc.assert(fc.property(arb, ([t, literal, from]) => {
      const finder = new LiteralFinder(literal);
      const start = Math.min(from, t.length);
      expect(finder.indexIn(t, start)).toBe(t.indexOf(literal, start));
    }), { numRuns: 3000 });
  });

  it('visits every occurrence, overlapping ones included, of literals from real code', () => {
    const text = 'import(a); x.import(b); reimport(c) extends  extends Sync(Sync(Sync(';
    for (const literal of ['import(', ' extends ', 'Sync(Sync(', 'Sync(', 'xt']) {
      const finder = new LiteralFinder(literal);
      const want: number[] = [];
      for (let p = text.indexOf(literal); p !== -1; p = text.indexOf(literal, p + 1)) want.push(p);
      const got: number[] = [];
      for (let p = finder.indexIn(text); p !== -1; p = finder.indexIn(text, p + 1)) got.push(p);
      expect({ literal, got }).toEqual({ literal, got: want });
      expect(want.length).toBeGreaterThan(0);
    }
  });
});

describe('scanTokens over part of a text', () => {
  it('gives the spans and positions of scanning that part alone, with or without term ids', () => {
    const words = ['fooBar', 'HTMLParser', 'x_y', 'font-size', 'a--b', 'i-1', 'utf8', 'Ünï', '$', ' ', '.', '(', '\n', '-'];
    const arb = fc.array(fc.constantFrom(...words), { maxLength: 30 }).map((p) => p.join('')).chain((t) =>
      fc.tuple(fc.constant(t), fc.nat(t.length), fc.nat(t.length)));
    fc.assert(fc.property(arb, ([t, x, y]) => {
      // Move both ends outside identifiers, as callers must.
      let from = Math.min(x, y);
      let to = Math.max(x, y);
      while (from > 0 && charClass(t.charCodeAt(from - 1)) !== 0) from--;
      while (to < t.length && charClass(t.charCodeAt(to)) !== 0) to++;
      const whole = { terms: new IntVector(), positions: new IntVector(), spans: new IntVector() };
      const count = scanTokens(t.slice(from, to), new TermInterner(), whole.terms, whole.positions, whole.spans);
      const part = { positions: new IntVector(), spans: new IntVector() };
      expect(scanTokens(t, null, null, part.positions, part.spans, from, to)).toBe(count);
      expect([...part.positions.toArray()]).toEqual([...whole.positions.toArray()]);
      expect([...part.spans.toArray()]).toEqual([...whole.spans.toArray()].map((v, i) => (i % 3 === 2 ? v : v + from)));
    }), { numRuns: 500 });
  });
});
