import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileGlob, countTokens, findMerges, formatQuery, parseQuery, tokenize, TokenCountCache,
} from '../../../src/search/index.ts';
import { ByteLru } from '../../../src/cache/index.ts';
import { QueryCache } from '../../../src/search/query-cache.ts';
import { CHECKPOINT_EVERY, CHECKPOINT_SHIFT, charClass, textCheckpoints } from '../../../src/search/tokenizer.ts';

const terms = (text: string) => tokenize(text).map((t) => t.term);

describe('tokenizer', () => {
  it('splits camelCase, PascalCase, acronyms, snake_case, kebab-case and digits, keeping the whole', () => {
    expect(terms('getElementById')).toEqual(['getelementbyid', 'get', 'element', 'by', 'id']);
    expect(terms('HTMLParser')).toEqual(['htmlparser', 'html', 'parser']);
    expect(terms('XMLHttpRequest2')).toEqual(['xmlhttprequest2', 'xml', 'http', 'request', '2']);
    expect(terms('MAX_SAFE_INTEGER')).toEqual(['max_safe_integer', 'max', 'safe', 'integer']);
    expect(terms('font-size')).toEqual(['font-size', 'font', 'size']);
    expect(terms('utf8Decode')).toEqual(['utf8decode', 'utf', '8', 'decode']);
    expect(terms('i-1 a--b x->y')).toEqual(['i', '1', 'a', 'b', 'x', 'y']);
    expect(terms('foo')).toEqual(['foo']);
    expect(terms('__proto__ $')).toEqual(['__proto__', 'proto', '$']);
    expect(terms('Ünïcode naïve')).toEqual(['ünïcode', 'naïve']);
    expect(terms('x'.repeat(65))).toEqual([]);
  });

  it('gives positions, lines and columns for highlighting', () => {
    const tokens = tokenize('let a = 1;\n  fooBar(a)');
    const fooBar = tokens.find((t) => t.term === 'foobar')!;
    expect(fooBar).toMatchObject({ line: 1, column: 2, length: 6, offset: 13, kind: 'word' });
    const bar = tokens.find((t) => t.term === 'bar')!;
    expect(bar).toMatchObject({ line: 1, column: 5, length: 3, kind: 'part', position: fooBar.position + 1 });
    expect(tokens.map((t) => t.position)).toEqual([0, 1, 2, 3, 3, 4, 5]);
    expect(countTokens('let a = 1;\n  fooBar(a)')).toBe(tokens.length);
  });

  it('places a position checkpoint every 64 positions at the start of the identifier holding it', () => {
    const word = fc.oneof(
      fc.constantFrom('a', 'fooBar', 'HTMLParser', 'x1', 'get_item', 'font-size', '_', '$$', 'Ünï', 'i-1', 'a--b', 'x'.repeat(70)),
      fc.integer({ min: 1, max: 80 }).map((n) => 'aB'.repeat(n)), // one identifier holding many positions
    );
    const text = fc.array(fc.tuple(word, fc.constantFrom(' ', '.', '\n', '(', '-', '')), { maxLength: 120 })
      .map((parts) => parts.map(([w, sep]) => w + sep).join(''));
    fc.assert(fc.property(text, (t) => {
      const cps = [...textCheckpoints(t)];
      for (let b = 1; b < cps.length; b++) expect(cps[b]).toBeGreaterThanOrEqual(cps[b - 1]!);
      // Every token at a position of block b starts at or after checkpoint b and no later than
      // the end of the identifier run that starts at checkpoint b + 1.
      const runEnd = (at: number) => {
        let e = at;
        while (e < t.length && charClass(t.charCodeAt(e)) !== 0) e++;
        return e;
      };
      for (const token of tokenize(t)) {
        const b = token.position >> CHECKPOINT_SHIFT;
        expect(b).toBeLessThan(cps.length);
        expect(token.offset).toBeGreaterThanOrEqual(cps[b]!);
        if (b + 1 < cps.length) expect(token.offset + token.length).toBeLessThanOrEqual(runEnd(cps[b + 1]!));
      }
      // The checkpoint is where a token of that exact position starts, when one was emitted.
      cps.forEach((offset, b) => {
        const at = tokenize(t).filter((token) => token.position === b * CHECKPOINT_EVERY);
        if (at.length > 0) expect(Math.min(...at.map((token) => token.offset))).toBeGreaterThanOrEqual(offset);
      });
    }), { numRuns: 300 });
    expect(textCheckpoints('a '.repeat(64 * 3 + 1)).length).toBe(4);
    expect([...textCheckpoints('x')]).toEqual([0]);
    expect(textCheckpoints('  ').length).toBe(0);
  });

  it('caches token counts by content hash', () => {
    const cache = new TokenCountCache({ maxEntries: 2 });
    expect(cache.count('a b c')).toBe(3);
    expect(cache.count('a b c')).toBe(3);
    expect(cache.hits).toBe(1);
    cache.count('x');
    cache.count('y');
    expect(cache.size).toBe(2);
    cache.count('a b c');
    expect(cache.misses).toBe(4);
  });
});

