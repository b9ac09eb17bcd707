import { Packr, RESET_BUFFER_MODE } from 'msgpackr';
import { ShelfError } from '../errors/index.ts';
import { crc32 } from './crc32.ts';
import { loadZlib, rawDeflate, rawInflate, zlibIfLoaded } from './zlib.ts';

/**
 * The versioned frame every codeshelf file and stored blob uses. Byte by byte (all integers
 * little-endian):
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 4 | magic `CSHF` (0x43 0x53 0x48 0x46) |
 * | 4 | 1 | format version, currently 1 |
 * | 5 | 1 | flags: bit 0 payload is deflate-compressed; bit 1 payload uses msgpackr records; bit 2 payload is raw bytes (not MessagePack) |
 * | 6 | 2 | reserved, zero |
 * | 8 | 4 | kind: four ASCII characters naming what the frame holds (`COLL`, `SEGM`, ...) |
 * | 12 | 4 | stored payload length in bytes |
 * | 16 | 4 | payload length after decompression |
 * | 20 | 4 | CRC-32 of bytes 4–19 (version to raw length) followed by the stored payload |
 * | 24 | n | payload |
 */
export const FRAME_MAGIC = new Uint8Array([0x43, 0x53, 0x48, 0x46]);
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 24;

const FLAG_DEFLATE = 1;
const FLAG_RECORDS = 2;
const FLAG_RAW = 4;
const KNOWN_FLAGS = FLAG_DEFLATE | FLAG_RECORDS | FLAG_RAW;

/** Options of {@link encodeFrame}. */
export interface FrameOptions {
  /** Four ASCII characters saying what the frame holds. */
  readonly kind: string;
  /** Deflate the payload (default true). */
  readonly compress?: boolean;
  /** Deflate level 0–9 (default 1: fast, and code compresses well even so). */
  readonly level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  /** msgpackr records: smaller and faster for arrays of same-shaped objects (default true). */
  readonly records?: boolean;
}

/** What a decoder knows about the frame it reads, for error messages. */
export interface DecodeContext {
  /** Expected kind; a different one is `CORRUPT`. */
  readonly kind: string;
  /** Names the file, collection or shard in errors. */
  readonly name: string;
}

const recordPackr = new Packr({ useRecords: true, moreTypes: true });
const plainPackr = new Packr({ useRecords: false, moreTypes: true });

function checkKind(kind: string): void {
  if (typeof kind !== 'string' || !/^[\x20-\x7e]{4}$/.test(kind)) {
    throw new ShelfError('INVALID_ARGUMENT', `kind must be four printable ASCII characters, got ${JSON.stringify(kind)}`);
  }
}

function corrupt(ctx: DecodeContext, why: string, cause?: unknown): ShelfError {
  return new ShelfError('CORRUPT', `${ctx.name}: ${why}`, cause === undefined ? {} : { cause });
}

/** CRC-32 over the header fields after the magic (so a flipped flag is caught) and the payload. */
function frameChecksum(bytes: Uint8Array): number {
  return crc32(bytes, FRAME_HEADER_BYTES, bytes.length, crc32(bytes, 4, 20));
}

function frame(payload: Uint8Array, kind: string, flags: number, rawLength: number): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  out.set(FRAME_MAGIC, 0);
  out[4] = FRAME_VERSION;
  out[5] = flags;
  for (let i = 0; i < 4; i++) out[8 + i] = kind.charCodeAt(i);
  view.setUint32(12, payload.length, true);
  view.setUint32(16, rawLength, true);
  out.set(payload, FRAME_HEADER_BYTES);
  view.setUint32(20, frameChecksum(out), true);
  return out;
}

