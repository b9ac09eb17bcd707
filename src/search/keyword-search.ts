import { highlightSpec, highlightText, highlightWindows } from './highlight.ts';
import type { QueryNode } from './query-parser.ts';
import type { SegmentBody, SegmentHead } from './segment.ts';
import {
  countUnmasked, difference, EMPTY, intersect, intersectAll, rangeList, seek, unionAll, withoutMasked,
} from './sorted-set.ts';
import { TopK } from './top-k.ts';
import type { QueryBudget } from './budget.ts';
import type { SearchHit } from './types.ts';

/** One segment as a query sees it: an immutable head and body plus a snapshot of its deletions. @internal */
export interface SearchView {
  readonly head: SegmentHead;
  readonly body: SegmentBody;
  /** 1 = deleted; a copy taken when the query started. */
  readonly deleted: Uint8Array | null;
  /** Local ids passing the filters, or null for no filter. */
  readonly filter: Uint32Array | null;
}

/** BM25 parameters. */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/**
 * `ln(1 + (N - df + 0.5) / (df + 0.5))`, positive when `df ≤ N`. df is clamped to N: past
 * N + 0.5 the logarithm turns negative and a term's occurrences would lower a score.
 */
function idf(docs: number, df: number): number {
  const d = Math.min(df, docs);
  return Math.log(1 + (docs - d + 0.5) / (d + 0.5));
}

class ViewEvaluator {
  readonly #view: SearchView;
  #universe: Uint32Array | null = null;
  /** Leaf results, reused by scoring. */
  readonly leaves = new Map<QueryNode, Uint32Array>();
  #scratchA = new Uint32Array(64);
  #scratchB = new Uint32Array(64);

  constructor(view: SearchView) {
    this.#view = view;
  }

  get universe(): Uint32Array {
    this.#universe ??= rangeList(this.#view.head.docCount);
    return this.#universe;
  }

  /** The final match list: the query, minus deleted documents, within the filter. */
  run(node: QueryNode): Uint32Array {
    const { deleted, filter } = this.#view;
    let docs: Uint32Array;
    if (node.kind === 'and' && filter !== null) docs = this.#and(node.children, filter);
    else {
      docs = this.eval(node);
      if (filter !== null) docs = intersect(docs, filter);
    }
    return withoutMasked(docs, deleted);
  }

