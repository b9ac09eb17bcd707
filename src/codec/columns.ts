/**
 * Column-wise encoding of an array of objects, for blocks of documents that mostly share a
 * shape (collection files, streams to the page).
 *
 * Objects are grouped by their key list (in order); each group stores one column per key,
 * and each column picks the cheapest representation its values allow:
 *
 * | tag | column | holds |
 * | --- | --- | --- |
 * | `s` | `{ t, len, text }` | strings: UTF-16 lengths (smallest unsigned typed array) and the UTF-8 of all of them joined |
 * | `w` | `{ t, len, units }` | strings of which one holds a lone surrogate (UTF-8 cannot): their UTF-16 code units |
 * | `d` | `{ t, codes, dict }` | repetitive strings: codes into `dict`, an `s` (or `w`) column of the distinct values |
 * | `i` | `{ t, v }` | integers: the smallest of Int8/Int16/Int32Array that holds them (never -0) |
 * | `f` | `{ t, v }` | other numbers: Float64Array |
 * | `b` | `{ t, v }` | booleans: Uint8Array of 0/1 |
 * | `a` | `{ t, counts, items }` | arrays: lengths, then one column of all their items in order |
 * | `o` | `{ t, keys, rows, cols }` | plain objects: the same grouping again, nested |
 * | `u` | `{ t, kinds, parts }` | values of mixed kinds (a field that is a string or null): which part each value is in, then one column per kind (strings, numbers, booleans, arrays, plain objects, the rest as `m`) |
 * | `m` | `{ t, v }` | anything else: the values as they are (MessagePack) |
 *
 * The result is a plain value of arrays, typed arrays and strings, which the frame codec
 * packs with msgpackr. Joining a column's strings and encoding them with one `TextEncoder`
 * call, and decoding them with one `TextDecoder` call and slices, replaces a per-string
 * encoder loop in JavaScript; columns of like values also deflate smaller and faster than
 * interleaved records. A column holding a string that is not well-formed UTF-16 (a lone
 * surrogate, as text cut inside an emoji has) is stored as UTF-16 code units (`w`), so it
 * comes back exactly; a column using `w` needs collection format 3 and one using `u`
 * format 4 (see {@link columnsFormat}). Only values that are none of the kinds above (`null`,
 * `undefined`, a `Map`, a `Date`, a class instance, …) stay MessagePack (`m`): a lone
 * surrogate inside a `Map` or a class instance there does not survive (known limit,
 * docs/DESIGN.md).
 *
 * Decoding builds each group's objects with one generated function (an object literal per
 * row: the fastest way to make many same-shaped objects in V8), or with plain assignments
 * where code generation is not allowed (a CSP without `unsafe-eval`).
 */

import { isWellFormed } from './well-formed.ts';

export type Column =
  | { t: 's'; len: Uint8Array | Uint16Array | Uint32Array; text: Uint8Array }
  | { t: 'w'; len: Uint8Array | Uint16Array | Uint32Array; units: Uint16Array }
  | { t: 'd'; codes: Uint8Array | Uint16Array | Uint32Array; dict: Column }
  | { t: 'i'; v: Int8Array | Int16Array | Int32Array }
  | { t: 'f'; v: Float64Array }
  | { t: 'b'; v: Uint8Array }
  | { t: 'a'; counts: Uint8Array | Uint16Array | Uint32Array; items: Column }
  | { t: 'o'; keys: string[][]; rows: Uint8Array | Uint16Array | Uint32Array | null; cols: Column[][] }
  | { t: 'u'; kinds: Uint8Array; parts: Column[] }
  | { t: 'm'; v: unknown[] };

const encoder = new TextEncoder();
// ignoreBOM: a string column whose text starts with U+FEFF keeps it (by default the decoder drops it).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });


function unsignedArray(values: ArrayLike<number>, max: number): Uint8Array | Uint16Array | Uint32Array {
  if (max < 0x100) return new Uint8Array(values);
  if (max < 0x10000) return new Uint16Array(values);
  return values instanceof Uint32Array ? values : new Uint32Array(values);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype;
}

function stringColumn(values: readonly string[]): Column {
  const joined = values.join('');
  let max = 0;
  const len = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const n = values[i]!.length;
    len[i] = n;
    if (n > max) max = n;
  }
  if (!isWellFormed(joined)) {
    const units = new Uint16Array(joined.length);
    for (let i = 0; i < units.length; i++) units[i] = joined.charCodeAt(i);
    return { t: 'w', len: unsignedArray(len, max), units };
  }
  return { t: 's', len: unsignedArray(len, max), text: utf8Of(joined) };
}

