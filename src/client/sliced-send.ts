import { ShelfError } from '../errors/index.ts';
import { toPageError } from './page-errors.ts';

/**
 * Large writes from the page, sent in slices. A structured clone of 100k documents took the
 * page 200–220 ms in one piece (`collections.insertMany`; `kv.batch` of as many values
 * 255–290 ms): a frozen page. Past {@link SLICE_FROM} items the array goes to the worker
 * in slices, each its own message, with the page's event loop running between them (input,
 * rendering), and the worker's call then takes them whole: one atomic write, as before.
 * Slices are sized to take about {@link SLICE_MS} each to clone, learnt from the one before.
 * @internal
 */

/** Arrays up to this many items go in one message. */
export const SLICE_FROM = 512;
/** About how long cloning one slice should take the page. */
const SLICE_MS = 4;
const MIN_SLICE = 64;
const MAX_SLICE = 16_384;

/**
 * Lets the page's event loop run a turn (a task, not a microtask), without setTimeout's
 * clamping. Not `scheduler.yield()`: its continuations go ahead of the page's own tasks,
 * and sending 100k documents that way still kept timers from running for 245–295 ms and
 * frames for about 100 ms, where a message task between slices kept both under 22 ms.
 */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(undefined);
  });
}

let nextToken = 1;

/** How a sliced write reaches the worker: stage slices under a token, drop them, or write them. */
export interface SlicedWrite<T, R> {
  readonly stage: (token: number, slice: T[]) => Promise<void>;
  readonly unstage: (token: number) => Promise<void>;
  readonly commit: (token: number) => Promise<R>;
}

/**
 * Sends `items` in slices through `write.stage`, then runs `write.commit` on them all. An
 * item that cannot be sent fails the call as `INVALID_ARGUMENT` naming it (as a call in
 * one piece would: `call`, `args` and `names` describe the whole call), after the slices
 * sent before it are dropped in the worker.
 * @internal
 */
export async function sendSliced<T, R>(
  items: readonly T[], write: SlicedWrite<T, R>, call: string, args: readonly unknown[], names: readonly string[], isClosed: () => boolean,
): Promise<R> {
  const token = nextToken++;
  const sent: Promise<void>[] = [];
  let failed: { error: unknown } | undefined;
  try {
    let size = MIN_SLICE * 4;
    for (let at = 0; at < items.length; ) {
      // A slice that could not be sent (or the shelf closing) stops the rest.
      if (failed) throw failed.error;
      if (isClosed()) throw new ShelfError('CLOSED', `${call}: the shelf closed while the write was sent`);
      const slice = items.slice(at, at + size);
      const started = performance.now();
      // The clone happens here, before stage() returns its promise.
      const staged = write.stage(token, slice);
      staged.catch((error: unknown) => (failed ??= { error }));
      sent.push(staged);
      const took = performance.now() - started;
      at += slice.length;
      size = Math.max(MIN_SLICE, Math.min(MAX_SLICE, Math.round((size * SLICE_MS) / Math.max(took, 0.25))));
      if (at < items.length) await yieldToPage();
    }
    await Promise.all(sent);
  } catch (error) {
    // Not waited for: a closed shelf's worker never answers.
    write.unstage(token).catch(() => undefined);
    throw toPageError(error, call, args, names);
  }
  return write.commit(token);
}
