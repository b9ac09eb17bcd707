import { compileGlob } from './glob.ts';
import type { SegmentHead } from './segment.ts';
import { intersect, unionAll } from './sorted-set.ts';

/**
 * The local ids of `head` that pass `filters` (from {@link normalizeFilters}), or null
 * when there is no filter. Exact fields are hash-index lookups; `path` globs are tested
 * once per distinct path value. Results are cached on the head, which never changes.
 * @internal
 */
export function filterDocs(head: SegmentHead, filters: readonly [string, string[]][]): Uint32Array | null {
  if (filters.length === 0) return null;
  const key = JSON.stringify(filters);
  const cached = head.filterCache.get(key);
  if (cached !== undefined) return cached;
  let acc: Uint32Array | null = null;
  for (const [field, alternatives] of filters) {
    let lists: Uint32Array[];
    if (field === 'path') {
      const tests = alternatives.map((g) => compileGlob(g, 'options.filters.path'));
      const col = head.fields.get('path');
      lists = [];
      if (col !== undefined) {
        for (const value of col.values) if (tests.some((t) => t(value))) lists.push(head.docsWithValue('path', value));
      }
    } else {
      lists = alternatives.map((v) => head.docsWithValue(field, v));
    }
    const docs = unionAll(lists, head.docCount);
    acc = acc === null ? docs : intersect(acc, docs);
    if (acc.length === 0) break;
  }
  if (head.filterCache.size >= 32) head.filterCache.delete(head.filterCache.keys().next().value!);
  head.filterCache.set(key, acc!);
  return acc;
}