/**
 * `text` as UTF-8. `encodeInto` a buffer sized for ASCII first (code and identifiers mostly
 * are): in Chromium that took 43–57 ms for the 19 MB of the analysis documents' unique
 * string columns where `encode()` took 66–100 (same-page timing, profiling). Text that does
 * not fit (non-ASCII) continues into a buffer with room for the rest.
 */
function utf8Of(text: string): Uint8Array {
  const ascii = new Uint8Array(text.length);
  const first = encoder.encodeInto(text, ascii);
  if (first.read === text.length) return ascii; // all ASCII: exactly filled
  // encodeInto stops before a character that does not fit, never inside a surrogate pair.
  const rest = text.slice(first.read);
  const out = new Uint8Array(first.written + rest.length * 3);
  out.set(ascii.subarray(0, first.written));
  const second = encoder.encodeInto(rest, out.subarray(first.written));
  return out.subarray(0, first.written + second.written);
}

// A dictionary pays when values repeat (kinds, languages, paths of one file): judged on the
// first values before building one, so a column of unique strings costs at most a few
// hundred comparisons. The first DICT_FIRST decide alone when they all differ: sampling 64
// per column of unique strings took 15–19 ms of a 100k-document save when the sample was a
// Set (hashing a string the program built by concatenation flattens it first; a Chromium
// worker, harness); the sample is now compared, not hashed, but still stops at 16 then. A
// column of a few dozen values that repeat (languages, extensions) rarely has 16 different
// ones first, and is judged on 64.
const DICT_FIRST = 16;
const DICT_SAMPLE = 64;
// Up to this many distinct values, a value's code is found by comparing it with each of
// them rather than in a Map: strings that came from another thread (documents the page
// sent) are each a string of their own, so a Map hashes every one of them. The three
// dictionary columns of 100k such documents (language, kind, tag items; 4–10 values)
// took 31.8 ms through a Map against 18.4 ms this way (a Chromium worker, harness).
const SMALL_DICT = 16;

function stringsColumn(values: readonly string[]): Column {
  const n = values.length;
  if (n >= 8) {
    const sample: string[] = [];
    const look = (from: number, to: number) => {
      for (let i = from; i < to; i++) if (!sample.includes(values[i]!)) sample.push(values[i]!);
    };
    let judged = Math.min(n, DICT_FIRST);
    look(0, judged);
    if (sample.length < judged) {
      const more = Math.min(n, DICT_SAMPLE);
      look(judged, more);
      judged = more;
    }
    if (sample.length * 2 <= judged) {
      const dict = dictionaryCodes(values);
      if (dict) return { t: 'd', codes: unsignedArray(dict.codes, dict.keys.length - 1), dict: stringColumn(dict.keys) };
    }
  }
  return stringColumn(values);
}

/**
 * Each value's code (its distinct values numbered in order of first appearance) and those
 * values; undefined once more than half the values are distinct (no dictionary then).
 */
function dictionaryCodes(values: readonly string[]): { codes: Uint32Array; keys: string[] } | undefined {
  const n = values.length;
  const codes = new Uint32Array(n);
  const keys: string[] = [];
  let map: Map<string, number> | undefined;
  for (let i = 0; i < n; i++) {
    const s = values[i]!;
    let code = -1;
    if (map === undefined) {
      for (let k = 0; k < keys.length; k++) {
        if (keys[k] === s) {
          code = k;
          break;
        }
      }
    } else code = map.get(s) ?? -1;
    if (code < 0) {
      code = keys.length;
      keys.push(s);
      if (keys.length * 2 > n) return undefined;
      if (map) map.set(s, code);
      else if (keys.length > SMALL_DICT) map = new Map(keys.map((key, j) => [key, j]));
    }
    codes[i] = code;
  }
  return { codes, keys };
}

// Integers are written into an Int32Array as they are checked, and narrowed from it: a typed
// array built from a JavaScript array (`new Int16Array(values)`, the extracted column is holey)
// took 9–14 ms for the three number columns of 100k analysis documents in a Chromium worker,
// against 3–6 ms this way (harness).
function numberColumn(values: readonly number[]): Column {
  const n = values.length;
  const ints = new Int32Array(n);
  let min = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== (v | 0) || (v === 0 && 1 / v < 0)) return { t: 'f', v: new Float64Array(values) };
    ints[i] = v;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  if (min >= -0x80 && max < 0x80) return { t: 'i', v: new Int8Array(ints) };
  if (min >= -0x8000 && max < 0x8000) return { t: 'i', v: new Int16Array(ints) };
  return { t: 'i', v: ints };
}

