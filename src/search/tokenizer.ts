import { IntVector } from './int-vector.ts';
import { LineIndex } from './line-index.ts';
import { TermInterner } from './term-interner.ts';

/**
 * The code-aware tokenizer.
 *
 * An **identifier** is a maximal run of ASCII letters, digits, `_`, `$` and non-ASCII
 * letters (code units ≥ U+00C0 outside the punctuation, symbol and surrogate blocks); a `-`
 * joins two runs when a letter or digit precedes it and a letter follows (`font-size`,
 * `data-id`, but not `i-1` or `a--`). Each identifier is split into **parts** at `_`, `$`
 * and `-`, at lower→upper case changes (`fooBar`), before the last capital of an acronym
 * followed by lowercase (`HTMLParser` → `html`, `parser`) and at letter↔digit changes
 * (`utf8Decode` → `utf`, `8`, `decode`). Parts and the whole identifier are folded to
 * lowercase and emitted as tokens; the whole is emitted only when it differs from its single
 * part. Tokens longer than {@link MAX_TOKEN_LENGTH} are not emitted.
 *
 * **Positions** (for phrase queries) count parts: each part takes the next position, the
 * whole identifier shares the position of its first part, and an identifier without parts
 * (`_`, `$$`) takes one position of its own.
 *
 * **Checkpoints** tie positions back to text: checkpoint `b` is the offset where the
 * identifier holding position `b · CHECKPOINT_EVERY` starts, so every token at a position in
 * `[b · CHECKPOINT_EVERY, (b + 1) · CHECKPOINT_EVERY)` starts at or after checkpoint `b` and
 * no later than the identifier at checkpoint `b + 1`.
 */

/** log2 of the number of positions between two checkpoints. @internal */
export const CHECKPOINT_SHIFT = 6;
/** Positions between two checkpoints (64). @internal */
export const CHECKPOINT_EVERY = 1 << CHECKPOINT_SHIFT;

/** Longest token (in UTF-16 code units) that is emitted; longer ones still take their position. */
export const MAX_TOKEN_LENGTH = 64;

/** What a token is: a sub-part, a whole identifier with separate parts, an identifier that is its own single part, or one with no parts at all (`_`). */
export type TokenKind = 'part' | 'word' | 'simple' | 'bare';

/** Numeric token kinds written to span buffers. @internal */
export const KIND_PART = 0;
/** @internal */
export const KIND_WORD = 1;
/** @internal */
export const KIND_SIMPLE = 2;
/** @internal */
export const KIND_BARE = 3;
const KIND_NAMES: readonly TokenKind[] = ['part', 'word', 'simple', 'bare'];

/** One token occurrence, with everything needed to highlight it. Lines and columns are 0-based, in UTF-16 code units. */
export interface Token {
  /** Lowercased token text. */
  readonly term: string;
  readonly kind: TokenKind;
  /** Phrase position (see module notes). */
  readonly position: number;
  /** Offset of the first code unit in the source text. */
  readonly offset: number;
  /** Length in the source text. */
  readonly length: number;
  readonly line: number;
  readonly column: number;
}

const OTHER = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;
const JOINER = 4;
const HYPHEN = 5;

const ASCII_CLASS = new Uint8Array(128);
for (let c = 97; c <= 122; c++) ASCII_CLASS[c] = LOWER;
for (let c = 65; c <= 90; c++) ASCII_CLASS[c] = UPPER;
for (let c = 48; c <= 57; c++) ASCII_CLASS[c] = DIGIT;
ASCII_CLASS[95] = JOINER; // _
ASCII_CLASS[36] = JOINER; // $
ASCII_CLASS[45] = HYPHEN; // -

function nonAsciiClass(c: number): number {
  if (
    c < 0xc0 || c === 0xd7 || c === 0xf7 ||
    (c >= 0x2000 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) ||
    (c >= 0xd800 && c <= 0xdfff) || (c >= 0xfe00 && c <= 0xfe0f) || c === 0xfeff || c >= 0xfff0
  ) return OTHER;
  return LOWER;
}

/** Character class of a code unit (0 other, 1 lower, 2 upper, 3 digit, 4 `_`/`$`, 5 `-`). @internal */
export function charClass(c: number): number {
  return c < 128 ? ASCII_CLASS[c]! : nonAsciiClass(c);
}

/** Whether code unit `c` is a letter or digit to the tokenizer (part of a word; joiners are not). */
export function isWordUnit(c: number): boolean {
  const k = charClass(c);
  return k === LOWER || k === UPPER || k === DIGIT;
}

let classScratch = new Uint8Array(256);
let partScratch = new Int32Array(128);

/**
 * Scans `text` (or its part `[from, to)`, which must start and end outside an identifier)
 * and reports every token. The hot path of indexing: with an `interner` each token's term id
 * goes to `terms`; each of `positions` and `spans` (optional, with or without terms) gets the
 * token's position or its `start, end, kind` triple; `checkpoints` gets the text offsets of
 * the position checkpoints (see module notes; only meaningful for a scan from 0). With
 * everything null tokens are only counted.
 * Returns the number of tokens emitted.
 * @internal
 */
