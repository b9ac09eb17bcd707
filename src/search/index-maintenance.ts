import { ShelfError } from '../errors/index.ts';
import { contentHash } from './content-hash.ts';
import { entryFor, type IndexState, type SegmentEntry } from './index-state.ts';
import { findMerges } from './merge-policy.ts';
import { encodeBodyAsync, encodeHead } from './segment-codec.ts';
import { mergeSteps, type MergeResult } from './segment-merge.ts';
import { segmentKeys } from './segment-storage.ts';
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

/** Runs `fn` under the index's maintenance lock (the one flushes take). @internal */
export type LockRunner = <T>(fn: () => T | Promise<T>) => Promise<T>;

/** Milliseconds of merge work between two yields to the event loop. */
const SLICE_MS = 8;

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Runs merges the policy proposes (or one merge of everything with `force`), at most
 * `maxMerges`. A merge never holds the maintenance lock while it works, so writes and
 * their flushes never wait behind it: it loads its inputs, snapshots their deletion masks,
 * builds the merged segment in slices of a few milliseconds (yielding to the event loop in
 * between), writes it to storage under its new id (not yet named by the manifest, so a
 * crash only leaves unreferenced keys), and only then takes the lock for one synchronous
 * swap that re-applies deletions made meanwhile. If a group changed meanwhile (rebuilt,
 * damaged) the result is thrown away. Queries before and after the swap see the same
 * documents.
 * @internal
 */
export async function mergeIndex(
  state: IndexState, force: boolean, maxMerges: number, locked: LockRunner, signal?: AbortSignal,
): Promise<number> {
  // Checked before each storage access and between slices: an owner closing the storage
  // aborts first, then waits for the merge to settle.
  const stopIfAborted = () => {
    if (signal?.aborted === true) throw new ShelfError('ABORTED', 'merge cancelled', { cause: signal.reason });
  };
  stopIfAborted();
  if (force) await locked(() => state.seal());
  let merges = 0;
  let attempts = 0;
  while (merges < maxMerges && attempts++ < maxMerges + 8) {
    stopIfAborted();
    const group = proposedMerges(state, force)[0];
    if (group === undefined) break;
    const bodies = await Promise.all(group.map((e) => state.loadBody(e)));
    const current = () => {
      const start = state.segments.indexOf(group[0]!);
      return start >= 0 && group.every((e, i) => state.segments[start + i] === e && e.damage === null);
    };
    if (!current()) continue;
    if (group.every((e) => e.deletedDocs === e.docs)) {
      await locked(() => {
        if (current()) replace(state, group, null);
      });
      merges++;
      if (force) break;
      continue;
    }
    const masks = group.map((e) => e.deleted.slice());
    const id = state.nextSegmentId++;
    const steps = mergeSteps(group.map((e, i) => ({ head: e.head!, body: bodies[i]!, deleted: masks[i]! })), id);
    let result: MergeResult | undefined;
    while (result === undefined) {
      const until = performance.now() + SLICE_MS;
      do {
        const r = steps.next();
        if (r.done === true) {
          result = r.value;
          break;
        }
      } while (performance.now() < until);
      if (result === undefined) {
        await nextTurn();
        stopIfAborted();
      }
    }
    const { head, body } = result.segment;
    const storage = state.options.storage;
    let saved = false;
    stopIfAborted();
    if (storage !== undefined && current()) {
      const keys = segmentKeys(id);
      await storage.put(keys.head, encodeHead(head));
      await storage.put(keys.body, await encodeBodyAsync(id, body));
      saved = true;
    }
    const swapped = await locked(() => {
      if (!current()) return false;
      const entry = entryFor(head, saved);
      // Deletions since the snapshot: carry them over to the merged segment.
      group.forEach((e, k) => {
        const before = masks[k]!;
        const remap = result.remaps[k]!;
        for (let d = 0; d < e.deleted.length; d++) {
          if (e.deleted[d] === 0 || before[d] === 1) continue;
          const n = remap[d]!;
          if (n < 0 || entry.deleted[n] === 1) continue;
          entry.deleted[n] = 1;
          entry.deletedDocs++;
          entry.liveTokens -= head.docLengths[n]!;
        }
      });
      // Old bodies out of the LRU first, so the merged one does not evict live segments.
      replace(state, group, entry);
      state.bodies.set(entry.id, body, body.byteSize, !saved);
      return true;
    });
    if (!swapped) {
      if (saved && storage !== undefined) {
        const keys = segmentKeys(id);
        await storage.delete(keys.head);
        await storage.delete(keys.body);
      }
      continue;
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