function arrayColumn(values: readonly unknown[][]): Column {
  let total = 0;
  let max = 0;
  const counts = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const n = values[i]!.length;
    counts[i] = n;
    total += n;
    if (n > max) max = n;
  }
  const items = new Array<unknown>(total);
  let p = 0;
  // Index loops, not for…of over the arrays: 27–35 ms against 39–48 for the two array
  // columns of 100k analysis documents (harness).
  for (let i = 0; i < values.length; i++) {
    const a = values[i]!;
    for (let j = 0; j < a.length; j++) items[p++] = a[j];
  }
  return { t: 'a', counts: unsignedArray(counts, max), items: encodeColumn(items) };
}

// Holes come back as undefined, as they do from MessagePack.
const isPlainArray = (v: unknown): v is unknown[] => Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype;

/** Encodes one column of values, choosing the representation from what the values are. */
export function encodeColumn(values: readonly unknown[]): Column {
  const n = values.length;
  if (n === 0) return { t: 'm', v: [] };
  const first = values[0];
  const type = typeof first;
  let same = true;
  if (type === 'string' || type === 'number' || type === 'boolean') {
    for (let i = 1; i < n; i++) {
      if (typeof values[i] !== type) {
        same = false;
        break;
      }
    }
    if (same) {
      if (type === 'number') return numberColumn(values as number[]);
      if (type === 'boolean') {
        const bits = new Uint8Array(n);
        for (let i = 0; i < n; i++) if (values[i]) bits[i] = 1;
        return { t: 'b', v: bits };
      }
      return stringsColumn(values as string[]);
    }
  } else if (isPlainArray(first)) {
    for (let i = 1; i < n && same; i++) same = isPlainArray(values[i]);
    if (same) return arrayColumn(values as unknown[][]);
  } else if (isPlainObject(first)) {
    for (let i = 1; i < n && same; i++) same = isPlainObject(values[i]);
    if (same) return encodeObjects(values as Record<string, unknown>[]) ?? { t: 'm', v: values.slice() };
  }
  return unionColumn(values);
}

// The kinds of a union column's parts: each but OTHER has a column type of its own.
const STRING = 0;
const NUMBER = 1;
const BOOLEAN = 2;
const ARRAY = 3;
const OBJECT = 4;
const OTHER = 5;

function kindOf(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return STRING;
    case 'number':
      return NUMBER;
    case 'boolean':
      return BOOLEAN;
    default:
      return isPlainArray(v) ? ARRAY : isPlainObject(v) ? OBJECT : OTHER;
  }
}

/**
 * Values of mixed kinds, split into one column per kind (so strings, arrays and objects
 * inside keep their exact encodings); values of no kind of their own stay MessagePack.
 */
function unionColumn(values: readonly unknown[]): Column {
  const n = values.length;
  const kinds = new Uint8Array(n);
  const buckets: unknown[][] = [[], [], [], [], [], []];
  for (let i = 0; i < n; i++) {
    const k = kindOf(values[i]);
    kinds[i] = k;
    buckets[k]!.push(values[i]);
  }
  if (buckets[OTHER]!.length === n) return { t: 'm', v: values.slice() };
  const part = new Uint8Array(buckets.length);
  const parts: Column[] = [];
  buckets.forEach((bucket, k) => {
    if (bucket.length === 0) return;
    part[k] = parts.length;
    // Each bucket holds one kind, so encodeColumn gives it its own type (never `u` again).
    parts.push(k === OTHER ? { t: 'm', v: bucket } : encodeColumn(bucket));
  });
  for (let i = 0; i < n; i++) kinds[i] = part[kinds[i]!]!;
  return { t: 'u', kinds, parts };
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Group {
  readonly keys: string[];
  readonly index: number;
  readonly rows: Record<string, unknown>[];
}

/**
 * Groups plain objects by key list and encodes each group's columns (an own `__proto__`
 * key, as `JSON.parse` makes, is kept as a key like any other: see {@link loops}).
 */
export function encodeObjects(objects: readonly Record<string, unknown>[]): Column | undefined {
  const groups: Group[] = [];
  const byJoined = new Map<string, Group[]>();
  const rowGroup = new Uint32Array(objects.length);
  let last: Group | undefined;
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i]!;
    const keys = Object.keys(o);
    let g = last && sameKeys(last.keys, keys) ? last : undefined;
    if (!g) {
      const joined = keys.join('\u0000');
      const candidates = byJoined.get(joined);
      g = candidates?.find((c) => sameKeys(c.keys, keys));
      if (!g) {
        g = { keys, index: groups.length, rows: [] };
        groups.push(g);
        if (candidates) candidates.push(g);
        else byJoined.set(joined, [g]);
      }
      last = g;
    }
    g.rows.push(o);
    rowGroup[i] = g.index;
  }
  const cols = groups.map((g) => shapeCode(g.keys).extract(g.rows).map(encodeColumn));
  return { t: 'o', keys: groups.map((g) => g.keys), rows: groups.length > 1 ? unsignedArray(rowGroup, groups.length - 1) : null, cols };
}

