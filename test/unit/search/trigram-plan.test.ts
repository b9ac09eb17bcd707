import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPlan, planAdmits, planLiteral, planRegex, trigramKeyOf } from '../../../src/search/index.ts';

/** The trigram keys of a text, as the index computes them. */
function admitsText(pattern: string, flags: string, text: string): boolean {
  const keys = new Set<number>();
  for (let i = 0; i + 3 <= text.length; i++) keys.add(trigramKeyOf(text.slice(i, i + 3)));
  return planAdmits(planRegex(pattern, flags), (t) => keys.has(trigramKeyOf(t)));
}

const ALPHABET = ['a', 'b', 'c', 'A', 'B', 'k', 'K', 'é', 'É', '\u212a', 'x', ' ', '\n', '.'];
const char = fc.constantFrom(...ALPHABET);

/** Random regex source over a small alphabet, using most of the syntax the planner models. */
const regexArb: fc.Arbitrary<string> = fc.letrec<{ re: string }>((tie) => ({
  re: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    char.map((c) => (c === '.' ? '\\.' : c === '\n' ? '\\n' : c)),
    fc.stringMatching(/^[abcAk]{1,5}$/),
    fc.constantFrom('.', '[ab]', '[a-c]', '[^a]', '\\w', '\\d', '\\s', '\\b', '^', '$', '(?=a)', '(?!b)', '[kK]', '[é]', '\\x41', '\\u00e9'),
    fc.tuple(tie('re'), tie('re')).map(([a, b]) => `${a}${b}`),
    fc.tuple(tie('re'), tie('re')).map(([a, b]) => `(?:${a}|${b})`),
    fc.tuple(tie('re'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '{0,2}', '{3,}', '*?')).map(([a, q]) => `(?:${a})${q}`),
    tie('re').map((a) => `(${a})`),
  ),
})).re;

describe('trigram plans', () => {
  it('never exclude a text the regex matches (soundness), with and without i/u flags', () => {
    // Short texts: random nested quantifiers can backtrack exponentially in the text length.
    const text = fc.array(char, { maxLength: 14 }).map((cs) => cs.join(''));
    fc.assert(fc.property(regexArb, text, fc.constantFrom('', 'i', 'u', 'iu', 'is'), (pattern, t, flags) => {
      let re: RegExp;
      try {
        re = new RegExp(pattern, flags);
      } catch {
        return;
      }
      if (re.test(t)) expect(admitsText(pattern, flags, t)).toBe(true);
    }), { numRuns: 4000 });
  });

  it('never excludes texts generated from the regex itself', () => {
    const cases = regexArb.chain((pattern) => {
      let gen: fc.Arbitrary<string> = fc.constant('');
      // fast-check builds negated classes slowly (whole-Unicode complements): skip those here.
      if (!pattern.includes('[^')) {
        try {
          gen = fc.stringMatching(new RegExp(`^(?:${pattern})$`));
        } catch {
          // syntax fast-check does not generate from (lookarounds): the other property covers it
        }
      }
      return fc.tuple(fc.constant(pattern), fc.string({ maxLength: 3 }), gen, fc.string({ maxLength: 3 }));
    });
    fc.assert(fc.property(cases, fc.constantFrom('', 'i', 's'), ([pattern, pre, body, post], flags) => {
      const t = pre + (flags === 'i' ? body.toUpperCase() : body) + post;
      if (t.length > 16) return; // see above: keep backtracking bounded
      if (new RegExp(pattern, flags).test(t)) expect(admitsText(pattern, flags, t)).toBe(true);
    }), { numRuns: 2000 });
  });

  it('is sound for literals embedded in longer texts', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 12 }), fc.string(), fc.string(), fc.boolean(), (lit, pre, post, ci) => {
      const text = pre + (ci ? lit.toUpperCase() : lit) + post;
      const plan = planLiteral(lit, ci);
      const keys = new Set<number>();
      for (let i = 0; i + 3 <= text.length; i++) keys.add(trigramKeyOf(text.slice(i, i + 3)));
      if (new RegExp(lit.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'), ci ? 'i' : '').test(text)) {
        expect(planAdmits(plan, (t) => keys.has(trigramKeyOf(t)))).toBe(true);
      }
    }), { numRuns: 2000 });
  });

  it('turns literals into required trigrams, alternation into OR, and wildcards into breaks', () => {
    expect(formatPlan(planRegex('hello'))).toBe('"hel" "ell" "llo"');
    expect(formatPlan(planRegex('Hello', 'i'))).toBe('"hel" "ell" "llo"');
    expect(formatPlan(planRegex('abc|def'))).toBe('"abc" | "def"');
    expect(formatPlan(planRegex('foo.bar'))).toBe('"foo" "bar"');
    expect(formatPlan(planRegex('a.*b'))).toBe('ALL');
    expect(formatPlan(planRegex('x*'))).toBe('ALL');
    expect(formatPlan(planRegex('(\\w+)\\s*=\\s*\\1'))).toBe('ALL');
    expect(formatPlan(planRegex('[^x]'))).toBe('ALL');
    expect(formatPlan(planRegex('ab[cd]e'))).toBe('("abc" "bce") | ("abd" "bde")');
    expect(formatPlan(planRegex('new (Map|Set)\\('))).toContain('"new"');
    expect(formatPlan(planRegex('[]abc'))).toBe('NONE');
  });

  it('does not trust case-folded non-ASCII, Kelvin or long s under the i and u flags', () => {
    expect(admitsText('kelvin', 'iu', '\u212aelvin')).toBe(true);
    expect(admitsText('éclair', 'i', 'ÉCLAIR')).toBe(true);
    expect(admitsText('éclair', '', 'éclair')).toBe(true);
    expect(formatPlan(planRegex('éclair', ''))).not.toBe('ALL');
  });

  it('falls back to ALL for syntax it does not model', () => {
    expect(formatPlan(planRegex('[\\p{L}--[a-z]]abc', 'v'))).toContain('"abc"');
    expect(formatPlan(planRegex('(?<name>abc)\\k<name>'))).toBe('"abc"');
  });
});
