import { ShelfError } from '../errors/index.ts';
import { damagedError, entryFor, liveIds, type IndexState, type SegmentEntry } from './index-state.ts';
import { decodeManifest, encodeManifest, type SegmentDescriptor } from './manifest.ts';
import { decodeHead, encodeBody, encodeHead } from './segment-codec.ts';
import { MANIFEST_KEY, segmentKeys, type SegmentStorage, type SegmentStorageOp } from './segment-storage.ts';

/** What {@link SearchIndex.flush} wrote. */
export interface FlushReport {
  /** Segments written (each a head and a body frame). */
  readonly segmentsWritten: number;
  /** Segments deleted from storage (merged away or rebuilt). */
  readonly segmentsDeleted: number;
  /** Bytes put, manifest included. */
  readonly bytesWritten: number;
  /** False when nothing had changed since the last flush. */
  readonly manifestWritten: boolean;
}

/** A segment that failed to load, from {@link SearchIndex.checkSegments}. */
export interface SegmentProblem {
  readonly segmentId: number;
  readonly error: ShelfError;
  /**
   * Ids of the live documents it held, when its head was readable (fetch these to rebuild
   * it). Copies removed or replaced since are left out: rebuilding from them would bring a
   * removed document back or put an old text over the newer copy in another segment.
   */
  readonly ids: readonly string[] | null;
}

function descriptor(entry: SegmentEntry): SegmentDescriptor {
  return { id: entry.id, docs: entry.docs, minDoc: entry.minDoc, maxDoc: entry.maxDoc, tokens: entry.head?.totalTokens ?? 0 };
}

/**
 * Saves what changed since the last flush: the mutable segment is sealed, every unsaved
 * segment is written (head and body), replaced segments are deleted, and the manifest is
 * written last (or everything in one atomic batch when the storage has one). A flush after
 * editing one file therefore writes one small segment plus the manifest.
 * @internal
 */
export async function flushIndex(state: IndexState, storage: SegmentStorage): Promise<FlushReport> {
  state.seal();
  if (state.version === state.savedVersion && state.obsolete.length === 0) {
    return { segmentsWritten: 0, segmentsDeleted: 0, bytesWritten: 0, manifestWritten: false };
  }
  const version = state.version;
  const puts: SegmentStorageOp[] = [];
  const written: SegmentEntry[] = [];
  for (const entry of state.segments) {
    if (entry.saved || entry.head === null) continue;
    const body = state.bodies.get(entry.id);
    if (body === undefined) throw new ShelfError('INTERNAL', `unsaved segment ${entry.id} is not in memory`);
    const keys = segmentKeys(entry.id);
    puts.push({ type: 'put', key: keys.head, value: encodeHead(entry.head) });
    puts.push({ type: 'put', key: keys.body, value: encodeBody(entry.id, body) });
    written.push(entry);
  }
  const tombstones: number[] = [];
  for (const entry of state.segments) {
    if (entry.head === null || entry.deletedDocs === 0) continue;
    for (let i = 0; i < entry.deleted.length; i++) if (entry.deleted[i] === 1) tombstones.push(entry.head.docNums[i]!);
  }
  const manifest = encodeManifest({
    generation: ++state.generation,
    nextDocNum: state.nextDocNum,
    nextSegmentId: state.nextSegmentId,
    segments: state.segments.map(descriptor),
    tombstones: Uint32Array.from(tombstones),
  });
  const obsolete = [...state.obsolete];
  const deletes: SegmentStorageOp[] = obsolete.flatMap((id) => {
    const keys = segmentKeys(id);
    return [{ type: 'delete', key: keys.head }, { type: 'delete', key: keys.body }] as SegmentStorageOp[];
  });
  const manifestOp: SegmentStorageOp = { type: 'put', key: MANIFEST_KEY, value: manifest };
  if (storage.batch !== undefined) {
    await storage.batch([...puts, manifestOp, ...deletes]);
  } else {
    for (const op of puts) if (op.type === 'put') await storage.put(op.key, op.value);
    await storage.put(MANIFEST_KEY, manifest);
    for (const op of deletes) await storage.delete(op.key);
  }
  for (const entry of written) {
    entry.saved = true;
    state.bodies.unpin(entry.id);
  }
  state.obsolete = state.obsolete.filter((id) => !obsolete.includes(id));
  state.savedVersion = version;
  let bytes = manifest.length;
  for (const op of puts) if (op.type === 'put') bytes += op.value.length;
  return { segmentsWritten: written.length, segmentsDeleted: obsolete.length, bytesWritten: bytes, manifestWritten: true };
}