/** Frames raw bytes (no MessagePack), optionally compressed. */
export function encodeFrameBytes(bytes: Uint8Array, options: FrameOptions): Uint8Array {
  checkKind(options.kind);
  if (!(bytes instanceof Uint8Array)) throw new ShelfError('INVALID_ARGUMENT', 'bytes must be a Uint8Array');
  const compress = options.compress ?? true;
  const payload = compress ? rawDeflate(bytes, options.level ?? 1) : bytes;
  return frame(payload, options.kind, FLAG_RAW | (compress ? FLAG_DEFLATE : 0), bytes.length);
}

/**
 * A copy of `bytes` in a buffer of its own. Not `bytes.slice()`: in Node msgpackr packs into
 * a `Buffer`, whose `slice` is a view of the same memory.
 */
const copyOf = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

/**
 * The MessagePack of `value`, as a view of the packer's own buffer that the next `pack`
 * overwrites: callers copy or consume it before they pack again, and never across an
 * `await`. Packing over the same buffer every time (`RESET_BUFFER_MODE`) spares msgpackr
 * growing a fresh buffer every few blocks: packing the collection benchmark's 100 blocks
 * (26.8 MB) took 3–9 ms that way against 26–40 ms (Chromium worker, 8 rounds each).
 */
function pack(value: unknown, options: FrameOptions): { records: boolean; packed: Uint8Array } {
  checkKind(options.kind);
  const records = options.records ?? true;
  try {
    return { records, packed: (records ? recordPackr : plainPackr).pack(value, RESET_BUFFER_MODE) };
  } catch (error) {
    throw new ShelfError('INVALID_ARGUMENT', `value cannot be encoded: ${(error as Error).message}`, { cause: error });
  }
}

/** Encodes `value` with msgpackr, compresses it and wraps it in a frame. */
export function encodeFrame(value: unknown, options: FrameOptions): Uint8Array {
  const { records, packed } = pack(value, options);
  const compress = options.compress ?? true;
  const payload = compress ? rawDeflate(packed, options.level ?? 1) : packed;
  return frame(payload, options.kind, (records ? FLAG_RECORDS : 0) | (compress ? FLAG_DEFLATE : 0), packed.length);
}

/**
 * {@link encodeFrame} in two halves, so the deflate between them can run elsewhere (see
 * compression-helpers.ts): the MessagePack bytes of `value`, in a buffer of their own.
 */
export function packFrameValue(value: unknown, options: FrameOptions): Uint8Array {
  return copyOf(pack(value, options).packed);
}

/** The second half: the frame around `payload`, the raw deflate of `packed` from {@link packFrameValue}. */
export function frameDeflated(payload: Uint8Array, packedLength: number, options: FrameOptions): Uint8Array {
  checkKind(options.kind);
  return frame(payload, options.kind, ((options.records ?? true) ? FLAG_RECORDS : 0) | FLAG_DEFLATE, packedLength);
}

/** A frame whose header and checksum were checked, its payload still as stored. */
export interface CheckedFrame {
  /** The whole frame as checked: header and stored payload (what a writer may copy as it is). */
  readonly bytes: Uint8Array;
  /** The payload as stored (deflated when {@link CheckedFrame.deflated}). */
  readonly stored: Uint8Array;
  readonly flags: number;
  readonly deflated: boolean;
  /** Payload length after decompression. */
  readonly rawLength: number;
}

/**
 * Checks a frame's header and checksum without inflating it (so the inflate can run
 * elsewhere); bad bytes → `CORRUPT`, unknown version → `UNSUPPORTED_VERSION`.
 */
