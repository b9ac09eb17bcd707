import { CheckpointLocator, checkpointLines, type Locator } from './line-index.ts';
import { decodeGapsUnchecked } from './postings-codec.ts';
import { lowerBound } from './sorted-set.ts';
import { TermTable } from './term-table.ts';

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
    const lo = lowerBound(nums, docNum);
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
  /** Position checkpoints of every document back to back: document `d`'s are `checkpoints[cpStart[d]..cpStart[d+1])`. */
  readonly cpStart: Uint32Array;
  readonly checkpoints: Uint32Array;
}

/** Doc ids or trigram list lengths, held as 16-bit when every value fits. @internal */
export type NarrowArray = Uint16Array | Uint32Array;

function narrow(values: Uint32Array, max: number): NarrowArray {
  return max <= 0xffff ? Uint16Array.from(values) : values;
}

/** A frequency of 255 or more is kept out of line, in {@link SegmentBody}'s overflow map. */
const FREQ_OVERFLOW = 0xff;
/** log2 of the postings between two entries of {@link SegmentBody.posSkip}. */
const POS_SKIP_SHIFT = 6;
const POS_SKIP_MASK = (1 << POS_SKIP_SHIFT) - 1;

/**
 * Doc ids of widened 16-bit postings lists a body keeps (256 Ki ids, 1 MiB): enough for the
 * 100 terms of a phrase query of a long identifier (a base64 run) on 2,000 documents.
 */
const WIDE_CACHE_IDS = 1 << 18;

/**
 * The searchable part of a segment. Terms are sorted, in one {@link TermTable} (binary search
 * for terms, a contiguous range for prefixes); postings are CSR arrays
 * (`postDocs[postStart[t]..postStart[t+1])`), 16-bit when the segment has at most 65,536
 * documents (and frequencies when they fit; trigram list lengths when it has at most 65,535);
 * positions and trigram lists stay delta-varint compressed in memory and are decoded per
 * use. Positions are stored term by term, posting by posting, and only every 64th posting's
 * byte offset is kept ({@link posSkip}); a posting's positions are found by skipping the
 * varints of at most 63 postings before it. Per document, position checkpoints (see the
 * tokenizer) map positions back to text offsets, so highlighting reads only the parts of a
 * text where the query's terms are.
 * @internal
 */
export class SegmentBody {
  readonly terms: TermTable;
  readonly postStart: Uint32Array;
  readonly postDocs: NarrowArray;
  /**
   * Occurrences per posting, one byte each; 255 means "see {@link bigFreqs}" (under 0.5 % of
   * postings on real code reach it).
   */
  readonly freqBytes: Uint8Array;
  /** Frequencies of 255 or more, by posting. */
  readonly bigFreqs = new Map<number, number>();
  /** Byte offset in {@link posBytes} of the positions of postings 0, 64, 128, … */
  readonly posSkip: Uint32Array;
  readonly posBytes: Uint8Array;
  readonly triKeys: Uint32Array;
  /** Documents per trigram list (at most the document count). */
  readonly triCount: NarrowArray;
  readonly triStart: Uint32Array;
  readonly triBytes: Uint8Array;
  readonly texts: readonly string[];
  readonly cpStart: Uint32Array;
  readonly checkpoints: Uint32Array;
  /** The line of each checkpoint: derived from the texts on the first line lookup, never stored. */
  #checkpointLines: Uint32Array | null = null;
  /** Estimated bytes held, for the LRU. */
  readonly byteSize: number;
  /** Recently widened 16-bit postings lists (term → ids). */
  readonly #wide = new Map<number, Uint32Array>();
  #wideIds = 0;

  constructor(parts: SegmentBodyParts) {
    this.terms = new TermTable(parts.terms);
    this.postStart = parts.postStart;
    this.postDocs = narrow(parts.postDocs, parts.texts.length - 1);
    const freqs = new Uint8Array(parts.postFreqs.length);
    for (let i = 0; i < freqs.length; i++) {
      const f = parts.postFreqs[i]!;
      if (f < FREQ_OVERFLOW) freqs[i] = f;
      else {
        freqs[i] = FREQ_OVERFLOW;
        this.bigFreqs.set(i, f);
      }
    }
    this.freqBytes = freqs;
    const postings = parts.postFreqs.length;
    const posSkip = new Uint32Array((postings >>> POS_SKIP_SHIFT) + 1);
    for (let i = 0; i < posSkip.length; i++) posSkip[i] = parts.posStart[i << POS_SKIP_SHIFT]!;
    this.posSkip = posSkip;
    this.posBytes = parts.posBytes;
    this.triKeys = parts.triKeys;
    this.triCount = narrow(parts.triCount, parts.texts.length);
    this.triStart = parts.triStart;
    this.triBytes = parts.triBytes;
    this.texts = parts.texts;
    this.cpStart = parts.cpStart;
    this.checkpoints = parts.checkpoints;
    let chars = 0;
    for (const t of parts.texts) chars += t.length + 8;
    this.byteSize = chars * 2 + this.terms.byteLength + this.postStart.byteLength + this.postDocs.byteLength +
      this.freqBytes.byteLength + this.bigFreqs.size * 16 + this.posSkip.byteLength + this.posBytes.byteLength + this.triKeys.byteLength +
      this.triCount.byteLength + this.triStart.byteLength + this.triBytes.byteLength + this.cpStart.byteLength +
      this.checkpoints.byteLength * 2; // the checkpoints and, once derived, their lines
  }