/** A decoded column is read by index; typed arrays serve integers and floats directly. */
type Values = ArrayLike<unknown>;

class ColumnError extends Error {}
const fail = (why: string): never => {
  throw new ColumnError(why);
};
const isUnsigned = (v: unknown): v is Uint8Array | Uint16Array | Uint32Array => v instanceof Uint8Array || v instanceof Uint16Array || v instanceof Uint32Array;

function decodeStrings(c: { len: unknown; text: unknown }): string[] {
  if (!isUnsigned(c.len) || !(c.text instanceof Uint8Array)) fail('string column is malformed');
  const len = c.len as Uint8Array;
  const text = decoder.decode(c.text as Uint8Array);
  const out = new Array<string>(len.length);
  let p = 0;
  for (let i = 0; i < out.length; i++) {
    const e = p + len[i]!;
    out[i] = text.slice(p, e);
    p = e;
  }
  if (p !== text.length) fail('string lengths do not add up to the text');
  return out;
}

function decodeUnits(c: { len: unknown; units: unknown }): string[] {
  if (!isUnsigned(c.len) || !(c.units instanceof Uint16Array)) fail('UTF-16 string column is malformed');
  const len = c.len as Uint8Array;
  const units = c.units as Uint16Array;
  const out = new Array<string>(len.length);
  let p = 0;
  for (let i = 0; i < out.length; i++) {
    const e = p + len[i]!;
    if (e > units.length) fail('string lengths do not add up to the text');
    let s = '';
    // In pieces: apply() takes a bounded number of arguments.
    for (let q = p; q < e; q += 8192) s += String.fromCharCode.apply(null, units.subarray(q, Math.min(e, q + 8192)) as unknown as number[]);
    out[i] = s;
    p = e;
  }
  if (p !== units.length) fail('string lengths do not add up to the text');
  return out;
}

/** Decodes a column into `n` values; anything inconsistent throws (the caller names the file). */
export function decodeColumn(column: unknown, n: number): Values {
  const c = column as Column;
  if (c === null || typeof c !== 'object') return fail('column is not an object');
  let out: Values;
  switch (c.t) {
    case 's':
      out = decodeStrings(c);
      break;
    case 'w':
      out = decodeUnits(c);
      break;
    case 'd': {
      const kind = (c.dict as { t?: unknown } | null)?.t;
      if (!isUnsigned(c.codes) || (kind !== 's' && kind !== 'w')) return fail('dictionary is malformed');
      const dict = kind === 's' ? decodeStrings(c.dict as { len: unknown; text: unknown }) : decodeUnits(c.dict as { len: unknown; units: unknown });
      const codes = c.codes;
      const strings = new Array<string>(codes.length);
      for (let i = 0; i < codes.length; i++) {
        const s = dict[codes[i]!];
        if (s === undefined) fail('dictionary code out of range');
        strings[i] = s!;
      }
      out = strings;
      break;
    }
    case 'i':
      if (!(c.v instanceof Int8Array || c.v instanceof Int16Array || c.v instanceof Int32Array)) return fail('integer column is malformed');
      out = c.v;
      break;
    case 'f':
      if (!(c.v instanceof Float64Array)) return fail('number column is malformed');
      out = c.v;
      break;
    case 'b': {
      if (!(c.v instanceof Uint8Array)) return fail('boolean column is malformed');
      const bools = new Array<boolean>(c.v.length);
      for (let i = 0; i < bools.length; i++) bools[i] = c.v[i] === 1;
      out = bools;
      break;
    }
    case 'a': {
      if (!isUnsigned(c.counts)) return fail('array counts are malformed');
      const counts = c.counts;
      let total = 0;
      for (let i = 0; i < counts.length; i++) total += counts[i]!;
      const items = decodeColumn(c.items, total);
      const arrays = new Array<unknown[]>(counts.length);
      let p = 0;
      if (Array.isArray(items)) {
        for (let i = 0; i < arrays.length; i++) {
          const e = p + counts[i]!;
          arrays[i] = items.slice(p, e);
          p = e;
        }
      } else {
        for (let i = 0; i < arrays.length; i++) {
          const e = p + counts[i]!;
          const a = new Array<unknown>(e - p);
          for (let j = 0; p < e; j++, p++) a[j] = items[p];
          arrays[i] = a;
        }
      }
      out = arrays;
      break;
    }
    case 'o':
      out = decodeObjects(c, n);
      break;
    case 'u': {
      if (!(c.kinds instanceof Uint8Array) || !Array.isArray(c.parts) || c.parts.length === 0) return fail('union column is malformed');
      const counts = new Uint32Array(c.parts.length);
      for (let i = 0; i < c.kinds.length; i++) {
        if (c.kinds[i]! >= counts.length) fail('union value names a missing part');
        counts[c.kinds[i]!]! += 1;
      }
      out = inRowOrder(c.parts.map((p, j) => decodeColumn(p, counts[j]!)), c.kinds, c.kinds.length);
      break;
    }
    case 'm':
      if (!Array.isArray(c.v)) return fail('value column is malformed');
      out = c.v;
      break;
    default:
      return fail(`unknown column type ${JSON.stringify((c as { t: unknown }).t)}`);
  }
  if (n >= 0 && out.length !== n) fail(`column holds ${out.length} values, expected ${n}`);
  return out;
}

