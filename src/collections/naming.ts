/**
 * Collection file names: `{encodeURIComponent(name)}.{generation}.csc`.
 * @internal
 */
import { isWellFormed } from '../codec/well-formed.ts';
import { ShelfError } from '../errors/index.ts';

const EXT = '.csc';

/**
 * Throws `INVALID_ARGUMENT` unless `name` can name a collection: a string of 1 to 200
 * characters that is well-formed UTF-16. A lone surrogate (half of a pair, as text cut
 * inside an emoji has) cannot be in a file name: `encodeURIComponent` throws on it, so such
 * a collection could never be saved (and every later `close` failed on it).
 */
export function checkName(name: unknown, argument = 'name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new ShelfError('INVALID_ARGUMENT', `${argument} must be a string of 1 to 200 characters, got ${JSON.stringify(name)}`);
  }
  if (!isWellFormed(name)) {
    throw new ShelfError('INVALID_ARGUMENT', `${argument} must not hold a lone surrogate (half of a UTF-16 pair), got ${JSON.stringify(name)}`);
  }
}

export function collectionFileName(name: string, generation: number): string {
  return `${encodeURIComponent(name)}.${generation}${EXT}`;
}

export function parseCollectionFileName(file: string): { name: string; generation: number } | null {
  if (!file.endsWith(EXT)) return null;
  const stem = file.slice(0, -EXT.length);
  const dot = stem.lastIndexOf('.');
  if (dot <= 0) return null;
  const generation = Number(stem.slice(dot + 1));
  if (!Number.isInteger(generation) || generation < 1) return null;
  try {
    return { name: decodeURIComponent(stem.slice(0, dot)), generation };
  } catch {
    return null;
  }
}

let last = 0;
let seq = 0;
/** A unique, roughly time-ordered document id. */
export function newDocId(): string {
  const now = Date.now();
  seq = now === last ? seq + 1 : 0;
  last = now;
  return `${now.toString(36)}${seq.toString(36).padStart(3, '0')}${Math.floor(Math.random() * 36 ** 5).toString(36).padStart(5, '0')}`;
}
