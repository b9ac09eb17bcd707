import { ShelfError } from '../errors/index.ts';
import { decodeGapsUnchecked, writeGaps } from './postings-codec.ts';
import { buildFieldColumns } from './segment-builder.ts';
import { SegmentBody, SegmentHead, type Segment } from './segment.ts';
import { ByteWriter } from './varint.ts';

/** One segment to merge, with its deletion mask (1 = deleted) or null. @internal */
export interface MergeInput {
  readonly head: SegmentHead;
  readonly body: SegmentBody;
  readonly deleted: Uint8Array | null;
}

/** Merges two sorted, duplicate-free string arrays. */
function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

function mergeAllSorted(lists: (readonly string[])[]): readonly string[] {
  if (lists.length === 0) return [];
  while (lists.length > 1) {
    const next: (readonly string[])[] = [];
    for (let i = 0; i < lists.length; i += 2) next.push(i + 1 < lists.length ? mergeSorted(lists[i]!, lists[i + 1]!) : lists[i]!);
    lists = next;
  }
  return lists[0]!;
}

/** For each entry of sorted `part`, its index in sorted `all` (which contains it). */
function mapInto<T>(part: ArrayLike<T>, all: ArrayLike<T>): Int32Array {
  const out = new Int32Array(part.length);
  let j = 0;
  for (let i = 0; i < part.length; i++) {
    while (all[j] !== part[i]) j++;
    out[i] = j;
  }
  return out;
}

/**
 * Merges segments (given in doc-number order) into one, dropping deleted documents and the
 * terms and trigrams only they had. Works on the postings directly: positions are copied
 * as bytes, nothing is re-tokenized. The result answers every query exactly as the inputs
 * together do (BM25 document frequencies aside, which stop counting deleted documents).
 * @internal
 */
export function mergeSegments(inputs: readonly MergeInput[], id: number): Segment {
  const steps = mergeSteps(inputs, id);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value.segment;
  }
}

/** A merged segment and, per input, the new local id of each old one (-1 = dropped). @internal */
export interface MergeResult {
  readonly segment: Segment;
  readonly remaps: readonly Int32Array[];
}

/** How many loop iterations run between two yields of {@link mergeSteps}. */
const STEP = 1 << 14;

/**
 * {@link mergeSegments} in small steps: the generator yields every few thousand terms,
 * postings or trigram lists, so a caller can spread a large merge over many event-loop
 * turns (see `mergeIndex`) and writes and queries keep running in between.
 * @internal
 */