export function checkFrame(bytes: Uint8Array, ctx: DecodeContext): CheckedFrame {
  if (!(bytes instanceof Uint8Array)) throw new ShelfError('INVALID_ARGUMENT', `${ctx.name}: bytes must be a Uint8Array`);
  if (bytes.length < FRAME_HEADER_BYTES) throw corrupt(ctx, `file is ${bytes.length} bytes, shorter than the ${FRAME_HEADER_BYTES}-byte header`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== FRAME_MAGIC[i]) throw corrupt(ctx, 'bad magic bytes (not a codeshelf file)');
  const version = bytes[4]!;
  if (version !== FRAME_VERSION) {
    throw new ShelfError('UNSUPPORTED_VERSION', `${ctx.name}: format version ${version} is not supported (this build reads version ${FRAME_VERSION})`);
  }
  const flags = bytes[5]!;
  if (flags & ~KNOWN_FLAGS || bytes[6] !== 0 || bytes[7] !== 0) throw corrupt(ctx, `unknown flags 0x${flags.toString(16)}`);
  const kind = String.fromCharCode(bytes[8]!, bytes[9]!, bytes[10]!, bytes[11]!);
  if (kind !== ctx.kind) throw corrupt(ctx, `holds a ${JSON.stringify(kind)} frame, expected ${JSON.stringify(ctx.kind)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(12, true);
  const rawLength = view.getUint32(16, true);
  if (bytes.length !== FRAME_HEADER_BYTES + stored) {
    throw corrupt(ctx, `payload is ${bytes.length - FRAME_HEADER_BYTES} bytes, header says ${stored} (truncated or padded)`);
  }
  if (frameChecksum(bytes) !== view.getUint32(20, true)) throw corrupt(ctx, 'checksum mismatch');
  return { bytes, stored: bytes.subarray(FRAME_HEADER_BYTES), flags, deflated: (flags & FLAG_DEFLATE) !== 0, rawLength };
}

/** Checks the header and checksum; returns the decompressed payload and flags. */
function openFrame(bytes: Uint8Array, ctx: DecodeContext, zlib = zlibIfLoaded()): { payload: Uint8Array; flags: number } {
  const checked = checkFrame(bytes, ctx);
  let payload = checked.stored;
  if (checked.deflated) {
    try {
      payload = rawInflate(payload, checked.rawLength, zlib);
    } catch (error) {
      throw corrupt(ctx, 'compressed payload does not inflate', error);
    }
  }
  if (payload.length !== checked.rawLength) throw corrupt(ctx, `payload inflates to ${payload.length} bytes, header says ${checked.rawLength}`);
  return { payload, flags: checked.flags };
}

/** The value of a {@link checkFrame | checked} MessagePack frame, given its inflated payload. */
export function unpackCheckedFrame<T = unknown>(checked: CheckedFrame, payload: Uint8Array, ctx: DecodeContext): T {
  if (payload.length !== checked.rawLength) throw corrupt(ctx, `payload inflates to ${payload.length} bytes, header says ${checked.rawLength}`);
  return unpack<T>(payload, checked.flags, ctx);
}

/** Reads a frame written by {@link encodeFrame}. Bad bytes → `CORRUPT`; unknown version → `UNSUPPORTED_VERSION`. */
export function decodeFrame<T = unknown>(bytes: Uint8Array, ctx: DecodeContext): T {
  const { payload, flags } = openFrame(bytes, ctx);
  return unpack<T>(payload, flags, ctx);
}

/** Reads a frame written by {@link encodeFrameBytes}. */
export function decodeFrameBytes(bytes: Uint8Array, ctx: DecodeContext): Uint8Array {
  const { payload, flags } = openFrame(bytes, ctx);
  if (!(flags & FLAG_RAW)) throw corrupt(ctx, 'frame holds MessagePack, not raw bytes');
  return payload;
}

/** What a frame header says, read before the payload (for streaming readers). */
export interface FrameInfo {
  readonly kind: string;
  /** Header plus stored payload. */
  readonly totalBytes: number;
  /** Payload length after decompression. */
  readonly rawBytes: number;
}

/** Reads and checks the fixed header at the start of `bytes` (at least {@link FRAME_HEADER_BYTES}). */
export function readFrameInfo(bytes: Uint8Array, ctx: Pick<DecodeContext, 'name'>): FrameInfo {
  const full = { kind: '', name: ctx.name };
  if (bytes.length < FRAME_HEADER_BYTES) throw corrupt(full, `truncated: ${bytes.length} bytes where a ${FRAME_HEADER_BYTES}-byte frame header was expected`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== FRAME_MAGIC[i]) throw corrupt(full, 'bad magic bytes (not a codeshelf file)');
  if (bytes[4] !== FRAME_VERSION) {
    throw new ShelfError('UNSUPPORTED_VERSION', `${ctx.name}: format version ${bytes[4]} is not supported (this build reads version ${FRAME_VERSION})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    kind: String.fromCharCode(bytes[8]!, bytes[9]!, bytes[10]!, bytes[11]!),
    totalBytes: FRAME_HEADER_BYTES + view.getUint32(12, true),
    rawBytes: view.getUint32(16, true),
  };
}

