/**
 * A parser for JavaScript regular expression syntax that keeps only what trigram planning
 * needs. It is used after `new RegExp(pattern, flags)` accepted the pattern, and anything it
 * does not model precisely becomes a node that claims less (`any`, `anystr`), never more,
 * so a plan built from it can only admit extra candidates, which verification removes.
 * @internal
 */
export type RegexNode =
  | { readonly t: 'empty' }
  | { readonly t: 'lit'; readonly s: string }
  | { readonly t: 'set'; readonly chars: readonly number[] }
  | { readonly t: 'any' }
  | { readonly t: 'anystr' }
  | { readonly t: 'none' }
  | { readonly t: 'cat'; readonly items: readonly RegexNode[] }
  | { readonly t: 'alt'; readonly items: readonly RegexNode[] }
  | { readonly t: 'rep'; readonly item: RegexNode; readonly min: number; readonly max: number };

/** Largest character class listed code unit by code unit; bigger ones are `any`. */
const MAX_CLASS = 64;

const EMPTY: RegexNode = { t: 'empty' };
const ANY: RegexNode = { t: 'any' };
const ANYSTR: RegexNode = { t: 'anystr' };
const DIGITS = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57];

class RegexSyntax extends Error {}

class RegexParser {
  readonly #p: string;
  readonly #unicode: boolean;
  readonly #vMode: boolean;
  /** Capturing groups in the whole pattern: without `u`, `\\12` is a back-reference only if there are 12. */
  readonly #groups: number;
  #i = 0;
  #depth = 0;
  /** Source spans `[start, end)` of the top-level concatenation's items, in order. */
  readonly spans: [number, number][] = [];

  constructor(pattern: string, unicode: boolean, vMode: boolean) {
    this.#p = pattern;
    this.#unicode = unicode;
    this.#vMode = vMode;
    this.#groups = unicode ? 0 : countGroups(pattern);
  }

