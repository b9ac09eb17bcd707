import { ShelfError } from '../errors/index.ts';
import type { ResolvedRange, ScanOptions } from './types.ts';

/**
 * The smallest string greater than every string that starts with `prefix`, or `undefined`
 * when there is none (a prefix made only of U+FFFF code units).
 * @internal
 */
export function prefixSuccessor(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xffff) end--;
  if (end === 0) return undefined;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}

function maxLower(a: { key?: string; open: boolean }, b: { key?: string; open: boolean }) {
  if (a.key === undefined) return b;
  if (b.key === undefined) return a;
  if (a.key === b.key) return { key: a.key, open: a.open || b.open };
  return a.key > b.key ? a : b;
}

function minUpper(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

/**
 * Intersects prefix, `[start, end)` and the `after` cursor into one range.
 * @internal
 */
export function resolveRange(options: ScanOptions = {}): ResolvedRange {
  const { prefix, start, end, after, reverse } = options;
  for (const [name, value] of [['prefix', prefix], ['start', start], ['end', end], ['after', after]] as const) {
    if (value !== undefined && typeof value !== 'string') {
      throw new ShelfError('INVALID_ARGUMENT', `scan option "${name}" must be a string, got ${typeof value}`);
    }
  }
  let lower: { key?: string; open: boolean } = { open: false };
  let upper: string | undefined;
  if (prefix !== undefined && prefix !== '') {
    lower = { key: prefix, open: false };
    upper = prefixSuccessor(prefix);
  }
  if (start !== undefined) lower = maxLower(lower, { key: start, open: false });
  upper = minUpper(upper, end);
  if (after !== undefined) {
    if (reverse) upper = minUpper(upper, after);
    else lower = maxLower(lower, { key: after, open: true });
  }
  const empty =
    lower.key !== undefined && upper !== undefined && (lower.key > upper || lower.key === upper);
  const range: { lower?: string; lowerOpen: boolean; upper?: string; empty: boolean } = {
    lowerOpen: lower.open,
    empty,
  };
  if (lower.key !== undefined) range.lower = lower.key;
  if (upper !== undefined) range.upper = upper;
  return range;
}

/** True when `key` lies inside `range`. @internal */
export function inRange(key: string, range: ResolvedRange): boolean {
  if (range.empty) return false;
  if (range.lower !== undefined) {
    if (range.lowerOpen ? key <= range.lower : key < range.lower) return false;
  }
  return range.upper === undefined || key < range.upper;
}