/**
 * Loads the manifest and every segment head (bodies stay in storage until a query needs
 * them), applies the tombstones and rebuilds the id map. A damaged manifest is `CORRUPT`;
 * a damaged head marks its segment damaged (queries then fail with `CORRUPT` naming it
 * until {@link SearchIndex.rebuildSegment} replaces it).
 * @internal
 */
export async function openIndex(state: IndexState, storage: SegmentStorage): Promise<void> {
  const bytes = await storage.get(MANIFEST_KEY);
  if (bytes === undefined) return;
  const manifest = decodeManifest(bytes, `search manifest (${MANIFEST_KEY})`);
  state.generation = manifest.generation;
  state.nextDocNum = manifest.nextDocNum;
  state.nextSegmentId = manifest.nextSegmentId;
  const heads = await Promise.all(manifest.segments.map((d) => storage.get(segmentKeys(d.id).head)));
  state.segments = manifest.segments.map((d, i) => {
    const key = segmentKeys(d.id).head;
    const name = `search segment ${d.id} head (${key})`;
    const damaged = (damage: ShelfError): SegmentEntry => ({
      id: d.id, head: null, deleted: new Uint8Array(0), deletedDocs: 0, liveTokens: 0, saved: true, damage,
      docs: d.docs, minDoc: d.minDoc, maxDoc: d.maxDoc,
    });
    const raw = heads[i];
    if (raw === undefined) return damaged(new ShelfError('CORRUPT', `${name} is missing`));
    try {
      const head = decodeHead(raw, name, d.id);
      if (head.docCount !== d.docs || head.minDoc !== d.minDoc || head.maxDoc !== d.maxDoc) {
        throw new ShelfError('CORRUPT', `${name} does not match the manifest`);
      }
      return entryFor(head, true);
    } catch (error) {
      if (error instanceof ShelfError && (error.code === 'CORRUPT' || error.code === 'UNSUPPORTED_VERSION')) return damaged(error);
      throw error;
    }
  });
  for (const docNum of manifest.tombstones) {
    const at = state.locate(docNum);
    if (at?.where !== 'segment') continue;
    if (at.entry.deleted[at.local] === 0) {
      at.entry.deleted[at.local] = 1;
      at.entry.deletedDocs++;
      at.entry.liveTokens -= at.entry.head!.docLengths[at.local]!;
    }
  }
  for (const entry of state.segments) {
    const head = entry.head;
    if (head === null) continue;
    for (let i = 0; i < head.docCount; i++) {
      if (entry.deleted[i] === 1) continue;
      state.idToDoc.set(head.ids[i]!, head.docNums[i]!);
      state.liveDocs++;
    }
    state.liveTokens += entry.liveTokens;
  }
}

/** Loads every segment body and reports the ones that fail. @internal */
export async function checkIndex(state: IndexState): Promise<SegmentProblem[]> {
  const problems: SegmentProblem[] = [];
  for (const entry of [...state.segments]) {
    try {
      await state.loadBody(entry);
    } catch (error) {
      if (!(error instanceof ShelfError) || error.code !== 'CORRUPT') throw error;
      problems.push({ segmentId: entry.id, error: damagedError(entry), ids: liveIds(entry) });
    }
  }
  return problems;
}