type Builder = (cols: Values[], n: number) => Record<string, unknown>[];
type Extractor = (rows: readonly Record<string, unknown>[]) => unknown[][];

interface ShapeCode {
  readonly keys: string[];
  /** Objects from columns: one object literal per row. */
  readonly build: Builder;
  /** Columns from objects: one array per key. */
  readonly extract: Extractor;
}

let codegen = true;
const shapes = new Map<string, ShapeCode[]>();

/**
 * Turns generated code off (or back on) as a CSP without `unsafe-eval` would, and forgets
 * the code made so far. For tests of the fallback; the codec finds out by itself otherwise.
 */
export function setColumnCodeGeneration(enabled: boolean): void {
  codegen = enabled;
  shapes.clear();
}
const MAX_SHAPES = 512;

/**
 * Generated code per key list: a literal `{ "k0": c0[i], … }` builds same-shaped objects
 * and `c0[i] = r["k0"]` reads them with constant keys, several times faster than loops over
 * a key array. Falls back to those loops where code generation is refused (CSP).
 */
function generate(keys: readonly string[]): Pick<ShapeCode, 'build' | 'extract'> | undefined {
  if (!codegen) return undefined;
  const k = keys.map((key) => JSON.stringify(key));
  const cols = keys.map((_, j) => `c${j}`);
  try {
    /* eslint-disable @typescript-eslint/no-implied-eval */
    const build = new Function(
      'cols',
      'n',
      `${cols.map((c, j) => `const ${c} = cols[${j}];`).join('')}
const out = new Array(n);
for (let i = 0; i < n; i++) out[i] = { ${k.map((key, j) => `${key}: c${j}[i]`).join(', ')} };
return out;`,
    ) as Builder;
    const extract = new Function(
      'rows',
      `const n = rows.length;
${cols.map((c) => `const ${c} = new Array(n);`).join('')}
for (let i = 0; i < n; i++) { const r = rows[i]; ${k.map((key, j) => `c${j}[i] = r[${key}];`).join(' ')} }
return [${cols.join(', ')}];`,
    ) as Extractor;
    /* eslint-enable @typescript-eslint/no-implied-eval */
    return { build, extract };
  } catch {
    codegen = false;
    return undefined;
  }
}

function loops(keys: readonly string[]): Pick<ShapeCode, 'build' | 'extract'> {
  // An own `__proto__` key is defined, not assigned: assigning (or a literal) would set the
  // object's prototype instead (and let a crafted file pick it).
  const proto = keys.indexOf('__proto__');
  return {
    build: (cols, n) => {
      const out = new Array<Record<string, unknown>>(n);
      for (let i = 0; i < n; i++) {
        const o: Record<string, unknown> = {};
        for (let j = 0; j < keys.length; j++) {
          if (j === proto) Object.defineProperty(o, '__proto__', { value: cols[j]![i], writable: true, enumerable: true, configurable: true });
          else o[keys[j]!] = cols[j]![i];
        }
        out[i] = o;
      }
      return out;
    },
    extract: (rows) =>
      keys.map((key) => {
        const values = new Array<unknown>(rows.length);
        for (let i = 0; i < values.length; i++) values[i] = rows[i]![key];
        return values;
      }),
  };
}

