import { decodeGapsUnchecked } from './postings-codec.ts';

/**
 * An immutable segment, in two parts that are stored and loaded separately:
 *
 * - {@link SegmentHead}: the document table (global doc numbers, ids, lengths, content
 *   hashes, metadata columns). Small, always resident; it answers filters, BM25 length
 *   normalization and id lookups.
 * - {@link SegmentBody}: terms, postings, positions, trigrams and texts. Large; kept in a
 *   byte-bounded LRU and loaded on demand.
 *
 * Inside a segment documents are numbered `0..docCount-1` ("local ids") in increasing
 * global doc-number order, and every postings list is a sorted list of local ids.
 */

/** One metadata field across a segment's documents: value dictionary + per-document value lists. */
export interface FieldColumn {
  readonly values: readonly string[];
  /** `valueIds[start[d]..start[d+1])` are document `d`'s values. */
  readonly start: Uint32Array;
  readonly valueIds: Uint32Array;
}

/** The resident document table of a segment. @internal */
export class SegmentHead {
  readonly id: number;
  /** Global doc number by local id, strictly increasing. */
  readonly docNums: Uint32Array;
  readonly ids: readonly string[];
  /** Tokens per document (BM25 length). */
  readonly docLengths: Uint32Array;
  /** Text length per document, in UTF-16 code units. */
  readonly textLengths: Uint32Array;
  /** {@link contentHash} per document. */
  readonly hashes: Float64Array;
  readonly fields: ReadonlyMap<string, FieldColumn>;
  readonly totalTokens: number;
  #valueIndex = new Map<string, Map<string, Uint32Array>>();
  /** Small cache of evaluated filters (heads never change, so entries never go stale). */
  readonly filterCache = new Map<string, Uint32Array>();

  constructor(
    id: number,
    docNums: Uint32Array,
    ids: readonly string[],
    docLengths: Uint32Array,
    textLengths: Uint32Array,
    hashes: Float64Array,
    fields: ReadonlyMap<string, FieldColumn>,
  ) {
    this.id = id;
    this.docNums = docNums;
    this.ids = ids;
    this.docLengths = docLengths;
    this.textLengths = textLengths;
    this.hashes = hashes;
    this.fields = fields;
    let total = 0;
    for (let i = 0; i < docLengths.length; i++) total += docLengths[i]!;
    this.totalTokens = total;
  }

  get docCount(): number {
    return this.docNums.length;
  }

  get minDoc(): number {
    return this.docNums.length === 0 ? 0 : this.docNums[0]!;
  }

  get maxDoc(): number {
    return this.docNums.length === 0 ? 0 : this.docNums[this.docNums.length - 1]!;
  }

  /** Local id of a global doc number, or -1. */
  localOf(docNum: number): number {
    const nums = this.docNums;
    let lo = 0;
    let hi = nums.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nums[mid]! < docNum) lo = mid + 1;
      else hi = mid;
    }
    return lo < nums.length && nums[lo] === docNum ? lo : -1;
  }

  /** The values of `field` for document `local`. */
  valuesOf(field: string, local: number): string[] {
    const col = this.fields.get(field);
    if (col === undefined) return [];
    const out: string[] = [];
    for (let i = col.start[local]!; i < col.start[local + 1]!; i++) out.push(col.values[col.valueIds[i]!]!);
    return out;
  }

  /** Local ids (sorted) whose `field` has `value`: the hash index, built on first use. */
  docsWithValue(field: string, value: string): Uint32Array {
    let index = this.#valueIndex.get(field);
    if (index === undefined) {
      index = new Map();
      const col = this.fields.get(field);
      if (col !== undefined) {
        const counts = new Uint32Array(col.values.length);
        for (let i = 0; i < col.valueIds.length; i++) counts[col.valueIds[i]!]!++;
        const lists = col.values.map((_, v) => new Uint32Array(counts[v]!));
        counts.fill(0);
        for (let d = 0; d < this.docCount; d++) {
          for (let i = col.start[d]!; i < col.start[d + 1]!; i++) {
            const v = col.valueIds[i]!;
            const list = lists[v]!;
            // A document listing the same value twice appears once.
            if (counts[v]! > 0 && list[counts[v]! - 1] === d) continue;
            list[counts[v]!++] = d;
          }
        }
        col.values.forEach((value, v) => index!.set(value, lists[v]!.subarray(0, counts[v]!)));
      }
      this.#valueIndex.set(field, index);
    }
    return index.get(value) ?? EMPTY_LIST;
  }
}