describe('query parser', () => {
  it('parses the query language into a normalized tree', () => {
    const cases: [string, string][] = [
      ['parse tree', '(parse AND tree)'],
      ['a b OR c', '(a AND (b OR c))'],
      ['a AND b', '(a AND b)'],
      ['-test NOT spec x', '(-test AND -spec AND x)'],
      ['"new Map(" foo.bar', '("new map" AND "foo bar")'],
      ['getEl*', 'getel*'],
      ['foo.ba*', '(foo AND ba*)'],
      ['HTMLParser', 'htmlparser'],
      ['(a OR b) -(c d)', '((a OR b) AND -(c AND d))'],
      ['"unterminated phrase', '"unterminated phrase"'],
      ['++ x', 'x'],
      ['++', '∅'],
      ['   ', '*'],
      ['*', '*'],
      ['OR', 'or'],
      ['NOT NOT x', 'x'],
    ];
    for (const [q, want] of cases) expect(formatQuery(parseQuery(q))).toBe(want);
  });

  it('refuses an over-long query', () => {
    expect(() => parseQuery('x'.repeat(5000))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('glob', () => {
  it('matches paths', () => {
    const m = (g: string, p: string) => compileGlob(g)(p);
    expect(m('src/**/*.ts', 'src/a/b/c.ts')).toBe(true);
    expect(m('src/**/*.ts', 'src/c.ts')).toBe(true);
    expect(m('src/*.ts', 'src/a/c.ts')).toBe(false);
    expect(m('*.d.ts', 'lib/es5.d.ts')).toBe(true);
    expect(m('{a,b}/?.js', 'b/x.js')).toBe(true);
    expect(m('[!x]*.js', 'y.js')).toBe(true);
    expect(m('[!x]*.js', 'x.js')).toBe(false);
    expect(() => compileGlob('{a')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('merge policy', () => {
  const seg = (liveTokens: number, liveDocs = 1, docs = liveDocs) => ({ liveTokens, liveDocs, docs });
  it('merges runs of same-tier neighbors, drops empty segments and purges heavy deletions', () => {
    const opts = { mergeFactor: 3, floorTokens: 100 };
    expect(findMerges([seg(100), seg(100), seg(100), seg(100)], opts)).toEqual([[0, 1, 2]]);
    expect(findMerges([seg(1000), seg(100), seg(100)], opts)).toEqual([]);
    expect(findMerges([seg(100), seg(900), seg(100), seg(100)], opts)).toEqual([]);
    expect(findMerges([seg(0, 0, 5), seg(100)], opts)).toEqual([[0]]);
    expect(findMerges([seg(100, 5, 10)], opts)).toEqual([[0]]);
    expect(findMerges([seg(100), seg(100), seg(100)], { ...opts, maxSegmentTokens: 250 })).toEqual([]);
  });
});

describe('caches', () => {
  it('LRU evicts least recently used entries past its byte budget, never pinned ones', () => {
    const lru = new ByteLru<string, number>(100, { autoEvict: true });
    lru.set('a', 1, 40);
    lru.set('b', 2, 40, true);
    lru.get('a');
    lru.set('c', 3, 40);
    expect(lru.keys()).toEqual(['b', 'c']);
    expect(lru.bytes).toBe(80);
    lru.set('d', 4, 90);
    expect(lru.keys()).toEqual(['b', 'd']);
    lru.unpin('b');
    expect(lru.keys()).toEqual(['d']);
    expect(lru.evictions).toBe(3);
  });

  it('query cache entries expire after their TTL', () => {
    let now = 0;
    const cache = new QueryCache<string>({ ttlMs: 10, now: () => now });
    cache.set('k', 'v');
    now = 9;
    expect(cache.get('k')).toBe('v');
    now = 10;
    expect(cache.get('k')).toBeUndefined();
  });
});
