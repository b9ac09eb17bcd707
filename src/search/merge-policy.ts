import { ShelfError } from '../errors/index.ts';

/** Options of the merge policy. */
export interface MergePolicyOptions {
  /** Merge this many adjacent segments of the same size tier (default 8). */
  readonly mergeFactor?: number;
  /** Segments below this many live tokens share the lowest tier (default 65,536). */
  readonly floorTokens?: number;
  /** Never produce a segment above this many live tokens by a non-forced merge (default 8M). */
  readonly maxSegmentTokens?: number;
  /** Rewrite a segment alone once this share of its documents is deleted (default 0.3). */
  readonly deletedRatio?: number;
}

/** What the policy needs to know about a segment. */
export interface SegmentStat {
  readonly liveTokens: number;
  readonly liveDocs: number;
  readonly docs: number;
}

/** Fills in defaults and validates. @internal */
export function resolveMergePolicy(options: MergePolicyOptions = {}): Required<MergePolicyOptions> {
  const out = {
    mergeFactor: options.mergeFactor ?? 8,
    floorTokens: options.floorTokens ?? 65_536,
    maxSegmentTokens: options.maxSegmentTokens ?? 8 * 1024 * 1024,
    deletedRatio: options.deletedRatio ?? 0.3,
  };
  if (!Number.isInteger(out.mergeFactor) || out.mergeFactor < 2) {
    throw new ShelfError('INVALID_ARGUMENT', `options.mergeFactor must be an integer ≥ 2, got ${String(out.mergeFactor)}`);
  }
  if (!(out.floorTokens >= 1)) throw new ShelfError('INVALID_ARGUMENT', `options.floorTokens must be ≥ 1, got ${String(out.floorTokens)}`);
  if (!(out.maxSegmentTokens >= 1)) {
    throw new ShelfError('INVALID_ARGUMENT', `options.maxSegmentTokens must be ≥ 1, got ${String(out.maxSegmentTokens)}`);
  }
  if (!(out.deletedRatio > 0 && out.deletedRatio <= 1)) {
    throw new ShelfError('INVALID_ARGUMENT', `options.deletedRatio must be in (0, 1], got ${String(out.deletedRatio)}`);
  }
  return out;
}

/**
 * A tiered (logarithmic) merge policy over segments kept in doc-number order. A segment's
 * tier is `floor(log_factor(liveTokens / floorTokens))`; any `mergeFactor` adjacent
 * segments of one tier merge into one segment of the next, lowest tiers first, so each
 * token is rewritten O(log n) times. Segments with no live documents are dropped, and ones
 * with a large deleted share are rewritten alone to purge tombstones. Merging only adjacent
 * segments keeps every segment's doc-number range disjoint from the others'.
 *
 * Returns groups of segment indexes (each group contiguous, ascending), cheapest first.
 */
export function findMerges(stats: readonly SegmentStat[], options: MergePolicyOptions = {}): number[][] {
  const { mergeFactor, floorTokens, maxSegmentTokens, deletedRatio } = resolveMergePolicy(options);
  const tier = (s: SegmentStat) => Math.floor(Math.log(Math.max(s.liveTokens, floorTokens) / floorTokens) / Math.log(mergeFactor));
  const used = new Uint8Array(stats.length);
  const groups: number[][] = [];
  stats.forEach((s, i) => {
    if (s.liveDocs === 0) {
      groups.push([i]);
      used[i] = 1;
    }
  });
  const tiers = stats.map(tier);
  const order = [...new Set(tiers)].sort((a, b) => a - b);
  for (const level of order) {
    let run: number[] = [];
    const flush = () => {
      while (run.length >= mergeFactor) {
        const group = run.splice(0, mergeFactor);
        const tokens = group.reduce((sum, i) => sum + stats[i]!.liveTokens, 0);
        if (tokens <= maxSegmentTokens) {
          groups.push(group);
          for (const i of group) used[i] = 1;
        }
      }
      run = [];
    };
    for (let i = 0; i < stats.length; i++) {
      if (used[i] === 0 && tiers[i] === level) run.push(i);
      else flush();
    }
    flush();
  }
  stats.forEach((s, i) => {
    if (used[i] === 0 && s.docs > 0 && (s.docs - s.liveDocs) / s.docs >= deletedRatio) groups.push([i]);
  });
  return groups;
}
