/**
 * The one error class codeshelf throws. Every failure carries a typed {@link ShelfErrorCode}
 * so callers branch on `code`, never on message text; the underlying DOMException, SQLite
 * error or decoder failure is kept as `cause`.
 *
 * @example
 * ```ts
 * try { await shelf.kv.transaction(fn) }
 * catch (e) { if (e instanceof ShelfError && e.code === 'TXN_CONFLICT') retry() }
 * ```
 */
export type ShelfErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'TXN_CONFLICT'
  | 'QUOTA_EXCEEDED'
  | 'CORRUPT'
  | 'UNSUPPORTED_VERSION'
  | 'CLOSED'
  | 'ABORTED'
  | 'INTERNAL';

/** All codes, for validation and exhaustive tests. */
export const SHELF_ERROR_CODES: readonly ShelfErrorCode[] = [
  'NOT_FOUND',
  'INVALID_ARGUMENT',
  'TXN_CONFLICT',
  'QUOTA_EXCEEDED',
  'CORRUPT',
  'UNSUPPORTED_VERSION',
  'CLOSED',
  'ABORTED',
  'INTERNAL',
];

/** A codeshelf failure with a machine-readable `code`. */
export class ShelfError extends Error {
  override readonly name = 'ShelfError';
  readonly code: ShelfErrorCode;

  constructor(code: ShelfErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `value` is a {@link ShelfError}, optionally with the given code. */
export function isShelfError(value: unknown, code?: ShelfErrorCode): value is ShelfError {
  return value instanceof ShelfError && (code === undefined || value.code === code);
}

/**
 * Wraps anything thrown by a browser API into a {@link ShelfError}, mapping well-known
 * DOMException names to codes. A ShelfError passes through unchanged.
 * @internal
 */
export function toShelfError(error: unknown, context: string): ShelfError {
  if (error instanceof ShelfError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  const message = (error as { message?: unknown } | null)?.message;
  const detail = typeof message === 'string' && message ? `: ${message}` : '';
  switch (name) {
    case 'QuotaExceededError':
      return new ShelfError('QUOTA_EXCEEDED', `${context}: storage quota exceeded${detail}`, { cause: error });
    case 'AbortError':
      return new ShelfError('ABORTED', `${context}: aborted${detail}`, { cause: error });
    case 'DataError':
    case 'DataCloneError':
    case 'TypeError':
      return new ShelfError('INVALID_ARGUMENT', `${context}${detail}`, { cause: error });
    case 'NotFoundError':
      return new ShelfError('NOT_FOUND', `${context}${detail}`, { cause: error });
    case 'InvalidStateError':
    case 'TransactionInactiveError':
      return new ShelfError('CLOSED', `${context}: database is not open${detail}`, { cause: error });
    case 'VersionError':
      return new ShelfError('UNSUPPORTED_VERSION', `${context}${detail}`, { cause: error });
    default:
      return new ShelfError('INTERNAL', `${context}${detail || ': ' + String(error)}`, { cause: error });
  }
}
