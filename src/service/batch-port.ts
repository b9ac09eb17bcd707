import { ShelfError, toShelfError, type ShelfErrorCode } from '../errors/index.ts';
import { serializeCause } from '../errors/transfer.ts';
import type { BufferPool } from '../codec/buffer-pool.ts';

/**
 * Byte batches from the storage worker to the page over a `MessagePort`, with credits.
 *
 * A transferred `ReadableStream` clones every chunk and moves one chunk per round trip:
 * the page asks, the worker answers, and only then does the worker start the next chunk.
 * Here the worker keeps producing while the page decodes: it may have up to
 * {@link BATCH_CREDITS} batches posted and not yet taken, each transferred (not copied),
 * and the reader hands back one credit per batch it takes. Memory stays bounded by the
 * credits whatever the collection's size.
 *
 * Messages, worker → page: `{ batch }`, then `{ end: true }` or `{ error }` (a ShelfError
 * with its code and cause). Page → worker: `{ credit: 1, recycle? }` per batch taken, where
 * `recycle` transfers back the buffers of earlier batches the reader is done with (see
 * {@link BatchReader.recycle}) for the worker's `pool` (src/codec/buffer-pool.ts);
 * `{ cancel: true }` when the reader stops or is aborted. The worker also stops when its port closes (where
 * browsers fire `close` on ports: a page gone, or a reader collected) or its `signal` aborts
 * (the shelf closing).
 *
 * 8 credits, not 4: with 4, a stream whose worker inflates with a helper spent 25–35 ms of
 * its ~100 ms waiting for credits while the page waited for batches (messages between busy
 * threads on 2 cores are slow to be picked up); with 16 that wait was 0–4 ms, and 8 and 16
 * took the same time end to end within noise (harness runs, not bench rows). A batch of a
 * file stream is one block, ~0.3 MB inflated.
 * @internal
 */
export const BATCH_CREDITS = 8;

type WireError = { code: ShelfErrorCode; message: string; cause: ReturnType<typeof serializeCause> };
type ToPage = { batch: Uint8Array } | { end: true } | { error: WireError };
type ToWorker = { credit: number; recycle?: ArrayBuffer[] } | { cancel: true };

function toWire(error: unknown): WireError {
  const e = toShelfError(error, 'collection stream');
  return { code: e.code, message: e.message, cause: serializeCause(e.cause) };
}

function fromWire(wire: WireError): ShelfError {
  return new ShelfError(wire.code, wire.message, wire.cause === null ? {} : { cause: wire.cause });
}

/**
 * Worker side: posts the batches of `source` to `port` as credits allow, then the end or the
 * error, and closes the port. A cancel from the reader ends `source` (its `finally` runs).
 */
export async function pushBatches(
  port: MessagePort, source: AsyncGenerator<Uint8Array, void, undefined>, options: { credits?: number; signal?: AbortSignal; pool?: BufferPool } = {},
): Promise<void> {
  const { credits = BATCH_CREDITS, signal, pool } = options;
  let left = credits;
  let cancelled = false;
  let wake: (() => void) | undefined;
  const cancel = () => {
    cancelled = true;
    wake?.();
  };
  port.onmessage = (event: MessageEvent<ToWorker>) => {
    const m = event.data;
    if ('cancel' in m) cancelled = true;
    else {
      left += m.credit;
      if (pool && Array.isArray(m.recycle)) for (const buffer of m.recycle) pool.give(buffer);
    }
    wake?.();
  };
  port.addEventListener('close', cancel);
  signal?.addEventListener('abort', cancel);
  if (signal?.aborted) cancelled = true;
  try {
    for (;;) {
      while (left <= 0 && !cancelled) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      if (cancelled) break;
      const next = await source.next();
      if (next.done) {
        port.postMessage({ end: true } satisfies ToPage);
        break;
      }
      // Transferred, so a view into a larger buffer would take that buffer with it (unless
      // the buffer is one `pool` handed out: the batch's alone).
      const b = next.value;
      const batch = (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) || pool?.issued(b.buffer) ? b : b.slice();
      left--;
      port.postMessage({ batch } satisfies ToPage, [batch.buffer as ArrayBuffer]);
    }
  } catch (error) {
    port.postMessage({ error: toWire(error) } satisfies ToPage);
  } finally {
    signal?.removeEventListener('abort', cancel);
    await source.return(undefined).catch(() => undefined);
    port.close();
  }
}

/**
 * Page side: the batches arriving on `port`, one credit handed back per batch taken. Call
 * {@link BatchReader.abort} to fail a reader whose worker is going away, and
 * {@link BatchReader.cancel} when the consumer stops early.
 */
export class BatchReader {
  readonly #port: MessagePort;
  readonly #queue: ToPage[] = [];
  #waiting: ((m: ToPage) => void) | undefined;
  #done = false;
  #recycled: ArrayBuffer[] = [];

  constructor(port: MessagePort) {
    this.#port = port;
    port.onmessage = (event: MessageEvent<ToPage>) => this.#deliver(event.data);
  }

  #deliver(m: ToPage): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(m);
    else this.#queue.push(m);
  }

  /** The next batch, or undefined at the end; the worker's error is thrown here. */
  async next(): Promise<Uint8Array | undefined> {
    if (this.#done) return undefined;
    const m = this.#queue.shift() ?? (await new Promise<ToPage>((resolve) => (this.#waiting = resolve)));
    if ('batch' in m) {
      const recycle = this.#recycled;
      this.#recycled = [];
      this.#port.postMessage((recycle.length ? { credit: 1, recycle } : { credit: 1 }) satisfies ToWorker, recycle);
      return m.batch;
    }
    this.#finish();
    if ('error' in m) throw fromWire(m.error);
    return undefined;
  }

  /**
   * Hands the buffer of a batch back to the worker with the next credit, for its next
   * batches. Only for a buffer nothing holds a view into any more (no document rebuilt
   * from the batch keeps one): it is detached here when it goes.
   */
  recycle(buffer: ArrayBufferLike): void {
    if (!this.#done && buffer instanceof ArrayBuffer && buffer.byteLength > 0 && !this.#recycled.includes(buffer)) this.#recycled.push(buffer);
  }

  /** Ends a pending or later {@link next} with `error` (the shelf is closing), and stops the worker's side. */
  abort(error: ShelfError): void {
    if (this.#done) return;
    this.#port.postMessage({ cancel: true } satisfies ToWorker);
    this.#queue.length = 0;
    this.#deliver({ error: toWire(error) });
  }

  /** Stops the worker's side; batches in flight are dropped and a pending {@link next} ends. */
  cancel(): void {
    if (this.#done) return;
    this.#port.postMessage({ cancel: true } satisfies ToWorker);
    this.#finish();
  }

  #finish(): void {
    this.#done = true;
    this.#queue.length = 0;
    this.#port.onmessage = null;
    this.#port.close();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.({ end: true });
  }
}
