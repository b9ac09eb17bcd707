import { decodeFrame, encodeFrame } from '../codec/index.ts';
import { ShelfError } from '../errors/index.ts';
import { encodePostings, readPostings } from './postings-codec.ts';
import { ByteReader } from './varint.ts';

/** Format version of the manifest payload. */
export const MANIFEST_FORMAT = 1;

/** What the manifest says about one segment. */
export interface SegmentDescriptor {
  readonly id: number;
  readonly docs: number;
  readonly minDoc: number;
  readonly maxDoc: number;
  readonly tokens: number;
}

/**
 * The index's table of contents, stored as one `SMAN` frame under `manifest`: the
 * segments in doc-number order, the deleted doc numbers of saved segments (tombstones, a
 * delta-varint list), and the allocators. Writing it last makes a flush atomic: segments it
 * does not name are ignored.
 */
export interface Manifest {
  readonly generation: number;
  readonly nextDocNum: number;
  readonly nextSegmentId: number;
  readonly segments: readonly SegmentDescriptor[];
  /** Sorted deleted doc numbers. */
  readonly tombstones: Uint32Array;
}

interface ManifestPayload {
  f: number;
  generation: number;
  nextDocNum: number;
  nextSegmentId: number;
  segments: [number, number, number, number, number][];
  tombstones: Uint8Array;
}

/** Encodes a manifest frame. @internal */
export function encodeManifest(m: Manifest): Uint8Array {
  const payload: ManifestPayload = {
    f: MANIFEST_FORMAT,
    generation: m.generation,
    nextDocNum: m.nextDocNum,
    nextSegmentId: m.nextSegmentId,
    segments: m.segments.map((s) => [s.id, s.docs, s.minDoc, s.maxDoc, s.tokens]),
    tombstones: encodePostings(m.tombstones),
  };
  return encodeFrame(payload, { kind: 'SMAN', records: false });
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** Decodes a manifest frame; anything inconsistent is `CORRUPT` naming `name`. @internal */
export function decodeManifest(bytes: Uint8Array, name: string): Manifest {
  const p = decodeFrame<ManifestPayload>(bytes, { kind: 'SMAN', name });
  const bad = (why: string) => new ShelfError('CORRUPT', `${name}: ${why}`);
  if (p === null || typeof p !== 'object') throw bad('payload is not an object');
  if (p.f !== MANIFEST_FORMAT) throw new ShelfError('UNSUPPORTED_VERSION', `${name}: manifest format ${String(p.f)} is not supported`);
  if (!isCount(p.generation) || !isCount(p.nextDocNum) || !isCount(p.nextSegmentId)) throw bad('bad counters');
  if (!Array.isArray(p.segments) || !(p.tombstones instanceof Uint8Array)) throw bad('missing segment list or tombstones');
  const segments: SegmentDescriptor[] = [];
  let lastMax = -1;
  for (const s of p.segments) {
    if (!Array.isArray(s) || s.length !== 5 || !s.every(isCount)) throw bad('bad segment entry');
    const [id, docs, minDoc, maxDoc, tokens] = s;
    if (id >= p.nextSegmentId || (docs > 0 && (minDoc <= lastMax || maxDoc < minDoc || maxDoc >= p.nextDocNum))) {
      throw bad(`segment ${id} has an inconsistent doc range`);
    }
    if (docs > 0) lastMax = maxDoc;
    segments.push({ id, docs, minDoc, maxDoc, tokens });
  }
  const tombstones = readPostings(new ByteReader(p.tombstones, `${name} tombstones`));
  return { generation: p.generation, nextDocNum: p.nextDocNum, nextSegmentId: p.nextSegmentId, segments, tombstones };
}