function shapeCode(keys: string[]): ShapeCode {
  const joined = keys.join('\u0000');
  const list = shapes.get(joined);
  const hit = list?.find((b) => sameKeys(b.keys, keys));
  if (hit) return hit;
  if (shapes.size >= MAX_SHAPES) shapes.clear();
  const code: ShapeCode = { keys, ...((keys.includes('__proto__') ? undefined : generate(keys)) ?? loops(keys)) };
  if (list) list.push(code);
  else shapes.set(joined, [code]);
  return code;
}

/** The groups of an object column, checked: key lists, columns, the row → group map and each group's size. */
function objectGroups(c: { keys: unknown; rows: unknown; cols: unknown }, n: number) {
  const keyLists = c.keys as string[][];
  const colLists = c.cols as unknown[][];
  if (!Array.isArray(keyLists) || !Array.isArray(colLists) || keyLists.length !== colLists.length || keyLists.length === 0) fail('object column is malformed');
  if (c.rows !== null && !isUnsigned(c.rows)) fail('object rows are malformed');
  const rows = c.rows as Uint32Array | null;
  const total = rows ? rows.length : n;
  const counts = new Uint32Array(keyLists.length);
  if (rows) {
    for (let i = 0; i < rows.length; i++) {
      if (rows[i]! >= counts.length) fail('object row names a missing group');
      counts[rows[i]!]! += 1;
    }
  } else if (keyLists.length !== 1 || n < 0) fail('object column without rows must have one group and a known length');
  else counts[0] = n;
  keyLists.forEach((keys, g) => {
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string') || new Set(keys).size !== keys.length) fail('object keys are malformed');
    if (!Array.isArray(colLists[g]) || colLists[g]!.length !== keys.length) fail('object group has the wrong number of columns');
  });
  return { keyLists, colLists, rows, counts, total };
}

/** Interleaves per-group values back into row order. */
function inRowOrder<T>(perGroup: readonly (ArrayLike<T> | undefined)[], rows: ArrayLike<number> | null, total: number): (T | undefined)[] {
  if (!rows) return Array.from(perGroup[0] ?? { length: total });
  const at = new Array<number>(perGroup.length).fill(0);
  const out = new Array<T | undefined>(total);
  for (let i = 0; i < total; i++) {
    const g = rows[i]!;
    out[i] = perGroup[g]?.[at[g]!];
    at[g]!++;
  }
  return out;
}

function decodeObjects(c: { keys: unknown; rows: unknown; cols: unknown }, n: number): Record<string, unknown>[] {
  const { keyLists, colLists, rows, counts, total } = objectGroups(c, n);
  const groups = keyLists.map((keys, g) => shapeCode(keys).build(colLists[g]!.map((col) => decodeColumn(col, counts[g]!)), counts[g]!));
  if (!rows) return groups[0]!;
  return inRowOrder(groups, rows, total) as Record<string, unknown>[];
}

/**
 * The values of one key of the objects of {@link toColumns}, in order (undefined where an
 * object lacks it), decoding that key's columns only: what a reader needs to learn which
 * documents a block holds without rebuilding them.
 */
export function keyValues(column: unknown, n: number, key: string): unknown[] {
  const c = column as Column;
  if (c !== null && typeof c === 'object' && c.t === 'm') {
    if (!Array.isArray(c.v) || c.v.length !== n) fail('value column is malformed');
    return c.v.map((o) => (o !== null && typeof o === 'object' && Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined));
  }
  if (c === null || typeof c !== 'object' || c.t !== 'o') return fail('block is not an object column');
  const { keyLists, colLists, rows, counts, total } = objectGroups(c, n);
  if (n >= 0 && total !== n) fail(`column holds ${total} values, expected ${n}`);
  const perGroup = keyLists.map((keys, g) => {
    const k = keys.indexOf(key);
    return k < 0 ? undefined : decodeColumn(colLists[g]![k], counts[g]!);
  });
  return inRowOrder(perGroup, rows, total);
}

/**
 * The 32-bit FNV-1a hashes over UTF-16 code units (as `idHash` in doc-table.ts computes
 * them from strings) of the values of `key`, computed from the UTF-8 bytes of its column
 * without making a string: only where the objects form one group and `key`'s column is a
 * plain string column (`s`); undefined otherwise, or when the column's lengths and bytes
 * disagree (a decode of the column then reports the damage).
 */