export function* mergeSteps(inputs: readonly MergeInput[], id: number): Generator<void, MergeResult, void> {
  // Document renumbering.
  const remaps: Int32Array[] = [];
  let next = 0;
  let lastDoc = -1;
  for (const input of inputs) {
    const remap = new Int32Array(input.head.docCount);
    for (let d = 0; d < remap.length; d++) {
      if (input.deleted !== null && input.deleted[d] !== 0) remap[d] = -1;
      else {
        const docNum = input.head.docNums[d]!;
        if (docNum <= lastDoc) throw new ShelfError('INTERNAL', `segments to merge are not in doc-number order (doc ${docNum} after ${lastDoc})`);
        lastDoc = docNum;
        remap[d] = next++;
      }
    }
    remaps.push(remap);
  }
  const docCount = next;

  // Head.
  const docNums = new Uint32Array(docCount);
  const lengths = new Uint32Array(docCount);
  const textLengths = new Uint32Array(docCount);
  const hashes = new Float64Array(docCount);
  const ids: string[] = [];
  const texts: string[] = [];
  const pairs: string[][] = [];
  inputs.forEach((input, k) => {
    const { head, body } = input;
    const remap = remaps[k]!;
    const fieldNames = [...head.fields.keys()];
    for (let d = 0; d < head.docCount; d++) {
      const n = remap[d]!;
      if (n < 0) continue;
      docNums[n] = head.docNums[d]!;
      lengths[n] = head.docLengths[d]!;
      textLengths[n] = head.textLengths[d]!;
      hashes[n] = head.hashes[d]!;
      ids.push(head.ids[d]!);
      texts.push(body.texts[d]!);
      const docPairs: string[] = [];
      for (const name of fieldNames) for (const v of head.valuesOf(name, d)) docPairs.push(name, v);
      pairs.push(docPairs);
    }
  });
  const head = new SegmentHead(id, docNums, ids, lengths, textLengths, hashes, buildFieldColumns(pairs));
  yield;

  // Terms and postings.
  const inputTerms: string[][] = [];
  for (const input of inputs) {
    inputTerms.push(input.body.terms.toArray());
    yield;
  }
  const terms = mergeAllSorted(inputTerms);
  yield;
  const termMaps: Int32Array[] = [];
  for (const list of inputTerms) {
    termMaps.push(mapInto(list, terms));
    yield;
  }
  // `terms` keeps one copy of each term: drop the inputs' lists (and their duplicates) before the postings are copied.
  inputTerms.length = 0;
  const counts = new Uint32Array(terms.length + 1);
  for (let k = 0; k < inputs.length; k++) {
    const { body } = inputs[k]!;
    const remap = remaps[k]!;
    const map = termMaps[k]!;
    for (let t = 0; t < body.terms.size; t++) {
      if ((t & (STEP - 1)) === STEP - 1) yield;
      let live = 0;
      for (let p = body.postStart[t]!; p < body.postStart[t + 1]!; p++) if (remap[body.postDocs[p]!]! >= 0) live++;
      counts[map[t]! + 1]! += live;
    }
  }
  // Terms left without live postings are dropped.
  const keep = new Int32Array(terms.length).fill(-1);
  const keptTerms: string[] = [];
  for (let m = 0; m < terms.length; m++) {
    if (counts[m + 1]! > 0) {
      keep[m] = keptTerms.length;
      keptTerms.push(terms[m]!);
    }
  }
  const postStart = new Uint32Array(keptTerms.length + 1);
  for (let m = 0; m < terms.length; m++) if (keep[m]! >= 0) postStart[keep[m]! + 1] = counts[m + 1]!;
  for (let s = 0; s < keptTerms.length; s++) postStart[s + 1]! += postStart[s]!;
  const nPostings = postStart[keptTerms.length]!;
  const postDocs = new Uint32Array(nPostings);
  const postFreqs = new Uint32Array(nPostings);
  const srcInput = new Uint16Array(nPostings);
  const srcPosting = new Uint32Array(nPostings);
  const cursor = postStart.slice(0, keptTerms.length);
  for (let k = 0; k < inputs.length; k++) {
    const { body } = inputs[k]!;
    const remap = remaps[k]!;
    const map = termMaps[k]!;
    for (let t = 0; t < body.terms.size; t++) {
      if ((t & (STEP - 1)) === STEP - 1) yield;
      const s = keep[map[t]!]!;
      if (s < 0) continue;
      for (let p = body.postStart[t]!; p < body.postStart[t + 1]!; p++) {
        const n = remap[body.postDocs[p]!]!;
        if (n < 0) continue;
        const slot = cursor[s]!++;
        postDocs[slot] = n;
        postFreqs[slot] = body.freq(p);
        srcInput[slot] = k;
        srcPosting[slot] = p;
      }
    }
  }
  const starts = inputs.map((input) => input.body.positionStarts());
  const posStart = new Uint32Array(nPostings + 1);
  let posBytesTotal = 0;
  for (let slot = 0; slot < nPostings; slot++) {
    const b = starts[srcInput[slot]!]!;
    const p = srcPosting[slot]!;
    posBytesTotal += b[p + 1]! - b[p]!;
  }
  const posBytes = new Uint8Array(posBytesTotal);
  let at = 0;
  for (let slot = 0; slot < nPostings; slot++) {
    if ((slot & (STEP * 4 - 1)) === STEP * 4 - 1) yield;
    const b = inputs[srcInput[slot]!]!.body;
    const p = srcPosting[slot]!;
    posStart[slot] = at;
    const ps = starts[srcInput[slot]!]!;
    const from = ps[p]!;
    const to = ps[p + 1]!;
    posBytes.set(b.posBytes.subarray(from, to), at);
    at += to - from;
  }
  posStart[nPostings] = at;

  // Trigrams.
  let totalKeys = 0;
  for (const input of inputs) totalKeys += input.body.triKeys.length;
  const allKeys = new Uint32Array(totalKeys);
  totalKeys = 0;
  for (const input of inputs) {
    allKeys.set(input.body.triKeys, totalKeys);
    totalKeys += input.body.triKeys.length;
  }
  yield;
  allKeys.sort();
  yield;
  let unique = 0;
  for (let i = 0; i < allKeys.length; i++) if (i === 0 || allKeys[i] !== allKeys[i - 1]) allKeys[unique++] = allKeys[i]!;
  const keys = allKeys.subarray(0, unique);
  const upper = new Uint32Array(unique + 1);
  const keyMaps: Int32Array[] = [];
  for (const input of inputs) {
    keyMaps.push(mapInto(input.body.triKeys, keys));
    yield;
  }
  inputs.forEach((input, k) => {
    const map = keyMaps[k]!;
    for (let j = 0; j < map.length; j++) upper[map[j]! + 1]! += input.body.triCount[j]!;
  });
  for (let j = 0; j < unique; j++) upper[j + 1]! += upper[j]!;
  const flat = new Uint32Array(upper[unique]!);
  const fill = upper.slice(0, unique);
  let scratch = new Uint32Array(1024);
  for (let k = 0; k < inputs.length; k++) {
    const { body } = inputs[k]!;
    const remap = remaps[k]!;
    const map = keyMaps[k]!;
    for (let j = 0; j < body.triKeys.length; j++) {
      if ((j & (STEP - 1)) === STEP - 1) yield;
      const count = body.triCount[j]!;
      if (count > scratch.length) scratch = new Uint32Array(count * 2);
      decodeGapsUnchecked(body.triBytes, body.triStart[j]!, count, scratch);
      const m = map[j]!;
      for (let i = 0; i < count; i++) {
        const n = remap[scratch[i]!]!;
        if (n >= 0) flat[fill[m]!++] = n;
      }
    }
  }
  let liveKeys = 0;
  for (let m = 0; m < unique; m++) if (fill[m]! > upper[m]!) liveKeys++;
  const triKeys = new Uint32Array(liveKeys);
  const triCount = new Uint32Array(liveKeys);
  const triStart = new Uint32Array(liveKeys + 1);
  const bytes = new ByteWriter(flat.length + 16);
  let j = 0;
  for (let m = 0; m < unique; m++) {
    if ((m & (STEP - 1)) === STEP - 1) yield;
    const from = upper[m]!;
    const to = fill[m]!;
    if (to === from) continue;
    triKeys[j] = keys[m]!;
    triCount[j] = to - from;
    triStart[j] = bytes.length;
    writeGaps(bytes, flat, from, to);
    j++;
  }
  triStart[liveKeys] = bytes.length;

  // Position checkpoints, per live document.
  const cpStart = new Uint32Array(docCount + 1);
  inputs.forEach((input, k) => {
    const remap = remaps[k]!;
    for (let d = 0; d < input.head.docCount; d++) if (remap[d]! >= 0) cpStart[remap[d]! + 1] = input.body.checkpointCount(d);
  });
  for (let d = 0; d < docCount; d++) cpStart[d + 1]! += cpStart[d]!;
  const checkpoints = new Uint32Array(cpStart[docCount]!);
  inputs.forEach((input, k) => {
    const remap = remaps[k]!;
    const b = input.body;
    for (let d = 0; d < input.head.docCount; d++) {
      if (remap[d]! >= 0) checkpoints.set(b.checkpoints.subarray(b.cpStart[d]!, b.cpStart[d + 1]!), cpStart[remap[d]!]);
    }
  });

  const body = new SegmentBody({
    terms: keptTerms, postStart, postDocs, postFreqs, posStart, posBytes,
    triKeys, triCount, triStart, triBytes: bytes.finish(), texts, cpStart, checkpoints,
  });
  return { segment: { head, body }, remaps };
}
