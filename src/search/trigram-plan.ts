import { parseRegex, type RegexNode } from './regex-parser.ts';
import { foldCodeUnit } from './trigram.ts';

/**
 * Turns a regular expression into a boolean query over trigrams that every matching
 * document must satisfy, after Russ Cox's codesearch ("Regular Expression Matching with a
 * Trigram Index", 2012). Each sub-expression gets an {@link Info}: whether it can match
 * the empty string, its exact set of matches when small, otherwise sets of possible
 * prefixes and suffixes, and a trigram query already implied. Literals give required
 * trigrams, alternation gives OR, classes and wildcards break runs, and when nothing is
 * usable the plan is `all` (scan every document).
 *
 * Trigrams are case-folded (ASCII only) because the index is; under the `i` flag non-ASCII
 * literals become wildcards, and under `iu`/`iv` so do `k` and `s` (which fold to the
 * Kelvin sign and long s).
 */
export type TrigramPlan =
  | { readonly op: 'all' }
  | { readonly op: 'none' }
  | { readonly op: 'and' | 'or'; readonly trigrams: readonly string[]; readonly subs: readonly TrigramPlan[] };

/** The plan that admits every document. */
export const PLAN_ALL: TrigramPlan = { op: 'all' };
/** The plan that admits none. */
export const PLAN_NONE: TrigramPlan = { op: 'none' };

const MAX_EXACT = 7;
const MAX_SET = 20;
const MAX_EXACT_LENGTH = 8;

interface Info {
  readonly canEmpty: boolean;
  /** Every string the expression matches (folded), or null when unknown or too many. */
  readonly exact: ReadonlySet<string> | null;
  /** When `exact` is null: every match starts with one of these. */
  readonly prefix: ReadonlySet<string>;
  /** When `exact` is null: every match ends with one of these. */
  readonly suffix: ReadonlySet<string>;
  readonly match: TrigramPlan;
}

// ---- plan algebra ---------------------------------------------------------------------

function atom(trigram: string): TrigramPlan {
  return { op: 'and', trigrams: [trigram], subs: [] };
}

function isAtom(p: TrigramPlan): p is { op: 'and'; trigrams: readonly string[]; subs: readonly TrigramPlan[] } {
  return p.op === 'and' && p.trigrams.length === 1 && p.subs.length === 0;
}

/** `a AND b`, flattened and with ALL/NONE folded. */
export function planAnd(a: TrigramPlan, b: TrigramPlan): TrigramPlan {
  if (a.op === 'none' || b.op === 'none') return PLAN_NONE;
  if (a.op === 'all') return b;
  if (b.op === 'all') return a;
  const trigrams = new Set<string>();
  const subs: TrigramPlan[] = [];
  for (const p of [a, b]) {
    if (p.op === 'and') {
      for (const t of p.trigrams) trigrams.add(t);
      subs.push(...p.subs);
    } else subs.push(p);
  }
  return { op: 'and', trigrams: [...trigrams], subs };
}

/** `a OR b`, flattened and with ALL/NONE folded. */
export function planOr(a: TrigramPlan, b: TrigramPlan): TrigramPlan {
  if (a.op === 'all' || b.op === 'all') return PLAN_ALL;
  if (a.op === 'none') return b;
  if (b.op === 'none') return a;
  const trigrams = new Set<string>();
  const subs: TrigramPlan[] = [];
  for (const p of [a, b]) {
    if (p.op === 'or') {
      for (const t of p.trigrams) trigrams.add(t);
      subs.push(...p.subs);
    } else if (isAtom(p)) trigrams.add(p.trigrams[0]!);
    else subs.push(p);
  }
  return { op: 'or', trigrams: [...trigrams], subs };
}

