import type { QueryBudget } from './budget.ts';
import type { SearchView } from './keyword-search.ts';
import type { Locator } from './line-index.ts';
import { LiteralFinder } from './literal-finder.ts';
import type { ExistenceTest } from './regex-verify.ts';
import type { SegmentBody } from './segment.ts';
import { EMPTY, intersect, intersectAll, rangeList, union, withoutMasked } from './sorted-set.ts';
import type { TrigramPlan } from './trigram-plan.ts';
import { trigramKeyOf } from './trigram.ts';
import type { MatchHit, TextRange } from './types.ts';

/**
 * Candidate local ids of one segment for a trigram plan, or null for "every document".
 * ANDs decode the rarest trigram first and stop as soon as the intersection is empty.
 * @internal
 */
export function evaluatePlan(plan: TrigramPlan, body: SegmentBody): Uint32Array | null {
  switch (plan.op) {
    case 'all':
      return null;
    case 'none':
      return EMPTY;
    case 'and': {
      const keys = plan.trigrams.map(trigramKeyOf);
      const counts = keys.map((k) => body.trigramCount(k));
      if (counts.some((c) => c === 0)) return EMPTY;
      const order = keys.map((_, i) => i).sort((a, b) => counts[a]! - counts[b]!);
      let acc: Uint32Array | null = null;
      for (const i of order) {
        const list = body.trigramDocs(keys[i]!);
        acc = acc === null ? list : intersect(acc, list);
        if (acc.length === 0) return EMPTY;
      }
      const subs: Uint32Array[] = [];
      for (const sub of plan.subs) {
        const docs = evaluatePlan(sub, body);
        if (docs !== null) subs.push(docs);
      }
      if (acc !== null) subs.push(acc);
      return subs.length === 0 ? null : intersectAll(subs);
    }
    case 'or': {
      let acc: Uint32Array = EMPTY;
      for (const sub of plan.subs) {
        const docs = evaluatePlan(sub, body);
        if (docs === null) return null;
        acc = union(acc, docs);
      }
      for (const t of plan.trigrams) acc = union(acc, body.trigramDocs(trigramKeyOf(t)));
      return acc;
    }
  }
}

/** Options of {@link searchRegex}. @internal */
export interface RegexPage {
  readonly offset: number;
  readonly limit: number;
  readonly countAll: boolean;
  readonly maxRanges: number;
  /** Documents longer than this (UTF-16 code units) are skipped and reported as truncation. */
  readonly maxVerifyChars: number;
  /** A literal every match contains (case-sensitive); without `exists`, texts lacking it are skipped before the RegExp runs. */
  readonly literal: string | null;
  /** Answers exactly whether `regex` matches a text, but faster; see {@link existenceTest}. */
  readonly exists: ExistenceTest | null;
}

/** What {@link searchRegex} found. @internal */
export interface RegexOutcome {
  matches: MatchHit[];
  total: number;
  complete: boolean;
  truncated: boolean;
  candidates: number;
  verified: number;
}

/**
 * The first `max` matches in document `local`; lines come from the body's checkpoints. With
 * `seek` (see {@link ExistenceTest.seek}) the RegExp starts each search on the line of the
 * next match instead of scanning every position before it.
 */
function collectRanges(
  regex: RegExp, body: SegmentBody, local: number, max: number, seek: ((text: string, from: number) => number) | undefined,
): TextRange[] {
  const out: TextRange[] = [];
  const text = body.texts[local]!;
  const unicode = regex.unicode || (regex as { unicodeSets?: boolean }).unicodeSets === true;
  let lines: Locator | null = null;
  regex.lastIndex = 0;
  while (out.length < max) {
    if (seek !== undefined) {
      const at = seek(text, regex.lastIndex);
      if (at === -1) break;
      regex.lastIndex = at;
    }
    const m = regex.exec(text);
    if (m === null) break;
    lines ??= body.lineIndex(local);
    const { line, column } = lines.locate(m.index);
    out.push({ line, column, length: m[0].length, offset: m.index });
    if (m[0].length === 0) {
      // Step over an empty match (a whole surrogate pair in unicode mode).
      const c = text.charCodeAt(regex.lastIndex);
      regex.lastIndex += unicode && c >= 0xd800 && c <= 0xdbff ? 2 : 1;
      if (regex.lastIndex > text.length) break;
    }
  }
  return out;
}

/**
 * Runs a regex over the candidates of each segment, in doc-number order, verifying every
 * candidate with the real `RegExp` (which must have the `g` flag). The budget and abort
 * signal are checked between documents; one pathological regex on one document cannot be
 * interrupted here (the worker layer terminates runaway workers).
 * @internal
 */
export async function searchRegex(
  regex: RegExp, plan: TrigramPlan, views: readonly SearchView[], page: RegexPage, budget: QueryBudget,
): Promise<RegexOutcome> {
  const out: RegexOutcome = { matches: [], total: 0, complete: true, truncated: false, candidates: 0, verified: 0 };
  const wanted = page.offset + page.limit;
  const literal = page.literal === null ? null : new LiteralFinder(page.literal);
  const candidateLists = views.map((view) => {
    let docs = evaluatePlan(plan, view.body) ?? rangeList(view.head.docCount);
    if (view.filter !== null) docs = intersect(docs, view.filter);
    docs = withoutMasked(docs, view.deleted);
    out.candidates += docs.length;
    return docs;
  });
  outer: for (let v = 0; v < views.length; v++) {
    const { head, body } = views[v]!;
    const docs = candidateLists[v]!;
    for (let i = 0; i < docs.length; i++) {
      if (out.total >= wanted && !page.countAll) {
        out.complete = false;
        break outer;
      }
      if (budget.shouldYield()) await budget.pause();
      if (budget.spent()) {
        out.truncated = true;
        out.complete = false;
        break outer;
      }
      const local = docs[i]!;
      const text = body.texts[local]!;
      if (text.length > page.maxVerifyChars) {
        out.truncated = true;
        out.complete = false;
        continue;
      }
      out.verified++;
      if (page.exists !== null ? !page.exists.test(text) : literal !== null && literal.indexIn(text) === -1) continue;
      const inPage = out.total >= page.offset && out.matches.length < page.limit;
      if (inPage) {
        const ranges = collectRanges(regex, body, local, page.maxRanges, page.exists?.seek);
        if (ranges.length === 0) continue;
        out.total++;
        out.matches.push({ id: head.ids[local]!, ranges });
      } else if (page.exists !== null) {
        out.total++; // matched above
      } else {
        // Only counted: one test, no ranges.
        regex.lastIndex = 0;
        if (regex.test(text)) out.total++;
      }
    }
  }
  return out;
}