  parse(): RegexNode {
    const node = this.#alt();
    if (this.#i !== this.#p.length) throw new RegexSyntax(`unexpected ${this.#p[this.#i]} at ${this.#i}`);
    return node;
  }

  #alt(): RegexNode {
    const items = [this.#cat()];
    while (this.#p[this.#i] === '|') {
      this.#i++;
      items.push(this.#cat());
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  #cat(): RegexNode {
    const items: RegexNode[] = [];
    while (this.#i < this.#p.length && this.#p[this.#i] !== '|' && this.#p[this.#i] !== ')') {
      const start = this.#i;
      items.push(this.#quantified());
      if (this.#depth === 0) this.spans.push([start, this.#i]);
    }
    if (items.length === 0) return EMPTY;
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  #quantified(): RegexNode {
    let node = this.#atom();
    for (;;) {
      const ch = this.#p[this.#i];
      let min: number;
      let max: number;
      if (ch === '*') [min, max] = [0, Infinity];
      else if (ch === '+') [min, max] = [1, Infinity];
      else if (ch === '?') [min, max] = [0, 1];
      else if (ch === '{') {
        const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.#p.slice(this.#i));
        if (m === null) return node; // a literal '{' (Annex B); the atom loop reads it
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        this.#i += m[0].length - 1;
      } else return node;
      this.#i++;
      if (this.#p[this.#i] === '?') this.#i++;
      node = { t: 'rep', item: node, min, max };
    }
  }

  #atom(): RegexNode {
    const p = this.#p;
    const ch = p[this.#i]!;
    this.#i++;
    switch (ch) {
      case '(':
        return this.#group();
      case '[':
        return this.#klass();
      case '.':
        return ANY;
      case '^':
      case '$':
        return EMPTY;
      case '\\':
        return this.#escape(false) as RegexNode;
      default: {
        const c = ch.charCodeAt(0);
        if (this.#unicode && c >= 0xd800 && c <= 0xdbff && this.#i < p.length) {
          const d = p.charCodeAt(this.#i);
          if (d >= 0xdc00 && d <= 0xdfff) {
            this.#i++;
            return { t: 'lit', s: ch + p[this.#i - 1] };
          }
        }
        return { t: 'lit', s: ch };
      }
    }
  }

  #group(): RegexNode {
    const p = this.#p;
    let assertion = false;
    let unknown = false;
    if (p[this.#i] === '?') {
      const rest = p.slice(this.#i + 1, this.#i + 4);
      if (rest.startsWith(':')) this.#i += 2;
      else if (rest.startsWith('=') || rest.startsWith('!')) {
        assertion = true;
        this.#i += 2;
      } else if (rest.startsWith('<=') || rest.startsWith('<!')) {
        assertion = true;
        this.#i += 3;
      } else if (rest.startsWith('<')) {
        const close = p.indexOf('>', this.#i);
        if (close === -1) throw new RegexSyntax('unterminated group name');
        this.#i = close + 1;
      } else {
        // Modifier groups like (?i:...) and anything newer: parse the body, trust nothing.
        unknown = true;
        while (this.#i < p.length && p[this.#i] !== ':' && p[this.#i] !== ')') this.#i++;
        if (p[this.#i] === ':') this.#i++;
      }
    }
    this.#depth++;
    const inner = this.#alt();
    this.#depth--;
    if (p[this.#i] !== ')') throw new RegexSyntax('unterminated group');
    this.#i++;
    if (assertion) return EMPTY;
    return unknown ? ANYSTR : inner;
  }

  /**
   * Reads an escape after `\`, consuming exactly what RegExp would. In a class it returns
   * code points (astral ones only under `u`/`v`), or null for "too broad".
   */
  #escape(inClass: boolean): RegexNode | number[] | null {
    const p = this.#p;
    const ch = p[this.#i++];
    if (ch === undefined) throw new RegexSyntax('trailing backslash');
    const one = (c: number): RegexNode | number[] => (inClass ? [c] : { t: 'lit', s: String.fromCodePoint(c) });
    switch (ch) {
      case 'd':
        return inClass ? DIGITS : { t: 'set', chars: DIGITS };
      case 'D': case 'w': case 'W': case 's': case 'S':
        return inClass ? null : ANY;
      case 'p': case 'P':
        if (this.#unicode && p[this.#i] === '{') {
          const close = p.indexOf('}', this.#i);
          if (close === -1) throw new RegexSyntax('unterminated property escape');
          this.#i = close + 1;
        }
        return inClass ? null : ANY;
      case 'b':
        return inClass ? [8] : EMPTY;
      case 'B':
        return inClass ? null : EMPTY;
      case 'n': return one(10);
      case 'r': return one(13);
      case 't': return one(9);
      case 'f': return one(12);
      case 'v': return one(11);
      case '0':
        // Under u a digit after \0 is a SyntaxError, so RegExp never lets one through.
        return one(this.#unicode ? 0 : this.#legacyOctal(0));
      case 'c': {
        const letter = p[this.#i];
        // Annex B: in a class without u, \c also takes a digit or `_` (`[\c1]` is U+0011).
        if (letter !== undefined && (/[A-Za-z]/.test(letter) || (inClass && !this.#unicode && /[0-9_]/.test(letter)))) {
          this.#i++;
          return one(letter.charCodeAt(0) % 32);
        }
        // Otherwise (Annex B) `\c` is a literal backslash and `c`: a node that claims nothing covers both.
        return inClass ? null : ANYSTR;
      }
      case 'x': {
        const m = /^[0-9A-Fa-f]{2}/.exec(p.slice(this.#i, this.#i + 2));
        if (m === null) return inClass ? null : ANYSTR;
        this.#i += 2;
        return one(parseInt(m[0], 16));
      }
      case 'u': {
        let code: number | null = null;
        const m4 = /^[0-9A-Fa-f]{4}/.exec(p.slice(this.#i, this.#i + 4));
        if (m4 !== null) {
          code = parseInt(m4[0], 16);
          this.#i += 4;
          // Under u/v, `\uD83D\uDE00` is one escape of one code point (U+1F600), so a class
          // or quantifier takes it whole; without u they are two code units, as RegExp reads them.
          const trail = this.#unicode && code >= 0xd800 && code <= 0xdbff ? /^\\u([Dd][C-Fc-f][0-9A-Fa-f]{2})/.exec(p.slice(this.#i, this.#i + 6)) : null;
          if (trail !== null) {
            code = 0x10000 + ((code - 0xd800) << 10) + (parseInt(trail[1]!, 16) - 0xdc00);
            this.#i += 6;
          }
        } else if (this.#unicode && p[this.#i] === '{') {
          const close = p.indexOf('}', this.#i);
          if (close === -1) throw new RegexSyntax('unterminated \\u{');
          code = parseInt(p.slice(this.#i + 1, close), 16);
          this.#i = close + 1;
        }
        if (code === null || !Number.isFinite(code)) return inClass ? null : ANYSTR;
        return one(code);
      }
      case 'k':
        if (p[this.#i] === '<') {
          const close = p.indexOf('>', this.#i);
          if (close !== -1) this.#i = close + 1;
        }
        return inClass ? null : ANYSTR;
      default:
        if (ch >= '1' && ch <= '9') {
          // A decimal escape takes every digit that follows. Under u it is a back-reference
          // (RegExp refused it if the group does not exist, or inside a class); without u
          // (Annex B) it is one only when the pattern has that many groups, else a legacy
          // octal escape of at most three digits (`\12` is U+000A) or, for 8 and 9, the digit.
          let end = this.#i;
          while (/[0-9]/.test(p[end] ?? '')) end++;
          if (!inClass && (this.#unicode || Number(p.slice(this.#i - 1, end)) <= this.#groups)) {
            this.#i = end;
            return ANYSTR;
          }
          if (this.#unicode) throw new RegexSyntax('decimal escape in a class');
          if (ch >= '8') return one(ch.charCodeAt(0));
          return one(this.#legacyOctal(ch.charCodeAt(0) - 48));
        }
        return one(ch.charCodeAt(0));
    }
  }

  /**
   * Annex B LegacyOctalEscapeSequence after its first digit `first` (0-7, consumed): up to
   * two more octal digits after 0-3, one more after 4-7, so the value stays ≤ 0o377
   * (`\0123` is U+000A then `3`, `\477` is U+0027 then `7`).
   */
  #legacyOctal(first: number): number {
    const p = this.#p;
    let value = first;
    for (let more = first <= 3 ? 2 : 1; more > 0 && /[0-7]/.test(p[this.#i] ?? ''); more--) value = value * 8 + (p.charCodeAt(this.#i++) - 48);
    return value;
  }

  #klass(): RegexNode {
    const p = this.#p;
    let negated = false;
    if (p[this.#i] === '^') {
      negated = true;
      this.#i++;
    }
    if (this.#vMode) {
      // v-mode classes nest and have set operators: find the end, claim nothing.
      let depth = 1;
      while (this.#i < p.length && depth > 0) {
        const c = p[this.#i++];
        if (c === '\\') this.#i++;
        else if (c === '[') depth++;
        else if (c === ']') depth--;
      }
      if (depth !== 0) throw new RegexSyntax('unterminated class');
      return ANY;
    }
    // Members as code points: code units without u, where `[😀]` is its two halves, and
    // under u whole code points, where a surrogate pair (raw or `\uD83D\uDE00`) is one.
    const chars = new Set<number>();
    let broad = negated;
    const atom = (): number[] | null => {
      const c = p[this.#i++];
      if (c === undefined) throw new RegexSyntax('unterminated class');
      if (c === '\\') return this.#escape(true) as number[] | null;
      const code = this.#unicode ? p.codePointAt(this.#i - 1)! : c.charCodeAt(0);
      if (code > 0xffff) this.#i++;
      return [code];
    };
    while (this.#i < p.length && p[this.#i] !== ']') {
      const lo = atom();
      if (p[this.#i] === '-' && p[this.#i + 1] !== ']' && this.#i + 1 < p.length) {
        this.#i++;
        const hi = atom();
        if (lo === null || hi === null || lo.length !== 1 || hi.length !== 1) {
          broad = true;
          continue;
        }
        const a = lo[0]!;
        const b = hi[0]!;
        if (b - a + 1 > MAX_CLASS) broad = true;
        else for (let c = a; c <= b; c++) chars.add(c);
      } else if (lo === null) broad = true;
      else for (const c of lo) chars.add(c);
      if (chars.size > MAX_CLASS) broad = true;
    }
    if (p[this.#i] !== ']') throw new RegexSyntax('unterminated class');
    this.#i++;
    if (broad) return ANY;
    const units = [...chars].filter((c) => c <= 0xffff);
    // An astral member matches its two code units: an alternative of its own, not two set members.
    const astral: RegexNode[] = [...chars].filter((c) => c > 0xffff).map((c) => ({ t: 'lit', s: String.fromCodePoint(c) }));
    const set: RegexNode[] = units.length > 0 ? [{ t: 'set', chars: units }] : [];
    const items = [...set, ...astral];
    if (items.length === 0) return { t: 'none' };
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }
}

/**
 * Capturing groups in a pattern read without u: `(` not followed by `?`, and named groups
 * `(?<name>`, outside classes and escapes. Forward ones count too, as in RegExp.
 */
function countGroups(pattern: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') {
      if (pattern[i + 1] !== '?' || (pattern[i + 2] === '<' && pattern[i + 3] !== '=' && pattern[i + 3] !== '!')) n++;
    }
  }
  return n;
}

/**
 * Parses `pattern` (already accepted by `new RegExp`) into a {@link RegexNode}. Returns
 * `null` when the syntax is beyond this parser; callers then plan "match all".
 * @internal
 */
export function parseRegex(pattern: string, flags: string): RegexNode | null {
  try {
    return new RegexParser(pattern, flags.includes('u') || flags.includes('v'), flags.includes('v')).parse();
  } catch (error) {
    if (error instanceof RegexSyntax) return null;
    throw error;
  }
}

/**
 * The items of a pattern's top-level concatenation with their source spans, or null when
 * the pattern is beyond the parser or its top level is an alternation.
 * @internal
 */
export function parseTopLevel(pattern: string, flags: string): { items: readonly RegexNode[]; spans: readonly [number, number][] } | null {
  const parser = new RegexParser(pattern, flags.includes('u') || flags.includes('v'), flags.includes('v'));
  let node: RegexNode;
  try {
    node = parser.parse();
  } catch (error) {
    if (error instanceof RegexSyntax) return null;
    throw error;
  }
  if (node.t === 'alt') return null;
  const items = node.t === 'cat' ? node.items : [node];
  return items.length === parser.spans.length ? { items, spans: parser.spans } : null;
}