export function keyStringHashes(column: unknown, n: number, key: string): Uint32Array | undefined {
  const c = column as { t?: unknown; keys?: unknown; rows?: unknown; cols?: unknown } | null;
  if (c === null || typeof c !== 'object' || c.t !== 'o' || c.rows !== null || !Array.isArray(c.keys) || !Array.isArray(c.cols) || c.keys.length !== 1) return undefined;
  const keys = c.keys[0] as unknown;
  const cols = c.cols[0] as unknown;
  if (!Array.isArray(keys) || !Array.isArray(cols)) return undefined;
  const col = cols[keys.indexOf(key)] as { t?: unknown; len?: unknown; text?: unknown } | undefined;
  if (!col || col.t !== 's' || !isUnsigned(col.len) || !(col.text instanceof Uint8Array) || col.len.length !== n) return undefined;
  return utf8Hashes(col.text, col.len, n);
}

function utf8Hashes(text: Uint8Array, len: ArrayLike<number>, n: number): Uint32Array | undefined {
  const out = new Uint32Array(n);
  const end = text.length;
  let p = 0;
  for (let i = 0; i < n; i++) {
    let units = len[i]!;
    let h = 0x811c9dc5;
    while (units > 0) {
      if (p >= end) return undefined;
      const b = text[p]!;
      if (b < 0x80) {
        h = Math.imul(h ^ b, 0x01000193);
        p += 1;
        units -= 1;
      } else if (b < 0xe0) {
        h = Math.imul(h ^ (((b & 0x1f) << 6) | (text[p + 1]! & 0x3f)), 0x01000193);
        p += 2;
        units -= 1;
      } else if (b < 0xf0) {
        h = Math.imul(h ^ (((b & 0x0f) << 12) | ((text[p + 1]! & 0x3f) << 6) | (text[p + 2]! & 0x3f)), 0x01000193);
        p += 3;
        units -= 1;
      } else {
        const cp = (((b & 0x07) << 18) | ((text[p + 1]! & 0x3f) << 12) | ((text[p + 2]! & 0x3f) << 6) | (text[p + 3]! & 0x3f)) - 0x10000;
        h = Math.imul(h ^ (0xd800 | (cp >> 10)), 0x01000193);
        h = Math.imul(h ^ (0xdc00 | (cp & 0x3ff)), 0x01000193);
        p += 4;
        units -= 2;
      }
    }
    if (units !== 0) return undefined;
    out[i] = h >>> 0;
  }
  return p === end ? out : undefined;
}

/** Whether any of `values` is one of the strings of a string column, mostly without splitting it into strings. */
function columnHasString(column: unknown, n: number, values: ReadonlySet<string>): boolean {
  const c = column as Column;
  if (c !== null && typeof c === 'object' && c.t === 's' && isUnsigned(c.len) && c.text instanceof Uint8Array && values.size <= 64) {
    // One native decode, then a search per value; a hit counts only where a string starts
    // there and has that length (the offsets are summed only after a hit).
    if (values.has('') && Array.from(c.len).includes(0)) return true;
    const text = decoder.decode(c.text);
    let starts: Map<number, number> | undefined;
    for (const v of values) {
      if (v === '') continue;
      for (let at = text.indexOf(v); at >= 0; at = text.indexOf(v, at + 1)) {
        if (!starts) {
          starts = new Map();
          let p = 0;
          for (let i = 0; i < c.len.length; i++) {
            starts.set(p, c.len[i]!);
            p += c.len[i]!;
          }
        }
        if (starts.get(at) === v.length) return true;
      }
    }
    return false;
  }
  if (c !== null && typeof c === 'object' && c.t === 'd') return Array.from(decodeColumn(c.dict, -1)).some((x) => values.has(x as string));
  return Array.from(decodeColumn(column, n)).some((x) => values.has(x as string));
}

/**
 * Whether some object of {@link toColumns} has one of `values` (strings) under `key`: what
 * a reader asks to learn whether a block holds any of some documents, without rebuilding
 * them or, for a plain string column, even splitting it into strings.
 */
export function hasKeyValue(column: unknown, n: number, key: string, values: ReadonlySet<string>): boolean {
  if (values.size === 0) return false;
  const c = column as Column;
  if (c !== null && typeof c === 'object' && c.t === 'm') return keyValues(c, n, key).some((x) => values.has(x as string));
  if (c === null || typeof c !== 'object' || c.t !== 'o') return fail('block is not an object column');
  const { keyLists, colLists, counts, total } = objectGroups(c, n);
  if (n >= 0 && total !== n) fail(`column holds ${total} values, expected ${n}`);
  return keyLists.some((keys, g) => {
    const k = keys.indexOf(key);
    return k >= 0 && columnHasString(colLists[g]![k], counts[g]!, values);
  });
}

