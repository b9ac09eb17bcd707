import { ShelfError } from '../errors/index.ts';

/**
 * Structured, order-preserving keys. A key is a tuple of string and number segments; the
 * encoding makes plain string comparison of keys (what IndexedDB and the memory adapter
 * use) equal to tuple order, and makes the key of a tuple a string prefix of the keys of
 * all its extensions, so "every key under (src, 3, pending)" is one prefix scan.
 *
 * Encoding of each segment: a type tag, the body, then the terminator U+0000.
 * - number (tag `n`): the IEEE-754 bits, sign-flipped so that byte order is numeric order,
 *   as 16 lowercase hex digits; `-0` is stored as `0`; NaN and ±Infinity are refused.
 * - string (tag `s`): the text with U+0000 → U+0001 U+0001 and U+0001 → U+0001 U+0002, so
 *   the terminator sorts below every character a segment can contain.
 * Numbers sort before strings. {@link formatKey} renders a key as `src:3:pending` for humans.
 */
export type KeySegment = string | number;

const TERMINATOR = '\u0000';
const ESCAPE = '\u0001';
const TAG_NUMBER = 'n';
const TAG_STRING = 's';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Float64Array shares the platform's byte order; we read the high word by index.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function encodeNumber(value: number): string {
  f64[0] = value === 0 ? 0 : value;
  let hi = u32[HI]!;
  let lo = u32[LO]!;
  if (hi & 0x80000000) {
    hi = ~hi;
    lo = ~lo;
  } else {
    hi |= 0x80000000;
  }
  return hex8(hi) + hex8(lo);
}

function decodeNumber(body: string, key: string): number {
  if (!/^[0-9a-f]{16}$/.test(body)) throw corrupt(key, `bad number segment "${body}"`);
  let hi = parseInt(body.slice(0, 8), 16);
  let lo = parseInt(body.slice(8), 16);
  if (hi & 0x80000000) hi &= 0x7fffffff;
  else {
    hi = ~hi;
    lo = ~lo;
  }
  u32[HI] = hi >>> 0;
  u32[LO] = lo >>> 0;
  return f64[0]!;
}

function corrupt(key: string, why: string): ShelfError {
  return new ShelfError('INVALID_ARGUMENT', `key ${JSON.stringify(key)} is not a structured key: ${why}`);
}

function encodeSegment(segment: KeySegment, index: number): string {
  if (typeof segment === 'number') {
    if (!Number.isFinite(segment)) {
      throw new ShelfError('INVALID_ARGUMENT', `segments[${index}] must be a finite number, got ${segment}`);
    }
    return TAG_NUMBER + encodeNumber(segment) + TERMINATOR;
  }
  if (typeof segment === 'string') {
    let body = segment;
    if (body.includes(TERMINATOR) || body.includes(ESCAPE)) {
      body = body.replace(/[\u0000\u0001]/g, (c) => (c === TERMINATOR ? ESCAPE + ESCAPE : ESCAPE + '\u0002'));
    }
    return TAG_STRING + body + TERMINATOR;
  }
  throw new ShelfError('INVALID_ARGUMENT', `segments[${index}] must be a string or number, got ${segment === null ? 'null' : typeof segment}`);
}

/**
 * Encodes a tuple as a key. The key of a tuple is also the scan prefix of every longer
 * tuple that starts with it.
 *
 * @example
 * ```ts
 * const key = encodeKey(['src', 3, 'pending', pathHash]);
 * const pendingAtLevel3 = encodeKey(['src', 3, 'pending']); // use as `prefix`
 * ```
 */
export function encodeKey(segments: readonly KeySegment[]): string {
  if (!Array.isArray(segments)) {
    throw new ShelfError('INVALID_ARGUMENT', `segments must be an array, got ${typeof segments}`);
  }
  let out = '';
  for (let i = 0; i < segments.length; i++) out += encodeSegment(segments[i]!, i);
  return out;
}

