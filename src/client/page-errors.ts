import { ShelfError, toShelfError } from '../errors/index.ts';

/** Deepest nesting {@link findUncloneable} descends into. */
const MAX_DEPTH = 8;

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  const ctor = (value as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof ctor === 'string' && ctor ? `a ${ctor}` : typeof value;
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of the first part of `value` that structured cloning refuses (a function, a
 * symbol, a class instance holding one...), `where` itself when no smaller part is to
 * blame, undefined when `value` clones. Only runs once a call has already failed.
 * @internal
 */
export function findUncloneable(value: unknown, where: string, depth = 0): { path: string; what: string } | undefined {
  if (cloneable(value)) return undefined;
  if (depth < MAX_DEPTH && value !== null && typeof value === 'object') {
    const isArray = Array.isArray(value);
    for (const key of Object.keys(value)) {
      const inner = findUncloneable((value as Record<string, unknown>)[key], isArray ? `${where}[${key}]` : `${where}.${key}`, depth + 1);
      if (inner) return inner;
    }
  }
  return { path: where, what: describe(value) };
}

/**
 * Turns what a call to a worker rejected with into the {@link ShelfError} the page sees.
 * A `DataCloneError` means one of the arguments cannot be sent to the worker at all (a
 * function, a symbol...): `INVALID_ARGUMENT` naming it, found by cloning each argument
 * again (argument names where the caller knows them, else `arguments[i]`). Anything else
 * that is not a ShelfError yet goes through {@link toShelfError}.
 * @internal
 */
export function toPageError(error: unknown, call: string, args: readonly unknown[] = [], names: readonly string[] = []): ShelfError {
  if (error instanceof ShelfError) return error;
  if (isCloneError(error)) {
    for (let i = 0; i < args.length; i++) {
      const found = findUncloneable(args[i], names[i] ?? `arguments[${i}]`);
      if (found) {
        return new ShelfError('INVALID_ARGUMENT', `${call}: ${found.path} is ${found.what}, which cannot be sent to the worker`, { cause: error });
      }
    }
    return new ShelfError('INVALID_ARGUMENT', `${call}: a value cannot be sent to or from the worker`, { cause: error });
  }
  return toShelfError(error, call);
}

/** Whether `error` says a value could not be structured-cloned (a DOMException, or its Comlink copy). @internal */
export function isCloneError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'DataCloneError';
}

/**
 * `promise`, rejecting with {@link toPageError} of its error. With `callback` (the call
 * hands the worker a function that runs on the page: a transaction, `analyze`, `repair`'s
 * `fetch`), only a failed send is mapped: an error the page's own function threw comes
 * back as it was.
 * @internal
 */
export function mapPageError<T>(promise: Promise<T>, call: string, args: readonly unknown[] = [], names: readonly string[] = [], callback = false): Promise<T> {
  return promise.catch((error: unknown) => {
    if (!callback) throw toPageError(error, call, args, names);
    // A clone error is the send's only when an argument cannot be cloned; otherwise the
    // page's own function threw it (its own structuredClone, say) and it goes back as it was.
    const sendFailed = isCloneError(error) && args.some((arg, i) => findUncloneable(arg, names[i] ?? `arguments[${i}]`) !== undefined);
    throw sendFailed ? toPageError(error, call, args, names) : error;
  });
}
