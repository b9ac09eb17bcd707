/**
 * Set algebra on strictly increasing `Uint32Array` doc lists: the only representation the
 * query evaluators pass around, so a query matching 100k documents costs 400 KB, not 100k
 * objects.
 * @internal
 */

/** An empty list, shared. */
export const EMPTY = new Uint32Array(0);

/** `[0, 1, ..., n - 1]`. */
export function rangeList(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** First index `i ≥ from` with `list[i] ≥ target` (galloping then binary search). */
export function seek(list: Uint32Array, from: number, target: number): number {
  const n = list.length;
  if (from >= n || list[from]! >= target) return from;
  let step = 1;
  let lo = from;
  let hi = from + 1;
  while (hi < n && list[hi]! < target) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  if (hi > n) hi = n;
  // list[lo] < target; answer in (lo, hi]
  lo++;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `a ∩ b`. Gallops through the longer list when the lengths differ a lot. */
export function intersect(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length > b.length) [a, b] = [b, a];
  if (a.length === 0) return EMPTY;
  const out = new Uint32Array(a.length);
  let n = 0;
  if (b.length > a.length * 8) {
    let j = 0;
    for (let i = 0; i < a.length && j < b.length; i++) {
      const x = a[i]!;
      j = seek(b, j, x);
      if (j < b.length && b[j] === x) out[n++] = x;
    }
  } else {
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i]!;
      const y = b[j]!;
      if (x === y) {
        out[n++] = x;
        i++;
        j++;
      } else if (x < y) i++;
      else j++;
    }
  }
  return n === out.length ? out : out.slice(0, n);
}

/** Intersection of many lists, smallest first. */
export function intersectAll(lists: Uint32Array[]): Uint32Array {
  if (lists.length === 0) return EMPTY;
  const sorted = [...lists].sort((x, y) => x.length - y.length);
  let acc = sorted[0]!;
  for (let i = 1; i < sorted.length && acc.length > 0; i++) acc = intersect(acc, sorted[i]!);
  return acc;
}

/** `a ∪ b`. */
export function union(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out[n++] = x;
      i++;
      j++;
    } else if (x < y) {
      out[n++] = x;
      i++;
    } else {
      out[n++] = y;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++]!;
  while (j < b.length) out[n++] = b[j++]!;
  return n === out.length ? out : out.slice(0, n);
}

/**
 * Union of many lists. Two-way merges for a few lists; a bitmap over `universe` ids when
 * there are many (prefix expansions can name thousands of terms).
 */
export function unionAll(lists: Uint32Array[], universe: number): Uint32Array {
  if (lists.length === 0) return EMPTY;
  if (lists.length === 1) return lists[0]!;
  if (lists.length <= 4) {
    let acc = lists[0]!;
    for (let i = 1; i < lists.length; i++) acc = union(acc, lists[i]!);
    return acc;
  }
  const seen = new Uint8Array(universe);
  let count = 0;
  for (const list of lists) {
    for (let i = 0; i < list.length; i++) {
      const x = list[i]!;
      if (seen[x] === 0) {
        seen[x] = 1;
        count++;
      }
    }
  }
  const out = new Uint32Array(count);
  let n = 0;
  for (let x = 0; x < universe && n < count; x++) if (seen[x] === 1) out[n++] = x;
  return out;
}

/** `a \ b`. */
export function difference(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length === 0 || b.length === 0) return a;
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    j = seek(b, j, x);
    if (j >= b.length || b[j] !== x) out[n++] = x;
  }
  return n === out.length ? out : out.slice(0, n);
}

/** How many of the ids in `list` are not set in `mask` (all of them when there is no mask). */
export function countUnmasked(list: Uint32Array, mask: Uint8Array | null): number {
  if (mask === null) return list.length;
  let n = 0;
  for (let i = 0; i < list.length; i++) if (mask[list[i]!] === 0) n++;
  return n;
}

/** Keeps the ids whose `mask[id]` is 0 (drops deleted documents). */
export function withoutMasked(list: Uint32Array, mask: Uint8Array | null): Uint32Array {
  if (mask === null) return list;
  let n = countUnmasked(list, mask);
  if (n === list.length) return list;
  const out = new Uint32Array(n);
  n = 0;
  for (let i = 0; i < list.length; i++) {
    const x = list[i]!;
    if (mask[x] === 0) out[n++] = x;
  }
  return out;
}

/**
 * First index in `[0, length)` whose key is not below `target`, for a list sorted by `keyOf`
 * (binary search). With no `keyOf`, the elements are the keys.
 */
export function lowerBound<T, K extends number | string>(
  list: ArrayLike<T>,
  target: K,
  keyOf: (item: T) => K = (item) => item as unknown as K,
): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(list[mid]!) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
