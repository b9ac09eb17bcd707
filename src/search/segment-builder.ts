import { IntVector } from './int-vector.ts';
import { writeGaps } from './postings-codec.ts';
import { SegmentBody, SegmentHead, type FieldColumn, type Segment } from './segment.ts';
import { TermInterner } from './term-interner.ts';
import { lowerBound } from './sorted-set.ts';
import { scanTokens } from './tokenizer.ts';
import { collectTrigrams } from './trigram.ts';
import { ByteWriter } from './varint.ts';

/** What the builder keeps per document besides its tokens. @internal */
export interface BuilderDocument {
  readonly docNum: number;
  readonly id: string;
  readonly text: string;
  /** Flat `[field, value, ...]` pairs. */
  readonly fields: readonly string[];
  readonly hash: number;
}

/**
 * Accumulates documents (tokenized once, as term ids and positions in flat typed arrays,
 * plus their distinct trigrams) and freezes them into an immutable {@link Segment} with
 * counting sorts, so building costs O(tokens) plus sorting the distinct terms. It is also
 * the index's small mutable segment: documents can be removed before the next build.
 * @internal
 */
export class SegmentBuilder {
  readonly #interner = new TermInterner();
  readonly #occTerms = new IntVector(4096);
  readonly #occPos = new IntVector(4096);
  readonly #occStart = new IntVector();
  readonly #triKeys = new IntVector(4096);
  readonly #triStart = new IntVector();
  readonly #checkpoints = new IntVector(1024);
  readonly #cpStart = new IntVector();
  readonly #docs: BuilderDocument[] = [];
  readonly #lengths = new IntVector();
  readonly #dead: boolean[] = [];
  #liveDocs = 0;
  #liveTokens = 0;
  #deadTokens = 0;

  /** Documents added, including removed ones. */
  get docCount(): number {
    return this.#docs.length;
  }

  get liveDocs(): number {
    return this.#liveDocs;
  }

  get liveTokens(): number {
    return this.#liveTokens;
  }

  get deadTokens(): number {
    return this.#deadTokens;
  }