  eval(node: QueryNode): Uint32Array {
    const body = this.#view.body;
    switch (node.kind) {
      case 'all':
        return this.universe;
      case 'none':
        return EMPTY;
      case 'term': {
        const t = body.terms.findTerm(node.term);
        const docs = t < 0 ? EMPTY : body.postings(t);
        this.leaves.set(node, docs);
        return docs;
      }
      case 'prefix': {
        const [from, to] = body.terms.prefixRange(node.prefix);
        const lists: Uint32Array[] = [];
        for (let t = from; t < to; t++) lists.push(body.postings(t));
        const docs = unionAll(lists, this.#view.head.docCount);
        this.leaves.set(node, docs);
        return docs;
      }
      case 'phrase': {
        const docs = this.#phrase(node.terms, node.offsets);
        this.leaves.set(node, docs);
        return docs;
      }
      case 'and':
        return this.#and(node.children, null);
      case 'or':
        return unionAll(node.children.map((c) => this.eval(c)), this.#view.head.docCount);
      case 'not':
        return difference(this.universe, this.eval(node.child));
    }
  }

  #and(children: readonly QueryNode[], extra: Uint32Array | null): Uint32Array {
    const positives: Uint32Array[] = extra === null ? [] : [extra];
    const negatives: QueryNode[] = [];
    for (const c of children) {
      if (c.kind === 'not') negatives.push(c.child);
      else positives.push(this.eval(c));
    }
    let docs = positives.length > 0 ? intersectAll(positives) : this.universe;
    for (const n of negatives) {
      if (docs.length === 0) break;
      docs = difference(docs, this.eval(n));
    }
    return docs;
  }

  #phrase(terms: readonly string[], offsets: readonly number[]): Uint32Array {
    const body = this.#view.body;
    const ids = terms.map((t) => body.terms.findTerm(t));
    if (ids.some((t) => t < 0)) return EMPTY;
    const lists = ids.map((t) => body.postings(t));
    const candidates = intersectAll(lists);
    const out = new Uint32Array(candidates.length);
    let n = 0;
    // Rarest terms first: their few positions give few start candidates, and a start that
    // fails is dropped before the positions of frequent terms (`a`, `0`) are decoded.
    const order = ids.map((_, i) => i).sort((a, b) => lists[a]!.length - lists[b]!.length || a - b);
    const cursors = new Int32Array(ids.length);
    // Per term: the last posting whose positions were located, and their byte offset.
    const posPosting = Float64Array.from(ids, (t) => body.postStart[t]!);
    const posByte = Float64Array.from(ids, (t) => body.positionOffset(body.postStart[t]!));
    for (let c = 0; c < candidates.length; c++) {
      const doc = candidates[c]!;
      let count = 0;
      for (let k = 0; k < order.length; k++) {
        const i = order[k]!;
        const list = lists[i]!;
        cursors[i] = seek(list, cursors[i]!, doc);
        const p = body.postStart[ids[i]!]! + cursors[i]!;
        // Far ahead, jump through the skip table instead of walking every posting between.
        const at = p - posPosting[i]! > 64 ? body.positionOffset(p) : body.skipPositions(posPosting[i]!, posByte[i]!, p);
        posPosting[i] = p;
        posByte[i] = at;
        const freq = body.freq(p);
        const off = offsets[i]!;
        if (k === 0) {
          if (freq > this.#scratchA.length) this.#scratchA = new Uint32Array(freq * 2);
          const m = body.positions(p, at, this.#scratchA);
          // Phrase starts implied by this term's positions.
          const a = this.#scratchA;
          for (let x = 0; x < m; x++) if (a[x]! >= off) a[count++] = a[x]! - off;
          if (count === 0) break;
          continue;
        }
        if (freq > this.#scratchB.length) this.#scratchB = new Uint32Array(freq * 2);
        const m = body.positions(p, at, this.#scratchB);
        // Keep the starts s where term i sits at s + offset i.
        const a = this.#scratchA;
        const b = this.#scratchB;
        let kept = 0;
        let j = 0;
        for (let x = 0; x < count; x++) {
          const want = a[x]! + off;
          while (j < m && b[j]! < want) j++;
          if (j < m && b[j] === want) a[kept++] = a[x]!;
        }
        count = kept;
        if (count === 0) break;
      }
      if (count > 0) out[n++] = doc;
    }
    return out.slice(0, n);
  }
}

/** The leaves that contribute to the score: positive terms, prefixes and phrase terms. */
function scoringLeaves(node: QueryNode, out: QueryNode[] = []): QueryNode[] {
  switch (node.kind) {
    case 'term':
    case 'prefix':
    case 'phrase':
      out.push(node);
      break;
    case 'and':
    case 'or':
      for (const c of node.children) scoringLeaves(c, out);
      break;
    default:
      break;
  }
  return out;
}

/** Corpus statistics for BM25. @internal */
export interface CorpusStats {
  readonly docs: number;
  readonly tokens: number;
}

/** Options of {@link searchKeyword}. @internal */
export interface KeywordPage {
  readonly offset: number;
  readonly limit: number;
  readonly highlight: boolean;
}

/**
 * Evaluates a parsed query over segment views with BM25 ranking. Boolean structure is
 * computed on sorted doc lists per segment; only matching documents are scored, into a
 * bounded top-k heap, and only the returned page is materialized (and highlighted).
 * @internal
 */
export function searchKeyword(
  node: QueryNode, views: readonly SearchView[], stats: CorpusStats, page: KeywordPage, budget: QueryBudget,
): { hits: SearchHit[]; total: number; truncated: boolean } {
  const leaves = scoringLeaves(node);
  const evaluators: ViewEvaluator[] = [];
  const matched: Uint32Array[] = [];
  let total = 0;
  for (const view of views) {
    if (budget.spent()) break;
    const ev = new ViewEvaluator(view);
    const docs = node.kind === 'none' ? EMPTY : ev.run(node);
    evaluators.push(ev);
    matched.push(docs);
    total += docs.length;
  }
  const truncated = budget.expired;

  // Document frequencies over live documents, the population N counts: a term counts its
  // postings in every segment minus the deleted ones; a prefix counts the union of its
  // expansions; a phrase scores as its terms. Counting deleted copies too (Lucene's choice,
  // but Lucene's N counts them as well) let df pass N after updates, and idf went negative.
  // The pass over deletions reads only the query terms' lists in segments that have
  // deletions, lists that evaluating the query already walks; other segments answer with
  // the list length. Scores therefore do not change when a merge purges deleted copies.
  const df = new Map<string, number>();
  const termDf = (term: string) => {
    let n = df.get(term);
    if (n === undefined) {
      n = 0;
      for (const v of views) {
        const t = v.body.terms.findTerm(term);
        if (t >= 0) n += v.deleted === null ? v.body.docFreq(t) : countUnmasked(v.body.postings(t), v.deleted);
      }
      df.set(term, n);
    }
    return n;
  };
  const prefixDf = new Map<QueryNode, number>();
  for (const leaf of leaves) {
    if (leaf.kind !== 'prefix') continue;
    let n = 0;
    for (let v = 0; v < evaluators.length; v++) n += countUnmasked(evaluators[v]!.leaves.get(leaf) ?? EMPTY, views[v]!.deleted);
    prefixDf.set(leaf, n);
  }
  const N = Math.max(stats.docs, 1);
  const avgdl = stats.tokens > 0 ? stats.tokens / N : 1;

  const heap = new TopK(Math.min(page.offset + page.limit, total));
  let tf = new Float64Array(0);
  for (let v = 0; v < evaluators.length; v++) {
    const docs = matched[v]!;
    if (docs.length === 0) continue;
    const { head, body } = views[v]!;
    const scores = new Float64Array(docs.length);
    const addTerm = (t: number, weight: number, acc: Float64Array | null) => {
      const from = body.postStart[t]!;
      const list = body.postings(t);
      let j = 0;
      for (let i = 0; i < docs.length && j < list.length; i++) {
        const doc = docs[i]!;
        j = seek(list, j, doc);
        if (j < list.length && list[j] === doc) {
          const f = body.freq(from + j);
          if (acc !== null) acc[i]! += f;
          else {
            const norm = BM25_K1 * (1 - BM25_B + (BM25_B * head.docLengths[doc]!) / avgdl);
            scores[i]! += (weight * f * (BM25_K1 + 1)) / (f + norm);
          }
        }
      }
    };
    for (const leaf of leaves) {
      if (leaf.kind === 'term') {
        const t = body.terms.findTerm(leaf.term);
        if (t >= 0) addTerm(t, idf(N, termDf(leaf.term)), null);
      } else if (leaf.kind === 'phrase') {
        for (const term of leaf.terms) {
          const t = body.terms.findTerm(term);
          if (t >= 0) addTerm(t, idf(N, termDf(term)), null);
        }
      } else if (leaf.kind === 'prefix') {
        // A prefix scores as one pseudo-term whose frequency sums its expansions.
        if (tf.length < docs.length) tf = new Float64Array(docs.length);
        tf.fill(0, 0, docs.length);
        const [from, to] = body.terms.prefixRange(leaf.prefix);
        for (let t = from; t < to; t++) addTerm(t, 0, tf);
        const w = idf(N, prefixDf.get(leaf) ?? 0);
        for (let i = 0; i < docs.length; i++) {
          const f = tf[i]!;
          if (f === 0) continue;
          const norm = BM25_K1 * (1 - BM25_B + (BM25_B * head.docLengths[docs[i]!]!) / avgdl);
          scores[i]! += (w * f * (BM25_K1 + 1)) / (f + norm);
        }
      }
    }
    for (let i = 0; i < docs.length; i++) heap.offer(scores[i]!, head.docNums[docs[i]!]!, v, docs[i]!);
  }

  const spec = page.highlight ? highlightSpec(node) : null;
  const hits: SearchHit[] = heap.sorted().slice(page.offset).map((r) => {
    const view = views[r.view]!;
    return {
      id: view.head.ids[r.local]!,
      score: r.score,
      ranges: spec === null ? [] : highlightText(view.body.texts[r.local]!, spec, view.body.lineIndex(r.local), 64,
        highlightWindows(view.body, r.local, spec)),
    };
  });
  return { hits, total, truncated };
}