/**
 * Whether objects decoded from `column` (as unpacked from MessagePack) may hold an object
 * from inside the unpacked value: only a value kept as MessagePack (`m`, also as a part of
 * `u` or inside arrays and objects) can, and such a value that is an object (a `Uint8Array`,
 * which msgpackr unpacks as a view of its input, a `Map`, a date) counts. Everything else
 * (strings, numbers, booleans) is rebuilt as new values. What tells a reader that the
 * bytes a batch came in can be used again once its objects are built. Unknown shapes count
 * as holding objects.
 */
export function holdsObjects(column: unknown): boolean {
  const c = column as Column | null;
  if (c === null || typeof c !== 'object') return true;
  switch (c.t) {
    case 's':
    case 'w':
    case 'd':
    case 'i':
    case 'f':
    case 'b':
      return false;
    case 'm':
      return !Array.isArray(c.v) || c.v.some((v) => v !== null && (typeof v === 'object' || typeof v === 'function'));
    case 'a':
      return holdsObjects(c.items);
    case 'u':
      return !Array.isArray(c.parts) || c.parts.some(holdsObjects);
    case 'o':
      return !Array.isArray(c.cols) || c.cols.some((list) => !Array.isArray(list) || list.some(holdsObjects));
    default:
      return true;
  }
}

/**
 * The collection format a file holding `column` (from {@link toColumns}) needs: 4 if it
 * uses a union column (`u`), else 3 if it uses a UTF-16 string column (`w`) or an object
 * group with an own `__proto__` key, else 2. A file is written at the lowest format its
 * blocks allow, so older readers say `UNSUPPORTED_VERSION` only for what they cannot read.
 */
export function columnsFormat(column: Column): 2 | 3 | 4 {
  switch (column.t) {
    case 'w':
      return 3;
    case 'u':
      return 4;
    case 'd':
      return columnsFormat(column.dict);
    case 'a':
      return columnsFormat(column.items);
    case 'o': {
      let format: 2 | 3 | 4 = column.keys.some((keys) => keys.includes('__proto__')) ? 3 : 2;
      for (const group of column.cols) for (const c of group) if (format < 4) format = Math.max(format, columnsFormat(c)) as 2 | 3 | 4;
      return format;
    }
    default:
      return 2;
  }
}

/**
 * The buffers behind the typed arrays of `column` (from {@link toColumns}), so the column
 * can be transferred to another thread rather than copied; undefined when it cannot be
 * sent as it is: an `m` column holding something other than a primitive (it may be a
 * document's own object, which must not be detached or changed by cloning).
 */
export function columnBuffers(column: Column, into: Set<ArrayBufferLike> = new Set()): Set<ArrayBufferLike> | undefined {
  const add = (v: { buffer: ArrayBufferLike }) => void into.add(v.buffer);
  switch (column.t) {
    case 's':
      add(column.len);
      add(column.text);
      return into;
    case 'w':
      add(column.len);
      add(column.units);
      return into;
    case 'd':
      add(column.codes);
      return columnBuffers(column.dict, into);
    case 'i':
    case 'f':
    case 'b':
      add(column.v);
      return into;
    case 'a':
      add(column.counts);
      return columnBuffers(column.items, into);
    case 'o':
      if (column.rows) add(column.rows);
      for (const group of column.cols) for (const c of group) if (!columnBuffers(c, into)) return undefined;
      return into;
    case 'u':
      add(column.kinds);
      for (const c of column.parts) if (!columnBuffers(c, into)) return undefined;
      return into;
    case 'm':
      for (const v of column.v) if (v !== null && (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol')) return undefined;
      return into;
  }
}

/** Encodes plain objects column-wise; objects that cannot be (see {@link encodeObjects}) are kept as they are. */
export function toColumns(objects: readonly Record<string, unknown>[]): Column {
  if (objects.length === 0) return { t: 'm', v: [] };
  return encodeObjects(objects) ?? { t: 'm', v: objects.slice() };
}

/** Rebuilds the objects of {@link toColumns}; a malformed column throws an Error saying what is wrong. */
export function fromColumns(column: unknown, n: number): Record<string, unknown>[] {
  const c = column as Column;
  if (c === null || typeof c !== 'object' || (c.t !== 'o' && c.t !== 'm')) fail('block is not an object column');
  return decodeColumn(c, n) as Record<string, unknown>[];
}
