import { ShelfError } from '../errors/index.ts';
import type { Doc, Filter } from './types.ts';

const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

/** Structural equality for msgpack-able values. @internal */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function getPath(doc: Doc, path: readonly string[]): unknown {
  let v: unknown = doc;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

const ordered = (v: unknown): v is number | string => typeof v === 'number' || typeof v === 'string';

/**
 * Compiles a filter into a predicate. Equality on fields (deep for objects and arrays),
 * ranges (`$gt`, `$gte`, `$lt`, `$lte` on numbers or strings of the same type), `$in`,
 * `$nin`, `$ne`, `$exists`. Dotted paths reach into nested objects. Unknown operators are
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
