import { ShelfError } from '../errors/index.ts';
import { contentHash } from './content-hash.ts';
import { entryFor, type IndexState, type SegmentEntry } from './index-state.ts';
import { findMerges } from './merge-policy.ts';
import { mergeSegments } from './segment-merge.ts';
import type { SearchDocument } from './types.ts';

/** What {@link SearchIndex.merge} did. */
export interface MergeReport {
  /** Merges carried out (a dropped all-deleted segment counts as one). */
  readonly merges: number;
  /** Segments afterwards. */
  readonly segments: number;
}

function replace(state: IndexState, group: SegmentEntry[], merged: SegmentEntry | null): void {
  const first = state.segments.indexOf(group[0]!);
  state.segments.splice(first, group.length, ...(merged === null ? [] : [merged]));
  for (const e of group) {
    state.bodies.delete(e.id);
    if (e.saved) state.obsolete.push(e.id);
  }
  state.touch(false);
}

/** Groups the policy proposes now, as entries (groups with damaged segments are skipped). @internal */
export function proposedMerges(state: IndexState, force: boolean): SegmentEntry[][] {
  const usable = state.segments.every((e) => e.head !== null && e.damage === null);
  if (force) {
    const all = state.segments;
    if (!usable || all.length === 0 || (all.length === 1 && all[0]!.deletedDocs === 0)) return [];
    return [[...all]];
  }
  const stats = state.segments.map((e) => ({
    liveTokens: e.damage === null && e.head !== null ? e.liveTokens : Number.MAX_SAFE_INTEGER,
    liveDocs: e.head === null ? 1 : e.docs - e.deletedDocs,
    docs: e.docs,
  }));
  return findMerges(stats, state.options.merge)
    .map((g) => g.map((i) => state.segments[i]!))
    .filter((g) => g.every((e) => e.head !== null && e.damage === null));
}

/**
 * Runs merges the policy proposes (or one merge of everything with `force`), at most
 * `maxMerges`. Bodies are loaded first; each merge then happens in one synchronous step and
 * replaces its inputs, so queries before and after see the same documents.
 * @internal
 */
export async function mergeIndex(state: IndexState, force: boolean, maxMerges: number): Promise<number> {
  if (force) state.seal();
  let merges = 0;
  while (merges < maxMerges) {
    const group = proposedMerges(state, force)[0];
    if (group === undefined) break;
    const bodies = await Promise.all(group.map((e) => state.loadBody(e)));
    const start = state.segments.indexOf(group[0]!);
    if (start < 0 || group.some((e, i) => state.segments[start + i] !== e)) continue; // changed meanwhile
    if (group.every((e) => e.deletedDocs === e.docs)) {
      replace(state, group, null);
    } else {
      const merged = mergeSegments(
        group.map((e, i) => ({ head: e.head!, body: bodies[i]!, deleted: e.deletedDocs > 0 ? e.deleted : null })),
        state.nextSegmentId++,
      );
      const entry = entryFor(merged.head, false);
      state.bodies.set(entry.id, merged.body, merged.body.byteSize, true);
      replace(state, group, entry);
    }
    merges++;
    if (force) break;
  }
  return merges;
}

/**
 * Replaces segment `segmentId` (typically a damaged one) by a segment built from `docs`:
 * its documents leave the index, then `docs` are indexed (an id that lives in another
 * segment is updated there). The old keys are deleted at the next flush.
 * @internal
 */
export function rebuildIndexSegment(state: IndexState, segmentId: number, docs: readonly SearchDocument[]): void {
  const index = state.segments.findIndex((e) => e.id === segmentId);
  if (index < 0) throw new ShelfError('NOT_FOUND', `segmentId ${segmentId} is not a segment of this index`);
  const entry = state.segments[index]!;
  const head = entry.head;
  if (head !== null) {
    for (let i = 0; i < head.docCount; i++) {
      if (entry.deleted[i] === 1) continue;
      const id = head.ids[i]!;
      if (state.idToDoc.get(id) === head.docNums[i]) state.idToDoc.delete(id);
      state.liveDocs--;
    }
    state.liveTokens -= entry.liveTokens;
  }
  replace(state, [entry], null);
  state.seal();
  for (const doc of docs) {
    const hash = contentHash(doc.text);
    const existing = state.idToDoc.get(doc.id);
    if (existing !== undefined) {
      state.deleteDoc(existing);
      state.idToDoc.delete(doc.id);
    }
    state.insert(doc, hash);
  }
  state.seal();
}
