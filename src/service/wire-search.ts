import { transfer } from 'comlink';
import type { MatchResults, SearchResults, TextRange } from '../search/index.ts';

/**
 * Highlight ranges of a page of hits packed for the thread hop: per hit its range count,
 * then `line, column, length, offset` per range, in one `Uint32Array` whose buffer is
 * transferred. Twenty hits with 64 ranges each are 1,280 small objects, which structured
 * clone copies one property at a time (about 0.7 ms in each direction); packed, the hop
 * moves one buffer and the page rebuilds the objects in a few microseconds.
 * @internal
 */
export type PackedRanges = Uint32Array;

/** A keyword answer as it crosses the thread boundary. @internal */
export interface WireSearchResults extends Omit<SearchResults, 'hits'> {
  readonly hits: readonly { readonly id: string; readonly score: number }[];
  readonly ranges: PackedRanges;
}

/** A regex or substring answer as it crosses the thread boundary. @internal */
export interface WireMatchResults extends Omit<MatchResults, 'matches'> {
  readonly matches: readonly { readonly id: string }[];
  readonly ranges: PackedRanges;
}

function pack(lists: readonly (readonly TextRange[])[]): PackedRanges {
  let n = lists.length;
  for (const list of lists) n += list.length * 4;
  const out = new Uint32Array(n);
  let at = 0;
  for (const list of lists) {
    out[at++] = list.length;
    for (const r of list) {
      out[at++] = r.line;
      out[at++] = r.column;
      out[at++] = r.length;
      out[at++] = r.offset;
    }
  }
  return out;
}

/** Reads the range lists of `count` hits back, in order. */
function unpack(packed: PackedRanges, count: number): TextRange[][] {
  const lists: TextRange[][] = [];
  let at = 0;
  for (let h = 0; h < count; h++) {
    const n = packed[at++]!;
    const list: TextRange[] = new Array(n);
    for (let i = 0; i < n; i++, at += 4) list[i] = { line: packed[at]!, column: packed[at + 1]!, length: packed[at + 2]!, offset: packed[at + 3]! };
    lists.push(list);
  }
  return lists;
}

/** In the worker: a keyword answer with its ranges packed and their buffer transferred. @internal */
export function packSearchResults(results: SearchResults): WireSearchResults {
  const { hits, ...rest } = results;
  const ranges = pack(hits.map((h) => h.ranges));
  return transfer({ ...rest, hits: hits.map(({ id, score }) => ({ id, score })), ranges }, [ranges.buffer]);
}

/** On the page: the keyword answer back as {@link SearchResults}. @internal */
export function unpackSearchResults(wire: WireSearchResults): SearchResults {
  const { hits, ranges, ...rest } = wire;
  const lists = unpack(ranges, hits.length);
  return { ...rest, hits: hits.map(({ id, score }, i) => ({ id, score, ranges: lists[i]! })) };
}

/** In the worker: a regex or substring answer with its ranges packed. @internal */
export function packMatchResults(results: MatchResults): WireMatchResults {
  const { matches, ...rest } = results;
  const ranges = pack(matches.map((m) => m.ranges));
  return transfer({ ...rest, matches: matches.map(({ id }) => ({ id })), ranges }, [ranges.buffer]);
}

/** On the page: the regex or substring answer back as {@link MatchResults}. @internal */
export function unpackMatchResults(wire: WireMatchResults): MatchResults {
  const { matches, ranges, ...rest } = wire;
  const lists = unpack(ranges, matches.length);
  return { ...rest, matches: matches.map(({ id }, i) => ({ id, ranges: lists[i]! })) };
}
