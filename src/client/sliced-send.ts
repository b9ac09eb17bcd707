import { toPageError } from './page-errors.ts';

/**
 * Large writes from the page, sent in slices. Structured cloning runs on the sending thread,
 * one message at a time: `collections.insertMany` of 100k documents held the page 202–394 ms
 * in one piece, `kv.batch` of as many values 255–291 ms. Past {@link SLICE_FROM} items the
 * array goes to the worker in slices, each its own message, with the page's event loop
 * running between them (input, rendering), and the worker's call then takes them whole: one
 * atomic write, as before. A slice is sized from the one before to take about
 * {@link SLICE_MS} to clone, growing at most twofold a step: items that suddenly get larger
 * cost at most one slice of twice the size that fitted before.
 *
 * The array is copied when the call is made (items added or removed later do not count);
 * the items themselves are cloned as their slice goes, so an item changed before the call
 * resolves may be written changed. Calls made on the page after this one reach the worker
 * after its write (see `inOrder` in open-shelf.ts).
 * @internal
 */

/** Arrays up to this many items go in one message. */
export const SLICE_FROM = 512;
/** About how long cloning one slice should take the page. */
const SLICE_MS = 4;
const FIRST_SLICE = 256;
const MIN_SLICE = 32;
const MAX_SLICE = 4096;

/** Lets the page's event loop run a turn (a task, not a microtask), without setTimeout's clamping. */
function yieldToPage(): Promise<void> {
  // Not scheduler.yield(): its continuations go ahead of the page's own tasks. Sending 100k
  // documents that way still kept timers from running for 245–295 ms and frames for about
  // 100 ms; a message task between slices kept both under 22 ms.
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

/** Where slices wait in the worker until a write takes them (the storage worker's `stage`/`unstage`). */
export interface SliceStaging {
  readonly stage: (token: number, slice: unknown[]) => Promise<void>;
  readonly unstage: (token: number) => Promise<void>;
}

/**
 * Sends `all` (the caller's copy, taken when the call was made) in slices through
 * `staging`, then runs `commit` on them all (the write that takes what is staged under its
 * token).
 * `posted` is called once the commit is posted, or the write has failed before it: later
 * calls may go from then on. An item that cannot be sent fails the call as
 * `INVALID_ARGUMENT` naming it (as a call in one piece would: `call`, `args` and `names`
 * describe the whole call). Whatever fails, the slices staged are dropped in the worker.
 * `isGone` says the worker will never answer (stop sending).
 * @internal
 */
export async function sendSliced<R>(
  all: readonly unknown[], staging: SliceStaging, commit: (token: number) => Promise<R>,
  call: string, args: readonly unknown[], names: readonly string[], isGone: () => boolean, posted: () => void,
): Promise<R> {
  const token = nextToken++;
  const sent: Promise<void>[] = [];
  let failed: { error: unknown } | undefined;
  let committed: Promise<R>;
  try {
    let size = FIRST_SLICE;
    for (let at = 0; at < all.length; ) {
      // A slice that could not be sent stops the rest.
      if (failed) throw failed.error;
      if (isGone()) throw toPageError(new Error('the storage worker is gone'), call);
      const slice = all.slice(at, at + size);
      const started = performance.now();
      // The clone happens here, before stage() returns its promise.
      const staged = staging.stage(token, slice);
      staged.catch((error: unknown) => (failed ??= { error }));
      sent.push(staged);
      const took = performance.now() - started;
      at += slice.length;
      size = Math.max(MIN_SLICE, Math.min(MAX_SLICE, size * 2, Math.round((size * SLICE_MS) / Math.max(took, 0.25))));
      if (at < all.length) await yieldToPage();
    }
    await Promise.all(sent);
    committed = commit(token);
  } catch (error) {
    posted();
    // Not waited for: a worker that is gone never answers.
    staging.unstage(token).catch(() => undefined);
    throw toPageError(error, call, args, names);
  }
  posted();
  try {
    return await committed;
  } catch (error) {
    // The write itself could not be sent (an argument besides the array): its slices stay
    // staged unless dropped. A write the worker refused has taken them already.
    staging.unstage(token).catch(() => undefined);
    throw error;
  }
}
