import { Packr, RESET_BUFFER_MODE } from 'msgpackr';

/**
 * The size of a document as MessagePack (msgpackr without records): what the engine counts
 * for each document against its memory limit, and the check that a document can be
 * encoded at all.
 *
 * For JSON-like values (strings, numbers, booleans, null, undefined, plain arrays and
 * plain objects) the size is counted here, byte for byte what msgpackr would write (a
 * property test compares the two); anything else (a `Map`, a `Date`, a typed array, a
 * class instance, an object whose `constructor` is not `Object`, a cycle, more nesting
 * than {@link MAX_DEPTH}) is packed as before, so
 * what msgpackr refuses still fails the same way. Packing every inserted document only to
 * learn its length took 405–451 ms per 100k code-analysis documents, more than saving
 * them; counting them takes 97–106 ms (bench:collections, two runs).
 */
const sizer = new Packr({ useRecords: false });

/** Nesting counted here at most; deeper documents are packed. */
const MAX_DEPTH = 64;
/** Signals a value not counted here. */
const NOT_PLAIN = -1;
/** Keys kept per depth (the first ones of an object). */
const KEYS_KEPT = 64;
/** Per depth, the keys of the last object counted there and their sizes. */
const keyCache: { keys: string[]; sizes: number[] }[] = [];

const NON_ASCII = /[^\0-\x7f]/;

/** Bytes of `text` in UTF-8, a lone surrogate counted as the 3 bytes of U+FFFD. */
function utf8Length(text: string): number {
  const n = text.length;
  // Native code finds out whether there is anything to count (most code is ASCII).
  if (!NON_ASCII.test(text)) return n;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // the pair: 4 bytes for 2 units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

function stringSize(text: string): number {
  const bytes = utf8Length(text);
  return bytes + (bytes < 0x20 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5);
}

function numberSize(v: number): number {
  if (v >>> 0 === v) return v < 0x80 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : 5;
  if (v >> 0 === v) return v >= -0x20 ? 1 : v >= -0x80 ? 2 : v >= -0x8000 ? 3 : 5;
  return 9;
}

function size(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'string':
      return stringSize(v);
    case 'number':
      return numberSize(v);
    case 'boolean':
      return 1;
    case 'undefined':
      return 3;
    case 'object': {
      if (v === null) return 1;
      if (depth >= MAX_DEPTH) return NOT_PLAIN;
      // msgpackr picks how to pack an object by its `constructor` (an own `constructor` key,
      // as JSON can hold, sends it down another path): counted only where both agree.
      const proto = Object.getPrototypeOf(v);
      const made = (v as { constructor?: unknown }).constructor;
      if (proto === Array.prototype && made === Array && Array.isArray(v)) {
        const n = v.length;
        let total = n < 0x10 ? 1 : n < 0x10000 ? 3 : 5;
        for (let i = 0; i < n; i++) {
          const s = size(v[i], depth + 1);
          if (s === NOT_PLAIN) return NOT_PLAIN;
          total += s;
        }
        return total;
      }
      if (proto !== Object.prototype || made !== Object) return NOT_PLAIN;
      const o = v as Record<string, unknown>;
      // A plain object is a map with a 16-bit count, whatever its size (msgpackr's default).
      let total = 3;
      let keys = 0;
      const known = (keyCache[depth] ??= { keys: [], sizes: [] });
      for (const key in o) {
        if (!Object.hasOwn(o, key)) return NOT_PLAIN;
        const s = size(o[key], depth + 1);
        if (s === NOT_PLAIN) return NOT_PLAIN;
        // Documents mostly share their keys: the size of the key the last object at this
        // depth had in this place is taken when it is the same string.
        let k: number;
        if (known.keys[keys] === key) k = known.sizes[keys]!;
        else {
          k = stringSize(key);
          if (keys < KEYS_KEPT) {
            known.keys[keys] = key;
            known.sizes[keys] = k;
          }
        }
        total += k + s;
        keys++;
      }
      return keys > 0xffff ? NOT_PLAIN : total;
    }
    default:
      return NOT_PLAIN;
  }
}

/** The largest buffer msgpackr packs into where `Buffer` is missing (browsers); beyond it, it throws. */
const LARGEST = 0x7fd00000;

/** The MessagePack size of `doc` (see the module comment); throws what msgpackr throws for a document it cannot encode. */
export function packedSize(doc: unknown): number {
  const counted = size(doc, 0);
  // Only the length is used: the pack goes over msgpackr's one buffer, as frames do (see `pack` in src/codec/frame.ts).
  return counted === NOT_PLAIN || counted > LARGEST ? sizer.pack(doc, RESET_BUFFER_MODE).length : counted;
}