export function scanTokens(
  text: string,
  interner: TermInterner | null,
  terms: IntVector | null,
  positions: IntVector | null,
  spans: IntVector | null,
  from = 0,
  to = text.length,
  checkpoints: IntVector | null = null,
  tooLong: { count: number } | null = null,
): number {
  const n = to;
  let i = from;
  let pos = 0;
  let count = 0;
  // Next position that needs a checkpoint; never reached without a checkpoint vector.
  let nextCheckpoint = checkpoints === null ? Infinity : 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    let k = c < 128 ? ASCII_CLASS[c]! : nonAsciiClass(c);
    if (k === OTHER || k === HYPHEN) {
      i++;
      continue;
    }
    const s = i;
    let ascii = c < 128;
    let prev = k;
    let cls = classScratch;
    cls[0] = k;
    i++;
    while (i < n) {
      c = text.charCodeAt(i);
      k = c < 128 ? ASCII_CLASS[c]! : nonAsciiClass(c);
      if (k === OTHER) break;
      if (k === HYPHEN) {
        if (prev !== LOWER && prev !== UPPER && prev !== DIGIT) break;
        if (i + 1 >= n) break;
        const c2 = text.charCodeAt(i + 1);
        const k2 = c2 < 128 ? ASCII_CLASS[c2]! : nonAsciiClass(c2);
        if (k2 !== LOWER && k2 !== UPPER) break;
      } else if (c >= 128) ascii = false;
      const rel = i - s;
      if (rel >= cls.length) {
        const grown = new Uint8Array(cls.length * 2);
        grown.set(cls);
        classScratch = cls = grown;
      }
      cls[rel] = k;
      prev = k;
      i++;
    }
    const e = i;
    const len = e - s;

    // Split into parts; part bounds are relative to s, stored pairwise.
    let parts = 0;
    let p = 0;
    while (p < len) {
      const pk = cls[p]!;
      if (pk === JOINER || pk === HYPHEN) {
        p++;
        continue;
      }
      const ps = p;
      if (pk === UPPER) {
        let q = p + 1;
        while (q < len && cls[q] === UPPER) q++;
        if (q < len && cls[q] === LOWER) {
          if (q - p > 1) p = q - 1;
          else {
            p = q + 1;
            while (p < len && cls[p] === LOWER) p++;
          }
        } else p = q;
      } else {
        p++;
        while (p < len && cls[p] === pk) p++;
      }
      if (parts * 2 + 2 > partScratch.length) {
        const grown = new Int32Array(partScratch.length * 2);
        grown.set(partScratch);
        partScratch = grown;
      }
      partScratch[parts * 2] = ps;
      partScratch[parts * 2 + 1] = p;
      parts++;
    }

    const single = parts === 1 && partScratch[0] === 0 && partScratch[1] === len;
    if (!single) {
      if (len <= MAX_TOKEN_LENGTH) {
        count++;
        if (terms !== null) terms.push(interner!.internRange(text, s, e, ascii));
        if (positions !== null) positions.push(pos);
        if (spans !== null) {
          spans.push(s);
          spans.push(e);
          spans.push(parts === 0 ? KIND_BARE : KIND_WORD);
        }
      } else if (parts === 0 && tooLong !== null) tooLong.count++;
      if (parts === 0) pos++;
    }
    for (let j = 0; j < parts; j++) {
      const a = s + partScratch[j * 2]!;
      const b = s + partScratch[j * 2 + 1]!;
      if (b - a <= MAX_TOKEN_LENGTH) {
        count++;
        if (terms !== null) terms.push(interner!.internRange(text, a, b, ascii));
        if (positions !== null) positions.push(pos);
        if (spans !== null) {
          spans.push(a);
          spans.push(b);
          spans.push(single ? KIND_SIMPLE : KIND_PART);
        }
      } else if (tooLong !== null) tooLong.count++;
      pos++;
    }
    while (nextCheckpoint < pos) {
      checkpoints!.push(s);
      nextCheckpoint += CHECKPOINT_EVERY;
    }
  }
  return count;
}

/** The position checkpoints of `text` (see module notes). @internal */
export function textCheckpoints(text: string): Uint32Array {
  const out = new IntVector(64);
  scanTokens(text, null, null, null, null, 0, text.length, out);
  return Uint32Array.from(out.data.subarray(0, out.length));
}

/**
 * How many of the positions `text` takes hold a token too long to index (a bare
 * identifier or a part over {@link MAX_TOKEN_LENGTH}): such a position is skipped, not
 * emitted, so no query can match it. @internal
 */
export function unindexedTokens(text: string): number {
  const tooLong = { count: 0 };
  scanTokens(text, null, null, null, null, 0, text.length, null, tooLong);
  return tooLong.count;
}

/**
 * Number of tokens {@link tokenize} would return, without building them.
 *
 * @example
 * ```ts
 * countTokens('getElementById(x)') // 6: getelementbyid, get, element, by, id, x
 * ```
 */
export function countTokens(text: string): number {
  return scanTokens(text, null, null, null, null);
}

/**
 * Tokenizes `text` into token objects with line and column. Use it for highlighting and
 * tests; the index itself uses the allocation-free scanner.
 *
 * @example
 * ```ts
 * tokenize('HTMLParser').map((t) => t.term) // ['htmlparser', 'html', 'parser']
 * ```
 */
export function tokenize(text: string): Token[] {
  const interner = new TermInterner();
  const terms = new IntVector();
  const positions = new IntVector();
  const spans = new IntVector();
  scanTokens(text, interner, terms, positions, spans);
  const out: Token[] = [];
  const lines = new LineIndex(text);
  for (let t = 0; t < terms.length; t++) {
    const start = spans.data[t * 3]!;
    const end = spans.data[t * 3 + 1]!;
    const { line, column } = lines.locate(start);
    out.push({
      term: interner.terms[terms.data[t]!]!,
      kind: KIND_NAMES[spans.data[t * 3 + 2]!]!,
      position: positions.data[t]!,
      offset: start,
      length: end - start,
      line,
      column,
    });
  }
  return out;
}
