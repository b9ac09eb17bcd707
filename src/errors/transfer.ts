import { transferHandlers, type TransferHandler } from 'comlink';
import { ShelfError, type ShelfErrorCode } from './shelf-error.ts';

interface SerializedCause {
  name?: string;
  message?: string;
  stack?: string;
  code?: string;
}

interface SerializedShelfError {
  code: ShelfErrorCode;
  message: string;
  stack?: string;
  cause?: SerializedCause | string | number | boolean | null;
}

/** A cause as plain data that survives structured cloning (name, message, stack, code). @internal */
export function serializeCause(cause: unknown): SerializedShelfError['cause'] {
  if (cause === undefined || cause === null) return null;
  if (typeof cause === 'string' || typeof cause === 'number' || typeof cause === 'boolean') return cause;
  const e = cause as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
  const out: SerializedCause = {};
  if (typeof e.name === 'string') out.name = e.name;
  if (typeof e.message === 'string') out.message = e.message;
  if (typeof e.stack === 'string') out.stack = e.stack;
  if (typeof e.code === 'string') out.code = e.code;
  return out;
}

let installed = false;

/**
 * Replaces Comlink's "throw" transfer handler with one that keeps {@link ShelfError}s whole
 * (code, message, stack, and the cause's name/message/stack) across the worker boundary.
 * Other errors keep Comlink's own behaviour. Safe to call more than once; the client and the
 * worker both call it when loaded.
 * @internal
 */
export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const original = transferHandlers.get('throw') as TransferHandler<{ value: unknown }, unknown>;
  const handler: TransferHandler<{ value: unknown }, unknown> = {
    canHandle: (value): value is { value: unknown } => original.canHandle(value),
    serialize(thrown) {
      const { value } = thrown;
      if (value instanceof ShelfError) {
        const wire: SerializedShelfError = { code: value.code, message: value.message, cause: serializeCause(value.cause) };
        if (value.stack !== undefined) wire.stack = value.stack;
        return [{ shelf: wire }, []];
      }
      return original.serialize(thrown);
    },
    deserialize(serialized) {
      const wire = (serialized as { shelf?: SerializedShelfError } | null)?.shelf;
      if (!wire) return original.deserialize(serialized);
      const error = new ShelfError(wire.code, wire.message, wire.cause === null ? {} : { cause: wire.cause });
      if (wire.stack !== undefined) error.stack = wire.stack;
      throw error;
    },
  };
  transferHandlers.set('throw', handler);
}
