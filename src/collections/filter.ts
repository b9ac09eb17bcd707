import { ShelfError } from '../errors/index.ts';
import type { Doc, Filter } from './types.ts';

const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

/** An object with no class: what documents and filters are made of (`Object.create(null)` counts too). */
function isBareObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Structural equality for msgpack-able values, as filters use it. Numbers: `0` equals `-0`
 * (as the range operators have it, and SQL and MongoDB), `NaN` equals `NaN`. Objects are
 * equal only when of the same kind: arrays item by item; dates by time; regular
 * expressions by source and flags; typed arrays and `ArrayBuffer`s of the same type byte
 * by byte; `Map`s and `Set`s by their entries, whatever their order; other objects with
 * the same prototype (plain objects, or instances of one class) by their own enumerable
 * keys. So `{}` does not match a `Date`, an empty `Map` or `Set`, or empty bytes (before,
 * only the keys were compared, and these have none).
 * @internal
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  // Typed arrays by their element type, not their class: a Node Buffer is a Uint8Array
  // (and is read back from a file as one), so it equals the same bytes as a Uint8Array.
  if (ArrayBuffer.isView(a) && !(a instanceof DataView)) {
    return ArrayBuffer.isView(b) && !(b instanceof DataView) && tag(a) === tag(b) && sameBytes(a, b);
  }
  if (isBareObject(a) !== isBareObject(b) || (!isBareObject(a) && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b))) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof RegExp) return String(a) === String(b);
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) return sameBytes(a, b as ArrayBufferView | ArrayBuffer);
  if (a instanceof Map) return sameMaps(a, b as Map<unknown, unknown>);
  if (a instanceof Set) return sameSets(a, b as Set<unknown>);
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const tag = (v: object) => Object.prototype.toString.call(v);

function sameBytes(a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer): boolean {
  const x = ArrayBuffer.isView(a) ? new Uint8Array(a.buffer, a.byteOffset, a.byteLength) : new Uint8Array(a);
  const y = ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameSets(a: Set<unknown>, b: Set<unknown>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x) || [...b].some((y) => deepEqual(x, y)));
}

function sameMaps(a: Map<unknown, unknown>, b: Map<unknown, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    if (b.has(k) ? !deepEqual(v, b.get(k)) : ![...b].some(([k2, v2]) => deepEqual(k, k2) && deepEqual(v, v2))) return false;
  }
  return true;
}

/**
 * The value at `path`, following own properties only: `constructor`, `__proto__` or a
 * date's `getTime` are not fields of a document (before, `{ constructor: { $exists: true } }`
 * matched every document). An own `__proto__` key (as `JSON.parse` makes) is a field like
 * any other. Array indices and an array's `length` are own properties.
 */
function getPath(doc: Doc, path: readonly string[]): unknown {
  let v: unknown = doc;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

const ordered = (v: unknown): v is number | string => typeof v === 'number' || typeof v === 'string';

/**
 * Compiles a filter into a predicate. Equality on fields (deep for objects and arrays, see
 * {@link deepEqual}: `0` equals `-0`, kinds must match), ranges (`$gt`, `$gte`, `$lt`,
 * `$lte` on numbers or strings of the same type), `$in`, `$nin`, `$ne`, `$exists`. Dotted
 * paths reach into nested objects through own properties only. Unknown operators are
 * `INVALID_ARGUMENT`.
 */
export function compileFilter(filter: Filter | undefined): (doc: Doc) => boolean {
  if (filter === undefined) return () => true;
  if (!isPlainObject(filter)) throw new ShelfError('INVALID_ARGUMENT', 'filter must be a plain object');
  const tests: ((doc: Doc) => boolean)[] = [];
  for (const [field, condition] of Object.entries(filter)) {
    const path = field.split('.');
    const isOps = isPlainObject(condition) && Object.keys(condition).length > 0 && Object.keys(condition).every((k) => k.startsWith('$'));
    if (!isOps) {
      tests.push((doc) => deepEqual(getPath(doc, path), condition));
      continue;
    }
    for (const [op, arg] of Object.entries(condition)) {
      if (!OPERATORS.has(op)) throw new ShelfError('INVALID_ARGUMENT', `filter.${field}: unknown operator ${op}`);
      if ((op === '$in' || op === '$nin') && !Array.isArray(arg)) {
        throw new ShelfError('INVALID_ARGUMENT', `filter.${field}.${op} must be an array`);
      }
      if (['$gt', '$gte', '$lt', '$lte'].includes(op) && !ordered(arg)) {
        throw new ShelfError('INVALID_ARGUMENT', `filter.${field}.${op} must be a number or string`);
      }
      const get = (doc: Doc) => getPath(doc, path);
      const cmp = (v: unknown, pass: (v: number | string) => boolean) => ordered(v) && typeof v === typeof arg && pass(v);
      switch (op) {
        case '$eq': tests.push((d) => deepEqual(get(d), arg)); break;
        case '$ne': tests.push((d) => !deepEqual(get(d), arg)); break;
        case '$gt': tests.push((d) => cmp(get(d), (v) => (v as number) > (arg as number))); break;
        case '$gte': tests.push((d) => cmp(get(d), (v) => (v as number) >= (arg as number))); break;
        case '$lt': tests.push((d) => cmp(get(d), (v) => (v as number) < (arg as number))); break;
        case '$lte': tests.push((d) => cmp(get(d), (v) => (v as number) <= (arg as number))); break;
        case '$in': tests.push((d) => (arg as unknown[]).some((x) => deepEqual(get(d), x))); break;
        case '$nin': tests.push((d) => !(arg as unknown[]).some((x) => deepEqual(get(d), x))); break;
        case '$exists': tests.push((d) => (get(d) !== undefined) === Boolean(arg)); break;
      }
    }
  }
  return (doc) => tests.every((t) => t(doc));
}
