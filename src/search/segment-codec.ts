import { decodeFrame, encodeFrame, encodeFrameAsync } from '../codec/index.ts';
import { ShelfError } from '../errors/index.ts';
import { readGaps, readPostings, writeGaps, writePostings } from './postings-codec.ts';
import { SegmentBody, SegmentHead, type FieldColumn } from './segment.ts';
import { textCheckpoints } from './tokenizer.ts';
import { ByteReader, ByteWriter } from './varint.ts';

/**
 * Segment persistence. A segment is two frames (src/codec: magic, version, CRC-32,
 * deflate), so the resident head can be read without the large body:
 *
 * - **head** (kind `SEGH`): `{ f: 1, id, n, docNums, ids, lengths, textLengths, hashes, fields }`
 * - **body** (kind `SEGM`): `{ f: 2, id, n, terms, postings, positions, trigrams, texts, checkpoints }`
 *
 * Integer arrays are packed into byte strings (see docs/search-notes.md for the layout):
 * `docNums` is one delta-varint list; `lengths`, `textLengths` and field `counts` /
 * `valueIds` are plain varints; `hashes` is 8 bytes (float64 LE) per document; `postings`
 * holds, per term, a delta-varint list of local doc ids followed by one varint frequency per
 * posting; `positions` holds, per posting, `freq` delta-varint positions; `trigrams` is
 * `varint keyCount`, then per key `varint keyGap, varint docCount, varint byteLength`, then
 * every key's delta-varint doc list back to back; `checkpoints` holds, per document,
 * `varint count` then the offsets as delta varints (first absolute). Format-1 bodies (no
 * checkpoints) still load: their checkpoints are recomputed from the texts.
 */
export const SEGMENT_FORMAT = 2;
/** Heads have not changed since the first format. */
const HEAD_FORMAT = 1;

interface HeadPayload {
  f: number;
  id: number;
  n: number;
  docNums: Uint8Array;
  ids: string[];
  lengths: Uint8Array;
  textLengths: Uint8Array;
  hashes: Uint8Array;
  fields: { name: string; values: string[]; counts: Uint8Array; valueIds: Uint8Array }[];
}

interface BodyPayload {
  f: number;
  id: number;
  n: number;
  terms: string[];
  postings: Uint8Array;
  positions: Uint8Array;
  trigrams: Uint8Array;
  texts: string[];
  /** Since format 2. */
  checkpoints?: Uint8Array;
}

function varints(values: ArrayLike<number>): Uint8Array {
  const w = new ByteWriter(values.length + 16);
  for (let i = 0; i < values.length; i++) w.writeVarint(values[i]!);
  return w.finish();
}

function readVarints(bytes: Uint8Array, count: number, what: string): Uint32Array {
  const r = new ByteReader(bytes, what);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = r.varint();
  if (!r.done) throw r.corrupt('trailing bytes');
  return out;
}

