import { ShelfError } from '../errors/index.ts';
import type { BatchOp, ScanOptions } from './types.ts';

/** Size limits enforced at the API edge. */
export interface KvLimits {
  /** Longest key in UTF-16 code units (default 4,096). */
  readonly maxKeyLength: number;
  /** Largest value in bytes (default 32 MiB). */
  readonly maxValueBytes: number;
}

/** @internal */
export const DEFAULT_LIMITS: KvLimits = { maxKeyLength: 4096, maxValueBytes: 32 * 1024 * 1024 };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/** @internal */
export function checkKey(key: unknown, limits: KvLimits, argument = 'key'): asserts key is string {
  if (typeof key !== 'string') {
    throw new ShelfError('INVALID_ARGUMENT', `${argument} must be a string, got ${describe(key)}`);
  }
  if (key.length === 0) throw new ShelfError('INVALID_ARGUMENT', `${argument} must not be empty`);
  if (key.length > limits.maxKeyLength) {
    throw new ShelfError(
      'INVALID_ARGUMENT',
      `${argument} is ${key.length} characters long; the limit is ${limits.maxKeyLength}`,
    );
  }
}

/** @internal */
export function checkValue(value: unknown, limits: KvLimits, argument = 'value'): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new ShelfError('INVALID_ARGUMENT', `${argument} must be a Uint8Array, got ${describe(value)}`);
  }
  // A view of a transferred buffer reads as empty: stored, it would silently be nothing.
  if (isDetached(value)) {
    throw new ShelfError('INVALID_ARGUMENT', `${argument} is a view of a detached (transferred) ArrayBuffer`);
  }
  if (value.byteLength > limits.maxValueBytes) {
    throw new ShelfError(
      'INVALID_ARGUMENT',
      `${argument} is ${value.byteLength} bytes; the limit is ${limits.maxValueBytes}`,
    );
  }
}

/** Whether `value` views a detached (transferred) buffer; such a view reads as empty. */
function isDetached(value: Uint8Array): boolean {
  const flag = (value.buffer as { detached?: unknown }).detached;
  if (typeof flag === 'boolean') return flag;
  if (value.byteLength !== 0) return false;
  try {
    // Runtimes without ArrayBuffer.prototype.detached (Node 20): a new view of a detached buffer throws.
    void new Uint8Array(value.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** A copy of `value` as a plain Uint8Array (a Node Buffer's own slice() is a view, not a copy). @internal */
export function copyBytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

/** @internal */
export function checkKeys(keys: unknown, limits: KvLimits): asserts keys is string[] {
  if (!Array.isArray(keys)) throw new ShelfError('INVALID_ARGUMENT', `keys must be an array, got ${describe(keys)}`);
  for (let i = 0; i < keys.length; i++) checkKey(keys[i], limits, `keys[${i}]`);
}

/** Validates every op before anything is written, so one bad op rejects the whole batch. @internal */
export function checkBatch(ops: unknown, limits: KvLimits): asserts ops is BatchOp[] {
  if (!Array.isArray(ops)) throw new ShelfError('INVALID_ARGUMENT', `ops must be an array, got ${describe(ops)}`);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Partial<BatchOp> | null;
    if (op === null || typeof op !== 'object') {
      throw new ShelfError('INVALID_ARGUMENT', `ops[${i}] must be an object, got ${describe(op)}`);
    }
    checkKey(op.key, limits, `ops[${i}].key`);
    if (op.type === 'put') checkValue((op as { value?: unknown }).value, limits, `ops[${i}].value`);
    else if (op.type !== 'delete') {
      throw new ShelfError('INVALID_ARGUMENT', `ops[${i}].type must be "put" or "delete", got ${String(op.type)}`);
    }
  }
}

/** @internal */
export function checkScanOptions(options: unknown): asserts options is ScanOptions | undefined {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    throw new ShelfError('INVALID_ARGUMENT', `options must be an object, got ${describe(options)}`);
  }
  const { limit } = options as ScanOptions;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new ShelfError('INVALID_ARGUMENT', `options.limit must be a non-negative integer, got ${String(limit)}`);
  }
}