  /** Occurrences of the term in the document of posting `p`. */
  freq(p: number): number {
    const f = this.freqBytes[p]!;
    return f < FREQ_OVERFLOW ? f : this.bigFreqs.get(p)!;
  }

  /** Per-posting byte offsets of positions (`postings + 1` entries), rebuilt for merges and encoding. */
  positionStarts(): Uint32Array {
    const n = this.postDocs.length;
    const out = new Uint32Array(n + 1);
    const bytes = this.posBytes;
    let pos = 0;
    for (let p = 0; p < n; p++) {
      out[p] = pos;
      for (let left = this.freq(p); left > 0; pos++) if (bytes[pos]! < 0x80) left--;
    }
    out[n] = pos;
    return out;
  }

  /** Sorted local ids containing term `t` (a view, or a widened copy of a 16-bit list). */
  postings(t: number): Uint32Array {
    const docs = this.postDocs;
    const from = this.postStart[t]!;
    const to = this.postStart[t + 1]!;
    if (docs instanceof Uint32Array) return docs.subarray(from, to);
    let list = this.#wide.get(t);
    if (list === undefined) {
      list = new Uint32Array(to - from);
      list.set(docs.subarray(from, to));
      // Oldest first: a list used again is not refreshed, which keeps this a plain Map.
      for (const [key, old] of this.#wide) {
        if (this.#wideIds + list.length <= WIDE_CACHE_IDS) break;
        this.#wide.delete(key);
        this.#wideIds -= old.length;
      }
      this.#wide.set(t, list);
      this.#wideIds += list.length;
    }
    return list;
  }

  /**
   * Line and column lookup for the text of document `local`, through its checkpoints: a
   * lookup counts the newlines after the nearest checkpoint, not those of the whole text.
   */
  lineIndex(local: number): Locator {
    const from = this.cpStart[local]!;
    const to = this.cpStart[local + 1]!;
    // Derived for the whole body at once (one indexOf walk per text, ~30 ms for 70 MB), and
    // only when something is located: bodies loaded for counts or merges never pay it.
    this.#checkpointLines ??= checkpointLines(this.texts, this.cpStart, this.checkpoints);
    return new CheckpointLocator(this.texts[local]!, this.checkpoints.subarray(from, to), this.#checkpointLines.subarray(from, to));
  }

  /** Documents containing term `t`. */
  docFreq(t: number): number {
    return this.postStart[t + 1]! - this.postStart[t]!;
  }

  /** Byte offset in {@link posBytes} of the positions of posting `p`. */
  positionOffset(p: number): number {
    return this.skipPositions(p & ~POS_SKIP_MASK, this.posSkip[p >>> POS_SKIP_SHIFT]!, p);
  }

  /**
   * Byte offset of the positions of posting `to`, scanning forward from posting `from`
   * (`from <= to`) whose positions start at byte `at`.
   */
  skipPositions(from: number, at: number, to: number): number {
    let left = 0;
    for (let p = from; p < to; p++) left += this.freq(p);
    const bytes = this.posBytes;
    let pos = at;
    while (left > 0) if (bytes[pos++]! < 0x80) left--;
    return pos;
  }

  /** Decodes the positions of posting `p`, which start at byte `at`, into `out`; returns how many. */
  positions(p: number, at: number, out: Uint32Array): number {
    const count = this.freq(p);
    decodeGapsUnchecked(this.posBytes, at, count, out);
    return count;
  }

  /**
   * Index of the posting of term `t` for document `local`, or -1 when the document does not
   * hold the term (a binary search in the term's list, 16-bit lists included).
   */
  postingOf(t: number, local: number): number {
    const from = this.postStart[t]!;
    const list = this.postDocs.subarray(from, this.postStart[t + 1]!);
    const i = lowerBound(list, local);
    return i < list.length && list[i] === local ? from + i : -1;
  }

  /** Number of position checkpoints of document `local`. */
  checkpointCount(local: number): number {
    return this.cpStart[local + 1]! - this.cpStart[local]!;
  }

  /** Text offset of checkpoint `b` of document `local` (`b` < {@link checkpointCount}). */
  checkpoint(local: number, b: number): number {
    return this.checkpoints[this.cpStart[local]! + b]!;
  }

  /** Local ids whose text contains the trigram `key`, or an empty list. */
  trigramDocs(key: number): Uint32Array {
    const keys = this.triKeys;
    const lo = lowerBound(keys, key);
    if (lo >= keys.length || keys[lo] !== key) return EMPTY_LIST;
    const out = new Uint32Array(this.triCount[lo]!);
    decodeGapsUnchecked(this.triBytes, this.triStart[lo]!, out.length, out);
    return out;
  }

  /** Number of documents containing trigram `key` (0 when absent). */
  trigramCount(key: number): number {
    const keys = this.triKeys;
    const lo = lowerBound(keys, key);
    return lo < keys.length && keys[lo] === key ? this.triCount[lo]! : 0;
  }
}

/** A head and its body. @internal */
export interface Segment {
  readonly head: SegmentHead;
  readonly body: SegmentBody;
}
