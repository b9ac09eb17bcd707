import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKey, defineKeySpace, encodeKey, formatKey, ShelfError, type KeySegment } from '../../src/index.ts';

const segment = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('\u0000', '\u0001', '\u0002', 'a', ':', '\uffff') }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
const tuple = fc.array(segment, { maxLength: 5 });

/** Tuple order: numbers before strings; numbers numerically, strings by code unit; shorter prefix first. */
function compareTuples(a: readonly KeySegment[], b: readonly KeySegment[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a.length - b.length;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const normalize = (t: readonly KeySegment[]) => t.map((x) => (Object.is(x, -0) ? 0 : x));

describe('structured key codec', () => {
  it('round-trips every tuple', () => {
    fc.assert(fc.property(tuple, (t) => {
      expect(decodeKey(encodeKey(t))).toEqual(normalize(t));
    }), { numRuns: 2000 });
  });

  it('string order of keys equals tuple order', () => {
    fc.assert(fc.property(tuple, tuple, (a, b) => {
      expect(Math.sign(cmp(encodeKey(a), encodeKey(b)))).toBe(Math.sign(compareTuples(normalize(a), normalize(b))));
    }), { numRuns: 5000 });
  });

  it('a tuple key is a prefix of a key exactly when the tuple is a prefix', () => {
    fc.assert(fc.property(tuple, tuple, (a, b) => {
      const isTuplePrefix = a.length <= b.length && compareTuples(normalize(a), normalize(b).slice(0, a.length)) === 0;
      expect(encodeKey(b).startsWith(encodeKey(a))).toBe(isTuplePrefix);
    }), { numRuns: 5000 });
  });

  it('orders numbers numerically, including negatives and fractions', () => {
    const numbers = [-1e300, -5, -1.5, -0, 0, 1e-300, 0.5, 1, 2, 10, 99999999, 2 ** 53, 1e300];
    const sorted = [...numbers].map((n) => encodeKey([n])).sort();
    expect(sorted.map((k) => decodeKey(k)[0])).toEqual(numbers.map((n) => (Object.is(n, -0) ? 0 : n)));
  });

  it('refuses non-finite numbers and other types', () => {
    for (const bad of [NaN, Infinity, null, undefined, {}, true]) {
      expect(() => encodeKey([bad as unknown as KeySegment])).toThrow(ShelfError);
    }
    expect(() => decodeKey('xabc')).toThrowError(/not a structured key/);
    expect(() => decodeKey('sabc')).toThrowError(/unterminated/);
  });

  it('formats keys for humans', () => {
    expect(formatKey(encodeKey(['src', 3, 'pending', 'ab12']))).toBe('src:3:pending:ab12');
  });
});

describe('key spaces', () => {
  const nodes = defineKeySpace('node', { queue: 'string', level: 'number', status: 'string', hash: 'string' });

  it('builds, parses and prefixes keys', () => {
    const key = nodes.key({ queue: 'src', level: 3, status: 'pending', hash: 'ab' });
    expect(nodes.parse(key)).toEqual({ queue: 'src', level: 3, status: 'pending', hash: 'ab' });
    expect(key.startsWith(nodes.prefix({ queue: 'src', level: 3, status: 'pending' }))).toBe(true);
    expect(key.startsWith(nodes.prefix({ queue: 'src', level: 3 }))).toBe(true);
    expect(key.startsWith(nodes.prefix({ queue: 'src', level: 30 }))).toBe(false);
    expect(key.startsWith(nodes.prefix())).toBe(true);
  });

  it('refuses a prefix that skips a field, and wrong field types', () => {
    expect(() => nodes.prefix({ queue: 'src', status: 'pending' })).toThrowError(/skips "level"/);
    expect(() => nodes.key({ queue: 'src', level: '3' as unknown as number, status: 'p', hash: 'h' })).toThrowError(/level/);
    expect(() => nodes.parse(encodeKey(['other', 'x']))).toThrowError(ShelfError);
  });
});