  /** Approximate bytes held. */
  get byteSize(): number {
    let chars = 0;
    for (const d of this.#docs) chars += d.text.length;
    return chars * 2 + this.#occTerms.byteLength * 2 + this.#triKeys.byteLength + this.#interner.byteLength + this.#checkpoints.byteLength;
  }

  /** Adds a document (its `docNum` must exceed every earlier one); returns its token count. */
  add(doc: BuilderDocument): number {
    this.#occStart.push(this.#occTerms.length);
    this.#triStart.push(this.#triKeys.length);
    this.#cpStart.push(this.#checkpoints.length);
    const tokens = scanTokens(doc.text, this.#interner, this.#occTerms, this.#occPos, null, 0, doc.text.length, this.#checkpoints);
    collectTrigrams(doc.text, this.#triKeys);
    this.#docs.push(doc);
    this.#lengths.push(tokens);
    this.#dead.push(false);
    this.#liveDocs++;
    this.#liveTokens += tokens;
    return tokens;
  }

  /** Local index of a doc number, or -1 (removed documents included). */
  localOf(docNum: number): number {
    const docs = this.#docs;
    const lo = lowerBound(docs, docNum, (d) => d.docNum);
    return lo < docs.length && docs[lo]!.docNum === docNum ? lo : -1;
  }

  /** The document at `local`, and its token count. */
  documentAt(local: number): { doc: BuilderDocument; tokens: number; removed: boolean } {
    return { doc: this.#docs[local]!, tokens: this.#lengths.data[local]!, removed: this.#dead[local]! };
  }

  /** Live documents, oldest first. */
  liveDocuments(): BuilderDocument[] {
    return this.#docs.filter((_, i) => !this.#dead[i]);
  }

  /** Drops document `local` from the next build. */
  remove(local: number): void {
    if (this.#dead[local] !== false) return;
    this.#dead[local] = true;
    const tokens = this.#lengths.data[local]!;
    this.#liveDocs--;
    this.#liveTokens -= tokens;
    this.#deadTokens += tokens;
  }

  /** Freezes the live documents into a segment with id `id`. */
  build(id: number): Segment {
    const live: number[] = [];
    for (let i = 0; i < this.#docs.length; i++) if (!this.#dead[i]) live.push(i);
    const head = this.#buildHead(id, live);
    const postings = this.#buildPostings(live);
    const trigrams = this.#buildTrigrams(live);
    const body = new SegmentBody({ ...postings, ...trigrams, ...this.#buildCheckpoints(live), texts: live.map((i) => this.#docs[i]!.text) });
    return { head, body };
  }

  #buildCheckpoints(live: number[]): { cpStart: Uint32Array; checkpoints: Uint32Array } {
    const all = this.#checkpoints.data;
    const end = (i: number) => (i + 1 < this.#docs.length ? this.#cpStart.data[i + 1]! : this.#checkpoints.length);
    const cpStart = new Uint32Array(live.length + 1);
    for (let d = 0; d < live.length; d++) cpStart[d + 1] = cpStart[d]! + end(live[d]!) - this.#cpStart.data[live[d]!]!;
    const checkpoints = new Uint32Array(cpStart[live.length]!);
    for (let d = 0; d < live.length; d++) checkpoints.set(all.subarray(this.#cpStart.data[live[d]!]!, end(live[d]!)), cpStart[d]);
    return { cpStart, checkpoints };
  }

  #buildHead(id: number, live: number[]): SegmentHead {
    const n = live.length;
    const docNums = new Uint32Array(n);
    const lengths = new Uint32Array(n);
    const textLengths = new Uint32Array(n);
    const hashes = new Float64Array(n);
    const ids: string[] = [];
    const docs = live.map((i) => this.#docs[i]!);
    docs.forEach((d, j) => {
      docNums[j] = d.docNum;
      lengths[j] = this.#lengths.data[live[j]!]!;
      textLengths[j] = d.text.length;
      hashes[j] = d.hash;
      ids.push(d.id);
    });
    return new SegmentHead(id, docNums, ids, lengths, textLengths, hashes, buildFieldColumns(docs.map((d) => d.fields)));
  }

  #buildPostings(live: number[]) {
    const interner = this.#interner;
    const occTerms = this.#occTerms.data;
    const occPos = this.#occPos.data;
    const end = (i: number) => (i + 1 < this.#docs.length ? this.#occStart.data[i + 1]! : this.#occTerms.length);
    const counts = new Int32Array(interner.size);
    let totalOcc = 0;
    for (const i of live) {
      for (let o = this.#occStart.data[i]!, e = end(i); o < e; o++) counts[occTerms[o]!]!++;
      totalOcc += end(i) - this.#occStart.data[i]!;
    }
    const used = new IntVector(counts.length);
    for (let t = 0; t < counts.length; t++) if (counts[t]! > 0) used.push(t);
    const order = sortTermIds(interner.terms, used.data.subarray(0, used.length));
    const terms: string[] = new Array(order.length);
    const remap = new Int32Array(interner.size);
    const occOffsets = new Uint32Array(terms.length + 1);
    for (let s = 0; s < order.length; s++) {
      const t = order[s]!;
      terms[s] = interner.terms[t]!;
      remap[t] = s;
      occOffsets[s + 1] = occOffsets[s]! + counts[t]!;
    }
    const cursor = occOffsets.slice(0, terms.length);
    const occDoc = new Uint32Array(totalOcc);
    const occP = new Uint32Array(totalOcc);
    for (let d = 0; d < live.length; d++) {
      const i = live[d]!;
      for (let o = this.#occStart.data[i]!, e = end(i); o < e; o++) {
        const slot = cursor[remap[occTerms[o]!]!]!++;
        occDoc[slot] = d;
        occP[slot] = occPos[o]!;
      }
    }
    // At most one posting per occurrence; trimmed below.
    const postStart = new Uint32Array(terms.length + 1);
    let postDocs = new Uint32Array(totalOcc);
    let postFreqs = new Uint32Array(totalOcc);
    let posStart = new Uint32Array(totalOcc + 1);
    const pos = new ByteWriter(totalOcc + 16);
    let p = 0;
    for (let s = 0; s < terms.length; s++) {
      postStart[s] = p;
      let o = occOffsets[s]!;
      const e = occOffsets[s + 1]!;
      while (o < e) {
        const doc = occDoc[o]!;
        posStart[p] = pos.length;
        let q = o;
        let prev = 0;
        while (q < e && occDoc[q] === doc) {
          const v = occP[q]!;
          pos.writeVarint(q === o ? v : v - prev);
          prev = v;
          q++;
        }
        postDocs[p] = doc;
        postFreqs[p] = q - o;
        p++;
        o = q;
      }
    }
    postStart[terms.length] = p;
    posStart[p] = pos.length;
    if (p < totalOcc) {
      postDocs = postDocs.slice(0, p);
      postFreqs = postFreqs.slice(0, p);
      posStart = posStart.slice(0, p + 1);
    }
    return { terms, postStart, postDocs, postFreqs, posStart, posBytes: pos.finish() };
  }

  #buildTrigrams(live: number[]) {
    // (key, doc) pairs in doc order, then a stable LSD radix sort by key (two 11-bit
    // digits; keys are < 2^22), so each key's docs stay sorted. Small count tables only:
    // no scratch table over the whole key space.
    const keys = this.#triKeys.data;
    const end = (i: number) => (i + 1 < this.#docs.length ? this.#triStart.data[i + 1]! : this.#triKeys.length);
    let pairs = 0;
    for (const i of live) pairs += end(i) - this.#triStart.data[i]!;
    let k0 = new Uint32Array(pairs);
    let d0 = new Uint32Array(pairs);
    let at = 0;
    for (let d = 0; d < live.length; d++) {
      const i = live[d]!;
      for (let k = this.#triStart.data[i]!, e = end(i); k < e; k++) {
        k0[at] = keys[k]!;
        d0[at++] = d;
      }
    }
    let k1 = new Uint32Array(pairs);
    let d1 = new Uint32Array(pairs);
    const counts = new Uint32Array(RADIX + 1);
    for (let shift = 0; shift < 22; shift += RADIX_BITS) {
      counts.fill(0);
      for (let j = 0; j < pairs; j++) counts[((k0[j]! >>> shift) & RADIX_MASK) + 1]!++;
      for (let r = 0; r < RADIX; r++) counts[r + 1]! += counts[r]!;
      for (let j = 0; j < pairs; j++) {
        const slot = counts[(k0[j]! >>> shift) & RADIX_MASK]!++;
        k1[slot] = k0[j]!;
        d1[slot] = d0[j]!;
      }
      [k0, k1] = [k1, k0];
      [d0, d1] = [d1, d0];
    }
    let distinct = 0;
    for (let j = 0; j < pairs; j++) if (j === 0 || k0[j] !== k0[j - 1]) distinct++;
    const triKeys = new Uint32Array(distinct);
    const triCount = new Uint32Array(distinct);
    const triStart = new Uint32Array(distinct + 1);
    const bytes = new ByteWriter(pairs + 16);
    let j = 0;
    for (let x = 0; x < distinct; x++) {
      const key = k0[j]!;
      let e = j + 1;
      while (e < pairs && k0[e] === key) e++;
      triKeys[x] = key;
      triCount[x] = e - j;
      triStart[x] = bytes.length;
      writeGaps(bytes, d0, j, e);
      j = e;
    }
    triStart[distinct] = bytes.length;
    return { triKeys, triCount, triStart, triBytes: bytes.finish() };
  }
}

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
const RADIX_MASK = RADIX - 1;

/** Builds metadata columns from per-document field pairs. @internal */
export function buildFieldColumns(perDoc: readonly (readonly string[])[]): Map<string, FieldColumn> {
  const names = new Set<string>();
  for (const pairs of perDoc) for (let i = 0; i < pairs.length; i += 2) names.add(pairs[i]!);
  const out = new Map<string, FieldColumn>();
  for (const name of [...names].sort()) {
    const dict = new Map<string, number>();
    const values: string[] = [];
    const start = new Uint32Array(perDoc.length + 1);
    const ids: number[] = [];
    perDoc.forEach((pairs, d) => {
      start[d] = ids.length;
      for (let i = 0; i < pairs.length; i += 2) {
        if (pairs[i] !== name) continue;
        const value = pairs[i + 1]!;
        let v = dict.get(value);
        if (v === undefined) {
          v = values.length;
          dict.set(value, v);
          values.push(value);
        }
        ids.push(v);
      }
    });
    start[perDoc.length] = ids.length;
    out.set(name, { values, start, valueIds: Uint32Array.from(ids) });
  }
  return out;
}

/** Buckets of {@link sortTermIds}: one per pair of leading ASCII code units, then the rest. */
const PAIR_BUCKETS = 128 * 128;

/**
 * `ids` ordered by their terms (non-empty; UTF-16 code unit order, as `Array.prototype.sort`
 * orders strings), without looking terms up again afterwards: a counting sort on the first two
 * code units, then each bucket sorted on its own (most hold a handful of terms). Half the
 * time of sorting the strings and interning them back, on real code (~130k terms).
 * @internal
 */
export function sortTermIds(terms: readonly string[], ids: Int32Array): Int32Array {
  // Bucket of a (non-empty) term: its first two code units when ASCII (a one-unit term with
  // the units `a, 0`, before every `a, b`); a non-ASCII second unit goes with 127, after
  // every other ASCII one; a non-ASCII first unit goes last.
  const bucketOf = (t: string): number => {
    const a = t.charCodeAt(0);
    if (a >= 128) return PAIR_BUCKETS;
    if (t.length === 1) return a * 128;
    const b = t.charCodeAt(1);
    return b >= 128 ? a * 128 + 127 : a * 128 + b;
  };
  // Terms sharing a bucket (a one-unit term and second units 0; 127 and non-ASCII second
  // units) are ordered by the sort within the bucket, like all others.
  const starts = new Int32Array(PAIR_BUCKETS + 2);
  const keys = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const k = bucketOf(terms[ids[i]!]!);
    keys[i] = k;
    starts[k + 1]!++;
  }
  for (let k = 0; k <= PAIR_BUCKETS; k++) starts[k + 1]! += starts[k]!;
  const fill = starts.slice();
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[fill[keys[i]!]!++] = ids[i]!;
  const byTerm = (x: number, y: number) => {
    const a = terms[x]!;
    const b = terms[y]!;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  for (let k = 0; k <= PAIR_BUCKETS; k++) {
    const s = starts[k]!;
    const e = starts[k + 1]!;
    if (e - s > 12) out.subarray(s, e).sort(byTerm);
    else {
      for (let i = s + 1; i < e; i++) {
        const x = out[i]!;
        const term = terms[x]!;
        let j = i - 1;
        while (j >= s && terms[out[j]!]! > term) {
          out[j + 1] = out[j]!;
          j--;
        }
        out[j + 1] = x;
      }
    }
  }
  return out;
}