function check(ok: boolean, name: string, why: string): void {
  if (!ok) throw new ShelfError('CORRUPT', `${name}: ${why}`);
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function isStrings(v: unknown, n?: number): v is string[] {
  return Array.isArray(v) && (n === undefined || v.length === n) && v.every((s) => typeof s === 'string');
}

/** Encodes a segment head as a `SEGH` frame. @internal */
export function encodeHead(head: SegmentHead): Uint8Array {
  const docNums = new ByteWriter(head.docCount * 2 + 8);
  writePostings(docNums, head.docNums);
  const hashes = new Uint8Array(head.docCount * 8);
  const view = new DataView(hashes.buffer);
  for (let i = 0; i < head.docCount; i++) view.setFloat64(i * 8, head.hashes[i]!, true);
  const fields = [...head.fields].map(([name, col]) => {
    const counts = new Uint32Array(head.docCount);
    for (let d = 0; d < head.docCount; d++) counts[d] = col.start[d + 1]! - col.start[d]!;
    return { name, values: [...col.values], counts: varints(counts), valueIds: varints(col.valueIds) };
  });
  const payload: HeadPayload = {
    f: HEAD_FORMAT, id: head.id, n: head.docCount, docNums: docNums.finish(), ids: [...head.ids],
    lengths: varints(head.docLengths), textLengths: varints(head.textLengths), hashes, fields,
  };
  return encodeFrame(payload, { kind: 'SEGH', records: false });
}

/** Decodes a `SEGH` frame; anything inconsistent is `CORRUPT` naming `name`. @internal */
export function decodeHead(bytes: Uint8Array, name: string, expectedId: number): SegmentHead {
  const p = decodeFrame<HeadPayload>(bytes, { kind: 'SEGH', name });
  check(p !== null && typeof p === 'object', name, 'payload is not an object');
  if (p.f !== HEAD_FORMAT) throw new ShelfError('UNSUPPORTED_VERSION', `${name}: segment format ${String(p.f)} is not supported`);
  check(p.id === expectedId, name, `holds segment ${String(p.id)}, expected ${expectedId}`);
  const n = p.n;
  check(Number.isInteger(n) && n >= 0, name, 'bad document count');
  check(isBytes(p.docNums) && isBytes(p.lengths) && isBytes(p.textLengths) && isBytes(p.hashes), name, 'missing arrays');
  check(isStrings(p.ids, n), name, 'ids do not match the document count');
  const docNums = readPostings(new ByteReader(p.docNums, `${name} docNums`));
  check(docNums.length === n, name, 'docNums do not match the document count');
  check(p.hashes.length === n * 8, name, 'hashes do not match the document count');
  const hashes = new Float64Array(n);
  const view = new DataView(p.hashes.buffer, p.hashes.byteOffset, p.hashes.byteLength);
  for (let i = 0; i < n; i++) hashes[i] = view.getFloat64(i * 8, true);
  check(Array.isArray(p.fields), name, 'fields is not an array');
  const fields = new Map<string, FieldColumn>();
  for (const f of p.fields) {
    check(typeof f?.name === 'string' && isStrings(f.values) && isBytes(f.counts) && isBytes(f.valueIds), name, 'bad field column');
    const counts = readVarints(f.counts, n, `${name} field ${f.name}`);
    const start = new Uint32Array(n + 1);
    for (let d = 0; d < n; d++) start[d + 1] = start[d]! + counts[d]!;
    const valueIds = readVarints(f.valueIds, start[n]!, `${name} field ${f.name}`);
    for (const v of valueIds) check(v < f.values.length, name, `field ${f.name} refers to a missing value`);
    fields.set(f.name, { values: f.values, start, valueIds });
  }
  return new SegmentHead(
    p.id, docNums, p.ids, readVarints(p.lengths, n, `${name} lengths`), readVarints(p.textLengths, n, `${name} textLengths`),
    hashes, fields,
  );
}

/** Encodes a segment body as a `SEGM` frame. @internal */
export function encodeBody(id: number, body: SegmentBody): Uint8Array {
  return encodeFrame(bodyPayload(id, body), { kind: 'SEGM', records: false });
}

/** {@link encodeBody} with the platform's native deflate, for large merged segments built in the background. @internal */
export function encodeBodyAsync(id: number, body: SegmentBody): Promise<Uint8Array> {
  return encodeFrameAsync(bodyPayload(id, body), { kind: 'SEGM', records: false });
}

function bodyPayload(id: number, body: SegmentBody): BodyPayload {
  const postings = new ByteWriter(body.postDocs.length * 3 + 16);
  for (let t = 0; t < body.terms.size; t++) {
    const from = body.postStart[t]!;
    const to = body.postStart[t + 1]!;
    postings.writeVarint(to - from);
    writeGaps(postings, body.postDocs, from, to);
    for (let p = from; p < to; p++) postings.writeVarint(body.freq(p));
  }
  const trigrams = new ByteWriter(body.triKeys.length * 4 + body.triBytes.length + 16);
  trigrams.writeVarint(body.triKeys.length);
  let prev = 0;
  for (let j = 0; j < body.triKeys.length; j++) {
    const key = body.triKeys[j]!;
    trigrams.writeVarint(j === 0 ? key : key - prev);
    prev = key;
    trigrams.writeVarint(body.triCount[j]!);
    trigrams.writeVarint(body.triStart[j + 1]! - body.triStart[j]!);
  }
  trigrams.writeBytes(body.triBytes);
  const checkpoints = new ByteWriter(body.checkpoints.length * 2 + body.texts.length + 16);
  for (let d = 0; d < body.texts.length; d++) {
    const from = body.cpStart[d]!;
    const to = body.cpStart[d + 1]!;
    checkpoints.writeVarint(to - from);
    let prevOffset = 0;
    for (let b = from; b < to; b++) {
      checkpoints.writeVarint(body.checkpoints[b]! - prevOffset);
      prevOffset = body.checkpoints[b]!;
    }
  }
  const payload: BodyPayload = {
    f: SEGMENT_FORMAT, id, n: body.texts.length, terms: body.terms.toArray(), postings: postings.finish(),
    positions: body.posBytes, trigrams: trigrams.finish(), texts: [...body.texts], checkpoints: checkpoints.finish(),
  };
  return payload;
}

/** Decodes a `SEGM` frame, validating every offset; inconsistencies are `CORRUPT` naming `name`. @internal */
export function decodeBody(bytes: Uint8Array, name: string, expectedId: number, docCount: number): SegmentBody {
  const p = decodeFrame<BodyPayload>(bytes, { kind: 'SEGM', name });
  check(p !== null && typeof p === 'object', name, 'payload is not an object');
  if (p.f !== SEGMENT_FORMAT && p.f !== 1) throw new ShelfError('UNSUPPORTED_VERSION', `${name}: segment format ${String(p.f)} is not supported`);
  check(p.id === expectedId, name, `holds segment ${String(p.id)}, expected ${expectedId}`);
  check(p.n === docCount && isStrings(p.texts, docCount), name, `texts do not match the ${docCount} documents of the head`);
  check(isStrings(p.terms) && isBytes(p.postings) && isBytes(p.positions) && isBytes(p.trigrams), name, 'missing arrays');
  for (let t = 1; t < p.terms.length; t++) check(p.terms[t - 1]! < p.terms[t]!, name, 'terms are not sorted');

  const r = new ByteReader(p.postings, `${name} postings`);
  const postStart = new Uint32Array(p.terms.length + 1);
  let docs = new Uint32Array(Math.max(16, p.postings.length));
  let freqs = new Uint32Array(docs.length);
  let total = 0;
  for (let t = 0; t < p.terms.length; t++) {
    postStart[t] = total;
    const count = r.varint();
    check(count > 0 && count <= docCount, name, `term ${t} has ${count} postings`);
    if (total + count > docs.length) {
      const grownD = new Uint32Array((total + count) * 2);
      grownD.set(docs);
      docs = grownD;
      const grownF = new Uint32Array(grownD.length);
      grownF.set(freqs);
      freqs = grownF;
    }
    readGaps(r, count, docs.subarray(total, total + count));
    check(docs[total + count - 1]! < docCount, name, `term ${t} names a document past the end`);
    for (let i = 0; i < count; i++) freqs[total + i] = r.varint();
    total += count;
  }
  postStart[p.terms.length] = total;
  check(r.done, name, 'trailing postings bytes');

  const posBytes = new Uint8Array(p.positions);
  const posStart = new Uint32Array(total + 1);
  const pr = new ByteReader(posBytes, `${name} positions`);
  for (let i = 0; i < total; i++) {
    posStart[i] = pr.pos;
    const f = freqs[i]!;
    check(f > 0, name, 'posting with zero frequency');
    for (let k = 0; k < f; k++) pr.varint();
  }
  posStart[total] = pr.pos;
  check(pr.done, name, 'trailing position bytes');

  const tr = new ByteReader(p.trigrams, `${name} trigrams`);
  const nKeys = tr.varint();
  check(nKeys <= p.trigrams.length, name, 'bad trigram count');
  const triKeys = new Uint32Array(nKeys);
  const triCount = new Uint32Array(nKeys);
  const triStart = new Uint32Array(nKeys + 1);
  let key = 0;
  let at = 0;
  for (let j = 0; j < nKeys; j++) {
    const gap = tr.varint();
    check(j === 0 || gap > 0, name, 'trigram keys are not increasing');
    key = j === 0 ? gap : key + gap;
    triKeys[j] = key;
    triCount[j] = tr.varint();
    check(triCount[j]! > 0 && triCount[j]! <= docCount, name, 'bad trigram list length');
    triStart[j] = at;
    at += tr.varint();
  }
  triStart[nKeys] = at;
  check(tr.end - tr.pos === at, name, 'trigram lists do not add up');
  const triBytes = new Uint8Array(tr.take(at));
  const lr = new ByteReader(triBytes, `${name} trigram lists`);
  for (let j = 0; j < nKeys; j++) {
    check(lr.pos === triStart[j], name, `trigram list ${j} has the wrong length`);
    const list = readGaps(lr, triCount[j]!);
    check(list[list.length - 1]! < docCount, name, 'trigram list names a document past the end');
  }
  check(lr.done, name, 'trailing trigram list bytes');

  const { cpStart, checkpoints } = p.f === 1 ? computeCheckpoints(p.texts) : readCheckpoints(p.checkpoints, p.texts, name);
  return new SegmentBody({
    terms: p.terms, postStart, postDocs: docs.slice(0, total), postFreqs: freqs.slice(0, total), posStart, posBytes,
    triKeys, triCount, triStart, triBytes, texts: p.texts, cpStart, checkpoints,
  });
}

function readCheckpoints(bytes: unknown, texts: readonly string[], name: string): { cpStart: Uint32Array; checkpoints: Uint32Array } {
  check(isBytes(bytes), name, 'missing checkpoints');
  const r = new ByteReader(bytes as Uint8Array, `${name} checkpoints`);
  const cpStart = new Uint32Array(texts.length + 1);
  let out = new Uint32Array(Math.max(16, texts.length * 4));
  let n = 0;
  for (let d = 0; d < texts.length; d++) {
    const count = r.varint();
    // Every checkpoint is the start of an identifier, so there are fewer than characters.
    check(count <= texts[d]!.length, name, `document ${d} has ${count} checkpoints`);
    if (n + count > out.length) {
      const grown = new Uint32Array((n + count) * 2);
      grown.set(out.subarray(0, n));
      out = grown;
    }
    let offset = 0;
    for (let b = 0; b < count; b++) {
      offset += r.varint();
      check(offset < texts[d]!.length, name, `checkpoint past the end of document ${d}`);
      out[n++] = offset;
    }
    cpStart[d + 1] = n;
  }
  check(r.done, name, 'trailing checkpoint bytes');
  return { cpStart, checkpoints: out.slice(0, n) };
}

/** Checkpoints of format-1 bodies, which did not store them. */
function computeCheckpoints(texts: readonly string[]): { cpStart: Uint32Array; checkpoints: Uint32Array } {
  const per = texts.map(textCheckpoints);
  const cpStart = new Uint32Array(texts.length + 1);
  per.forEach((c, d) => (cpStart[d + 1] = cpStart[d]! + c.length));
  const checkpoints = new Uint32Array(cpStart[texts.length]!);
  per.forEach((c, d) => checkpoints.set(c, cpStart[d]));
  return { cpStart, checkpoints };
}