const EMPTY_LIST = new Uint32Array(0);

/** The arrays a {@link SegmentBody} is made of. @internal */
export interface SegmentBodyParts {
  readonly terms: readonly string[];
  readonly postStart: Uint32Array;
  readonly postDocs: Uint32Array;
  readonly postFreqs: Uint32Array;
  readonly posStart: Uint32Array;
  readonly posBytes: Uint8Array;
  readonly triKeys: Uint32Array;
  readonly triCount: Uint32Array;
  readonly triStart: Uint32Array;
  readonly triBytes: Uint8Array;
  readonly texts: readonly string[];
}

/**
 * The searchable part of a segment. Terms are sorted (binary search for terms, a contiguous
 * range for prefixes); postings are CSR arrays (`postDocs[postStart[t]..postStart[t+1])`);
 * positions and trigram lists stay delta-varint compressed in memory and are decoded per
 * use.
 * @internal
 */
export class SegmentBody implements SegmentBodyParts {
  readonly terms: readonly string[];
  readonly postStart: Uint32Array;
  readonly postDocs: Uint32Array;
  readonly postFreqs: Uint32Array;
  readonly posStart: Uint32Array;
  readonly posBytes: Uint8Array;
  readonly triKeys: Uint32Array;
  readonly triCount: Uint32Array;
  readonly triStart: Uint32Array;
  readonly triBytes: Uint8Array;
  readonly texts: readonly string[];
  /** Estimated bytes held, for the LRU. */
  readonly byteSize: number;

  constructor(parts: SegmentBodyParts) {
    this.terms = parts.terms;
    this.postStart = parts.postStart;
    this.postDocs = parts.postDocs;
    this.postFreqs = parts.postFreqs;
    this.posStart = parts.posStart;
    this.posBytes = parts.posBytes;
    this.triKeys = parts.triKeys;
    this.triCount = parts.triCount;
    this.triStart = parts.triStart;
    this.triBytes = parts.triBytes;
    this.texts = parts.texts;
    let chars = 0;
    for (const t of parts.terms) chars += t.length + 16;
    for (const t of parts.texts) chars += t.length + 8;
    this.byteSize = chars * 2 + this.postStart.byteLength + this.postDocs.byteLength + this.postFreqs.byteLength +
      this.posStart.byteLength + this.posBytes.byteLength + this.triKeys.byteLength + this.triCount.byteLength +
      this.triStart.byteLength + this.triBytes.byteLength;
  }

  /** Index of `term` in {@link terms}, or -1. */
  findTerm(term: string): number {
    const terms = this.terms;
    let lo = 0;
    let hi = terms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (terms[mid]! < term) lo = mid + 1;
      else hi = mid;
    }
    return lo < terms.length && terms[lo] === term ? lo : -1;
  }

  /** `[from, to)`: the term indexes starting with `prefix`. */
  prefixRange(prefix: string): [number, number] {
    const terms = this.terms;
    let lo = 0;
    let hi = terms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (terms[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < terms.length && terms[end]!.startsWith(prefix)) end++;
    return [lo, end];
  }

  /** Sorted local ids containing term `t` (a view, no copy). */
  postings(t: number): Uint32Array {
    return this.postDocs.subarray(this.postStart[t]!, this.postStart[t + 1]!);
  }

  /** Documents containing term `t`. */
  docFreq(t: number): number {
    return this.postStart[t + 1]! - this.postStart[t]!;
  }

  /** Decodes the positions of posting `p` (a global posting index) into `out`; returns how many. */
  positions(p: number, out: Uint32Array): number {
    const count = this.postFreqs[p]!;
    decodeGapsUnchecked(this.posBytes, this.posStart[p]!, count, out);
    return count;
  }

  /** Local ids whose text contains the trigram `key`, or an empty list. */
  trigramDocs(key: number): Uint32Array {
    const keys = this.triKeys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= keys.length || keys[lo] !== key) return EMPTY_LIST;
    const out = new Uint32Array(this.triCount[lo]!);
    decodeGapsUnchecked(this.triBytes, this.triStart[lo]!, out.length, out);
    return out;
  }

  /** Number of documents containing trigram `key` (0 when absent). */
  trigramCount(key: number): number {
    const keys = this.triKeys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo < keys.length && keys[lo] === key ? this.triCount[lo]! : 0;
  }
}

/** A head and its body. @internal */
export interface Segment {
  readonly head: SegmentHead;
  readonly body: SegmentBody;
}