type StreamCtor = new (format: 'deflate-raw') => TransformStream<Uint8Array, Uint8Array>;
const g = globalThis as { CompressionStream?: StreamCtor; DecompressionStream?: StreamCtor };

async function pipe(bytes: Uint8Array, transform: TransformStream<Uint8Array, Uint8Array>): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function unpack<T>(payload: Uint8Array, flags: number, ctx: DecodeContext): T {
  if (flags & FLAG_RAW) throw corrupt(ctx, 'frame holds raw bytes, not MessagePack');
  try {
    return (flags & FLAG_RECORDS ? recordPackr : plainPackr).unpack(payload) as T;
  } catch (error) {
    throw corrupt(ctx, `payload is not valid MessagePack: ${(error as Error).message}`, error);
  }
}

/**
 * {@link encodeFrame} that first loads zlib in WebAssembly (deflate at the chosen level);
 * where it cannot load, the platform's `CompressionStream` compresses (its own level), then
 * fflate. The bytes on disk are raw deflate in every case.
 */
export async function encodeFrameAsync(value: unknown, options: FrameOptions): Promise<Uint8Array> {
  const zlib = await loadZlib();
  if (!(options.compress ?? true) || zlib || !g.CompressionStream) return encodeFrame(value, options);
  // Copied: the packer's buffer is reused by any pack made while the stream runs.
  const { records, packed: view } = pack(value, options);
  const packed = copyOf(view);
  const payload = await pipe(packed, new g.CompressionStream('deflate-raw'));
  return frame(payload, options.kind, (records ? FLAG_RECORDS : 0) | FLAG_DEFLATE, packed.length);
}

/** {@link decodeFrame} that inflates with zlib in WebAssembly, else the native `DecompressionStream`. */
export async function decodeFrameAsync<T = unknown>(bytes: Uint8Array, ctx: DecodeContext): Promise<T> {
  return (await decodeFramePayloadAsync<T>(bytes, ctx)).value;
}

/** {@link decodeFrameAsync} that also returns the inflated MessagePack it decoded. */
export async function decodeFramePayloadAsync<T = unknown>(bytes: Uint8Array, ctx: DecodeContext): Promise<{ value: T; payload: Uint8Array }> {
  const zlib = await loadZlib();
  if (zlib || !g.DecompressionStream || bytes.length < FRAME_HEADER_BYTES || !(bytes[5]! & FLAG_DEFLATE)) {
    const { payload, flags } = openFrame(bytes, ctx, zlib);
    return { value: unpack<T>(payload, flags, ctx), payload };
  }
  // Check everything the header and checksum can tell before inflating.
  const checked = checkFrame(bytes, ctx);
  if (checked.flags & FLAG_RAW) throw corrupt(ctx, 'frame holds raw bytes, not MessagePack');
  let payload: Uint8Array;
  try {
    payload = await pipe(checked.stored, new g.DecompressionStream('deflate-raw'));
  } catch (error) {
    throw corrupt(ctx, 'compressed payload does not inflate', error);
  }
  return { value: unpackCheckedFrame<T>(checked, payload, ctx), payload };
}