/** OR over the strings of AND over each string's trigrams; a string shorter than 3 admits all. */
function trigramsOfSet(set: ReadonlySet<string>): TrigramPlan {
  let out: TrigramPlan = PLAN_NONE;
  for (const s of set) {
    if (s.length < 3) return PLAN_ALL;
    let and: TrigramPlan = PLAN_ALL;
    for (let i = 0; i + 3 <= s.length; i++) and = planAnd(and, atom(s.slice(i, i + 3)));
    out = planOr(out, and);
  }
  return out;
}

// ---- string sets ----------------------------------------------------------------------

function cross(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const x of a) for (const y of b) out.add(x + y);
  return out;
}

function unite(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  const out = new Set(a);
  for (const y of b) out.add(y);
  return out;
}

function minLength(set: ReadonlySet<string>): number {
  let m = Infinity;
  for (const s of set) m = Math.min(m, s.length);
  return m;
}

const reverse = (s: string) => [...s].reverse().join('');

/** Drops strings made redundant by a shorter prefix (or suffix) in the same set. */
function clean(set: ReadonlySet<string>, isSuffix: boolean): Set<string> {
  const list = [...set];
  if (isSuffix) list.sort((x, y) => (reverse(x) < reverse(y) ? -1 : reverse(x) > reverse(y) ? 1 : 0));
  else list.sort();
  const out = new Set<string>();
  let last: string | null = null;
  for (const s of list) {
    if (last !== null && (isSuffix ? s.endsWith(last) : s.startsWith(last))) continue;
    out.add(s);
    last = s;
  }
  return out;
}

// ---- infos ----------------------------------------------------------------------------

const NO_STRINGS: ReadonlySet<string> = new Set();
const ONLY_EMPTY: ReadonlySet<string> = new Set(['']);

function emptyString(): Info {
  return { canEmpty: true, exact: ONLY_EMPTY, prefix: NO_STRINGS, suffix: NO_STRINGS, match: PLAN_ALL };
}

function anyChar(): Info {
  return { canEmpty: false, exact: null, prefix: ONLY_EMPTY, suffix: ONLY_EMPTY, match: PLAN_ALL };
}

function anyMatch(): Info {
  return { canEmpty: true, exact: null, prefix: ONLY_EMPTY, suffix: ONLY_EMPTY, match: PLAN_ALL };
}

function noMatch(): Info {
  return { canEmpty: false, exact: NO_STRINGS, prefix: NO_STRINGS, suffix: NO_STRINGS, match: PLAN_NONE };
}

function exactly(strings: ReadonlySet<string>): Info {
  return { canEmpty: strings.has(''), exact: strings, prefix: NO_STRINGS, suffix: NO_STRINGS, match: PLAN_ALL };
}

function withExactInMatch(info: Info): TrigramPlan {
  return info.exact === null ? info.match : planAnd(info.match, trigramsOfSet(info.exact));
}

function simplifySet(set: ReadonlySet<string>, isSuffix: boolean, match: TrigramPlan): { set: Set<string>; match: TrigramPlan } {
  let t = clean(set, isSuffix);
  match = planAnd(match, trigramsOfSet(t));
  for (let n = 3; n === 3 || t.size > MAX_SET; n--) {
    const next = new Set<string>();
    for (let s of t) {
      if (s.length >= n) s = isSuffix ? s.slice(s.length - n + 1) : s.slice(0, n - 1);
      next.add(s);
    }
    t = clean(next, isSuffix);
  }
  return { set: t, match };
}

function simplify(info: Info, force: boolean): Info {
  let { exact, match } = info;
  let prefix = new Set(info.prefix);
  let suffix = new Set(info.suffix);
  if (exact !== null) {
    const min = minLength(exact);
    if (exact.size > MAX_EXACT || (force && min >= 3) || (exact.size > 0 && min >= MAX_EXACT_LENGTH)) {
      match = withExactInMatch(info);
      for (const s of exact) {
        if (s.length < 3) {
          prefix.add(s);
          suffix.add(s);
        } else {
          prefix.add(s.slice(0, 2));
          suffix.add(s.slice(-2));
        }
      }
      exact = null;
    }
  }
  if (exact === null) {
    const p = simplifySet(prefix, false, match);
    const s = simplifySet(suffix, true, p.match);
    prefix = p.set;
    suffix = s.set;
    match = s.match;
  }
  return { canEmpty: info.canEmpty, exact, prefix, suffix, match };
}