/** Decodes a key made by {@link encodeKey} back into its tuple. */
export function decodeKey(key: string): KeySegment[] {
  if (typeof key !== 'string') throw new ShelfError('INVALID_ARGUMENT', `key must be a string, got ${typeof key}`);
  const out: KeySegment[] = [];
  let i = 0;
  while (i < key.length) {
    const tag = key[i++];
    if (tag === TAG_NUMBER) {
      const end = key.indexOf(TERMINATOR, i);
      if (end < 0) throw corrupt(key, 'unterminated number segment');
      out.push(decodeNumber(key.slice(i, end), key));
      i = end + 1;
    } else if (tag === TAG_STRING) {
      let text = '';
      for (;;) {
        if (i >= key.length) throw corrupt(key, 'unterminated string segment');
        const c = key[i++]!;
        if (c === TERMINATOR) break;
        if (c === ESCAPE) {
          const next = key[i++];
          if (next === ESCAPE) text += TERMINATOR;
          else if (next === '\u0002') text += ESCAPE;
          else throw corrupt(key, 'bad escape');
        } else text += c;
      }
      out.push(text);
    } else {
      throw corrupt(key, `unknown segment tag ${JSON.stringify(tag)}`);
    }
  }
  return out;
}

/** Renders a structured key for logs and debugging, e.g. `src:3:pending:ab12`. */
export function formatKey(key: string): string {
  return decodeKey(key).map(String).join(':');
}

/** Field types of a {@link KeySpace}. */
export type KeyFieldType = 'string' | 'number';
type FieldValue<T extends KeyFieldType> = T extends 'number' ? number : string;
/** The object form of a key in a key space. */
export type KeyFields<F extends Record<string, KeyFieldType>> = { [K in keyof F]: FieldValue<F[K]> };

/** A named family of structured keys; see {@link defineKeySpace}. */
export interface KeySpace<F extends Record<string, KeyFieldType>> {
  readonly name: string;
  /** The full key of one record. */
  key(fields: KeyFields<F>): string;
  /**
   * The prefix covering every key whose leading fields equal `fields`. Fields must be a
   * leading run of the space's fields (you cannot skip one); `{}` gives the whole space.
   */
  prefix(fields?: Partial<KeyFields<F>>): string;
  /** Parses a key of this space back into fields; `INVALID_ARGUMENT` for any other key. */
  parse(key: string): KeyFields<F>;
}

/**
 * Declares a key space: a name segment followed by typed fields, in order.
 *
 * @example
 * ```ts
 * const nodes = defineKeySpace('node', { queue: 'string', level: 'number', status: 'string', hash: 'string' });
 * nodes.key({ queue: 'src', level: 3, status: 'pending', hash: 'ab12' });
 * nodes.prefix({ queue: 'src', level: 3, status: 'pending' }); // all pending nodes at level 3 of src
 * ```
 */
export function defineKeySpace<const F extends Record<string, KeyFieldType>>(name: string, fields: F): KeySpace<F> {
  if (typeof name !== 'string' || !name) throw new ShelfError('INVALID_ARGUMENT', 'name must be a non-empty string');
  const names = Object.keys(fields) as (keyof F & string)[];
  const check = (field: string, value: unknown) => {
    const type = fields[field];
    if (typeof value !== type) {
      throw new ShelfError('INVALID_ARGUMENT', `key field "${field}" of "${name}" must be a ${type}, got ${typeof value}`);
    }
  };
  return {
    name,
    key(values) {
      return encodeKey([name, ...names.map((f) => (check(f, values[f]), values[f] as KeySegment))]);
    },
    prefix(values = {}) {
      const segments: KeySegment[] = [name];
      let gap: string | undefined;
      for (const f of names) {
        const v = values[f];
        if (v === undefined) {
          gap ??= f;
          continue;
        }
        if (gap !== undefined) {
          throw new ShelfError('INVALID_ARGUMENT', `prefix of "${name}" sets "${f}" but skips "${gap}"; prefix fields must be leading`);
        }
        check(f, v);
        segments.push(v as KeySegment);
      }
      return encodeKey(segments);
    },
    parse(key) {
      const segments = decodeKey(key);
      if (segments[0] !== name || segments.length !== names.length + 1) {
        throw corrupt(key, `not a key of space "${name}"`);
      }
      const out = {} as Record<string, KeySegment>;
      names.forEach((f, i) => {
        const v = segments[i + 1]!;
        if (typeof v !== fields[f]) throw corrupt(key, `field "${f}" is not a ${fields[f]}`);
        out[f] = v;
      });
      return out as KeyFields<F>;
    },
  };
}
