export { crc32 } from './crc32.ts';
export {
  encodeFrame, decodeFrame, encodeFrameAsync, decodeFrameAsync, decodeFramePayloadAsync, encodeFrameBytes, decodeFrameBytes,
  readFrameInfo, packFrameValue, frameDeflated, checkFrame, unpackCheckedFrame, type CheckedFrame, FRAME_MAGIC, FRAME_VERSION, FRAME_HEADER_BYTES, type FrameInfo,
  type FrameOptions, type DecodeContext,
} from './frame.ts';
export { encodeRecord, readRecords, RECORD_HEADER_BYTES, type RecordScan } from './record-log.ts';
export { toColumns, fromColumns, encodeColumn, decodeColumn, columnsFormat, columnBuffers, type Column } from './columns.ts';
export { deflateBlocks, frameBlocks, inflateInOrder, InflateError, type DeflateBlocksOptions, type FramePiece } from './compression-helpers.ts';