function concat(x: Info, y: Info): Info {
  let match = planAnd(x.match, y.match);
  let exact: Set<string> | null = null;
  let prefix: Set<string> = new Set();
  let suffix: Set<string> = new Set();
  if (x.exact !== null && y.exact !== null) {
    exact = cross(x.exact, y.exact);
  } else {
    if (x.exact !== null) prefix = cross(x.exact, y.prefix);
    else prefix = x.canEmpty ? unite(x.prefix, y.prefix) : new Set(x.prefix);
    if (y.exact !== null) suffix = cross(x.suffix, y.exact);
    else suffix = y.canEmpty ? unite(y.suffix, x.suffix) : new Set(y.suffix);
  }
  // A trigram may straddle the boundary: x's suffix followed by y's prefix.
  if (x.exact === null && y.exact === null && x.suffix.size <= MAX_SET && y.prefix.size <= MAX_SET &&
      minLength(x.suffix) + minLength(y.prefix) >= 3) {
    match = planAnd(match, trigramsOfSet(cross(x.suffix, y.prefix)));
  }
  return simplify({ canEmpty: x.canEmpty && y.canEmpty, exact, prefix, suffix, match }, false);
}

function alternate(x: Info, y: Info): Info {
  let exact: Set<string> | null = null;
  let prefix: Set<string> = new Set();
  let suffix: Set<string> = new Set();
  let xMatch = x.match;
  let yMatch = y.match;
  if (x.exact !== null && y.exact !== null) {
    exact = unite(x.exact, y.exact);
  } else if (x.exact !== null) {
    prefix = unite(x.exact, y.prefix);
    suffix = unite(x.exact, y.suffix);
    xMatch = withExactInMatch(x);
  } else if (y.exact !== null) {
    prefix = unite(x.prefix, y.exact);
    suffix = unite(x.suffix, y.exact);
    yMatch = withExactInMatch(y);
  } else {
    prefix = unite(x.prefix, y.prefix);
    suffix = unite(x.suffix, y.suffix);
  }
  return simplify({ canEmpty: x.canEmpty || y.canEmpty, exact, prefix, suffix, match: planOr(xMatch, yMatch) }, false);
}

function plus(x: Info): Info {
  if (x.exact === null) return x;
  return simplify({ canEmpty: x.canEmpty, exact: null, prefix: x.exact, suffix: x.exact, match: x.match }, false);
}

interface FoldMode {
  readonly ignoreCase: boolean;
  readonly unicode: boolean;
}

/** The folded code unit a literal contributes, or -1 when it must be treated as a wildcard. */
function foldLiteral(c: number, mode: FoldMode): number {
  const f = foldCodeUnit(c);
  if (c >= 128) return mode.ignoreCase ? -1 : c;
  if (mode.ignoreCase && mode.unicode && (f === 107 || f === 115)) return -1; // k → U+212A, s → U+017F
  return f;
}

function analyze(node: RegexNode, mode: FoldMode): Info {
  switch (node.t) {
    case 'empty':
      return emptyString();
    case 'any':
      return anyChar();
    case 'anystr':
      return anyMatch();
    case 'none':
      return noMatch();
    case 'lit': {
      let info = emptyString();
      for (let i = 0; i < node.s.length; i++) {
        const f = foldLiteral(node.s.charCodeAt(i), mode);
        info = concat(info, f < 0 ? anyChar() : exactly(new Set([String.fromCharCode(f)])));
      }
      return info;
    }
    case 'set': {
      const strings = new Set<string>();
      for (const c of node.chars) {
        const f = foldLiteral(c, mode);
        if (f < 0) return anyChar();
        strings.add(String.fromCharCode(f));
      }
      return simplify(exactly(strings), false);
    }
    case 'cat': {
      let info = emptyString();
      for (const item of node.items) info = concat(info, analyze(item, mode));
      return info;
    }
    case 'alt': {
      let info = analyze(node.items[0]!, mode);
      for (let i = 1; i < node.items.length; i++) info = alternate(info, analyze(node.items[i]!, mode));
      return info;
    }
    case 'rep': {
      const { min, max } = node;
      if (max === 0) return emptyString();
      if (min === 0) return max === 1 ? alternate(analyze(node.item, mode), emptyString()) : anyMatch();
      if (min === max && min <= 3) {
        let info = analyze(node.item, mode);
        for (let i = 1; i < min; i++) info = concat(info, analyze(node.item, mode));
        return info;
      }
      // x{n,m} ⊆ x{k-1} x+ with k = min(n, 3)
      let info = plus(analyze(node.item, mode));
      for (let i = 1; i < Math.min(min, 3); i++) info = concat(analyze(node.item, mode), info);
      return info;
    }
  }
}

/**
 * The trigram plan of a regular expression. `flags` are the RegExp flags (only `i`, `u`
 * and `v` matter). A pattern the planner cannot model gives `all`.
 *
 * @example
 * ```ts
 * formatPlan(planRegex('foo(bar|baz)', '')) // "foo" AND "oob" AND ("oba" AND "bar" OR "oba" AND "baz")…
 * ```
 */
export function planRegex(pattern: string, flags = ''): TrigramPlan {
  const node = parseRegex(pattern, flags);
  if (node === null) return PLAN_ALL;
  const mode: FoldMode = { ignoreCase: flags.includes('i'), unicode: flags.includes('u') || flags.includes('v') };
  const info = simplify(analyze(node, mode), true);
  return withExactInMatch(info);
}

/** The plan of a literal substring (case-insensitive when `ignoreCase`). */
export function planLiteral(text: string, ignoreCase: boolean): TrigramPlan {
  return withExactInMatch(simplify(analyze({ t: 'lit', s: text }, { ignoreCase, unicode: false }), true));
}

/** Renders a plan, e.g. `("foo" "oob") | "bar"`, for logs and results. */
export function formatPlan(plan: TrigramPlan): string {
  switch (plan.op) {
    case 'all':
      return 'ALL';
    case 'none':
      return 'NONE';
    default: {
      const parts = [...plan.trigrams.map((t) => JSON.stringify(t)), ...plan.subs.map((s) => `(${formatPlan(s)})`)];
      return parts.join(plan.op === 'and' ? ' ' : ' | ');
    }
  }
}

/** Whether a document whose trigram set is `has` passes the plan (tests and small scans). */
export function planAdmits(plan: TrigramPlan, has: (trigram: string) => boolean): boolean {
  switch (plan.op) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'and':
      return plan.trigrams.every(has) && plan.subs.every((s) => planAdmits(s, has));
    case 'or':
      return plan.trigrams.some(has) || plan.subs.some((s) => planAdmits(s, has));
  }
}

/**
 * The longest literal every match of a case-sensitive pattern must contain (from the top
 * level of the expression), or null. Verification skips documents without it using
 * `indexOf`, which is much cheaper than running a regex that starts with a class.
 * @internal
 */
export function requiredLiteral(pattern: string, flags: string): string | null {
  if (flags.includes('i')) return null;
  const node = parseRegex(pattern, flags);
  if (node === null) return null;
  const items = node.t === 'cat' ? node.items : [node];
  let best = '';
  let run = '';
  for (const item of items) {
    if (item.t === 'lit') run += item.s;
    else if (item.t !== 'empty') run = '';
    if (run.length > best.length) best = run;
  }
  return best.length >= 2 ? best : null;
}
