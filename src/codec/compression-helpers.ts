import { encodeFrame, type FrameOptions } from './frame.ts';
import { loadZlib, rawDeflate, rawInflate } from './zlib.ts';
import type { BufferPool } from './buffer-pool.ts';

/**
 * Compression in helper workers. A collection save encodes its blocks one after the other
 * on the storage worker's thread, then deflates them: about as long again. Handed to
 * helper workers as they come, the blocks are compressed on other cores while the next
 * ones are encoded, and this thread compresses whatever the helpers have not taken once it
 * has encoded everything (so a slow or missing helper costs nothing but its share).
 * Loading and streaming work the other way round ({@link inflateInOrder}): helpers and
 * this thread share the inflating of the blocks ahead of the one being consumed.
 *
 * Helpers are plain dedicated workers started from this module (Vite and other bundlers
 * emit `compression.worker.ts` as a chunk of its own), shared by every caller in the thread,
 * and closed after {@link IDLE_CLOSE_MS} without work. A helper that fails to start, errs
 * or stops answering is dropped and its blocks are compressed here; the bytes are the same
 * raw deflate either way. Where `Worker` does not exist (Node, some edge runtimes) or
 * cannot be constructed, everything is compressed on the calling thread.
 */

/** Jobs a helper holds at once: one it compresses, one waiting, so it never idles while this thread is busy. */
const IN_FLIGHT = 2;
/** Frames read ahead of the one being consumed, to share between helpers and this thread. */
const INFLATE_AHEAD = 16;
/** Inflate jobs a helper holds at once. */
const INFLATE_IN_FLIGHT = 3;
/** How long this thread waits for a helper's frame when it has nothing else to inflate. */
const LATE_MS = 20;
/** Helpers are closed after this long without work. */
const IDLE_CLOSE_MS = 30_000;
/** Fewer blocks than this are compressed here: not worth a round trip. */
const MIN_BLOCKS = 4;
/** After this many helpers failed without ever answering, none are started again. */
const MAX_SILENT_FAILURES = 2;

/** Options of {@link deflateBlocks}. */
export interface DeflateBlocksOptions {
  /** Deflate level, 0–9. */
  readonly level: number;
  /** Helper workers to use at most (default {@link defaultHelperCount}); 0 compresses here only. */
  readonly helpers?: number;
  /** Drop helpers that have not answered for this long while this thread waits (default 10,000 ms). */
  readonly stallMs?: number;
}

/** What {@link deflateBlocks} returns: the compressed blocks, in order, and who compressed them. */
export interface DeflatedBlocks {
  readonly payloads: Uint8Array[];
  /** Blocks compressed by helper workers (the rest were compressed on this thread). */
  readonly byHelpers: number;
}

type Op = 'deflate' | 'inflate' | 'frame';

interface Job {
  readonly op: Op;
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
}

/** A job handed to a helper: its result, and a way to stop caring about it. */
interface Running {
  readonly result: Promise<Uint8Array>;
  /** When it was handed out (performance.now()). */
  readonly started: number;
  /** Forgets the job: its result is dropped when it comes, and nothing holds on to it. */
  cancel(): void;
}

type Reply = { id: number; bytes?: Uint8Array; error?: string };

class Helper {
  readonly #worker: Worker;
  readonly #jobs = new Map<number, Job>();
  #nextId = 0;
  #answered = false;
  /** When each job still unanswered was posted, cancelled ones too (a worker answers in order). */
  readonly #posted: number[] = [];
  /** Replies to jobs so far, cancelled ones too. */
  replies = 0;
  broken = false;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<Reply>) => {
      this.#answered = true;
      silentFailures = 0; // helpers can start here
      const { id, bytes, error } = event.data;
      if (typeof id !== 'number') return; // { ready: true }
      this.#posted.shift();
      this.replies++;
      const job = this.#jobs.get(id);
      if (!job) return; // cancelled
      if (bytes instanceof Uint8Array) {
        this.#jobs.delete(id);
        job.resolve(bytes);
      } else if (job.op !== 'deflate') {
        // Damaged input is expected now and then: the caller inflates it itself and reports
        // it. A frame that did not encode is made again and encoded by the caller (never
        // handed out again), which meets the same error if it is the value's.
        this.#jobs.delete(id);
        job.reject(new Error(`compression helper: ${error ?? 'no result'}`));
      } else {
        // A helper that cannot deflate is dropped (all its jobs come back), or it would be
        // handed the same block again.
        this.fail(new Error(`compression helper: ${error ?? 'no result'}`));
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      this.fail(new Error(`compression helper failed: ${event.message || 'worker error'}`));
    };
    worker.onmessageerror = () => this.fail(new Error('compression helper: a reply could not be read'));
  }

  /** True when it takes no more deflate jobs now (full, or dropped). */
  get busy(): boolean {
    return this.broken || this.#jobs.size >= IN_FLIGHT;
  }

  /** True once it has said it is ready or answered a job (it is running, zlib loaded). */
  get answered(): boolean {
    return this.#answered;
  }

  get jobs(): number {
    return this.#jobs.size;
  }

  /**
   * How long its oldest unanswered job has waited, in ms (0 when it has none), counting jobs
   * their callers cancelled: a helper that stopped answering is found even when every
   * caller took its work back.
   */
  waited(now: number): number {
    return this.#posted.length > 0 ? now - this.#posted[0]! : 0;
  }

  /** `deflate` at `arg` = level, or `inflate` to `arg` = the exact raw length. */
  run(op: 'deflate' | 'inflate', bytes: Uint8Array, arg: number): Running {
    // Copied, not transferred: the bytes are kept here in case this helper fails. A view
    // of a larger buffer is cut out first (cloning a view clones its whole buffer).
    return this.#post(op, () => ({ bytes: bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice(), arg }), []);
  }

  /**
   * {@link encodeFrame} of `value` with `options`, in the helper: the MessagePack packing,
   * the deflate and the frame's checksum. The buffers in `transfer` move to the helper.
   */
  runFrame(value: unknown, options: FrameOptions, transfer: readonly ArrayBufferLike[]): Running {
    return this.#post('frame', () => ({ value, options }), transfer);
  }

  #post(op: Op, message: () => object, transfer: readonly ArrayBufferLike[]): Running {
    const id = this.#nextId++;
    const result = new Promise<Uint8Array>((resolve, reject) => {
      if (this.broken) {
        reject(new Error('compression helper is gone'));
        return;
      }
      this.#jobs.set(id, { op, resolve, reject });
      try {
        this.#worker.postMessage({ id, op, ...message() }, transfer as Transferable[]);
        this.#posted.push(performance.now());
      } catch (error) {
        // It would fail the same way again: drop the helper (this job comes back too).
        this.fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
    return { result, started: performance.now(), cancel: () => void this.#jobs.delete(id) };
  }

  /** Drops the helper: its pending jobs are rejected (their callers compress them themselves). */
  fail(error: Error, countSilent = true): void {
    if (this.broken) return;
    this.broken = true;
    this.#worker.terminate();
    if (countSilent && !this.#answered) silentFailures++;
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    for (const job of jobs) job.reject(error);
  }

  close(): void {
    this.fail(new Error('compression helper closed'), false);
  }
}

let pool: Helper[] = [];
let idleTimer: ReturnType<typeof setTimeout> | undefined;
/** Calls using helpers right now: helpers are not closed under them. */
let active = 0;
let silentFailures = 0;
let spawnRefused = false;
const defaultSpawn = () =>
  new Worker(new URL('./compression.worker.ts', import.meta.url), { type: 'module', name: 'codeshelf-compression' });
let spawnHelper: () => Worker = defaultSpawn;

/**
 * Replaces how helpers are started (tests use it to start helpers that fail); `undefined`
 * restores the default and forgets past failures.
 * @internal
 */
export function setCompressionHelperFactory(factory: (() => Worker) | undefined): void {
  for (const helper of pool) helper.close();
  pool = [];
  silentFailures = 0;
  spawnRefused = false;
  spawnHelper = factory ?? defaultSpawn;
}

const cores = () => (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;

/** One fewer than the machine's cores (at least 1, at most 3) where workers exist, else 0. */
export function defaultHelperCount(): number {
  if (typeof Worker !== 'function') return 0;
  return Math.max(1, Math.min(3, cores() - 1));
}

/**
 * Helpers for reading blocks that are rebuilt into documents as they come, a load's or a
 * stream's (at most `wanted`): only cores beyond two. While such blocks are read, the
 * thread reading them and either the page rebuilding a stream's batches or, for a load,
 * V8's scavenges (parallel on other cores, and heavy: every document a load builds
 * survives them) keep two busy. On 2 cores that is none: with libdeflate inflating 100
 * blocks in ~25 ms, a helper there only took turns with them (production build, 100k
 * documents; streams, two runs: first stream after opening a shelf 0.99-1.08M documents/s
 * without a helper against 0.75-0.86M with one, a loaded collection 1.31-1.38M against
 * 1.11-1.21M, a second stream 1.15-1.23M against 1.25-1.32M; loads, storage worker, 9 each
 * with a buffer pool: median 100 ms without a helper, 137 ms with one, the reading thread
 * waiting 60-70 ms for the helper's blocks where inflating them itself took 21 ms).
 */
export function readHelperCount(wanted = defaultHelperCount()): number {
  if (typeof Worker !== 'function') return 0;
  return Math.max(0, Math.min(wanted, cores() - 2));
}

/**
 * Up to `wanted` live helpers, started as needed (a new one may not have answered yet); a
 * caller that gets some must call {@link release}.
 */
function helpers(wanted: number): Helper[] {
  if (wanted <= 0) return [];
  pool = pool.filter((h) => !h.broken);
  while (pool.length < wanted && !spawnRefused && silentFailures < MAX_SILENT_FAILURES && typeof Worker === 'function') {
    try {
      pool.push(new Helper(spawnHelper()));
    } catch {
      spawnRefused = true; // a CSP without worker-src, for one: it will not change
    }
  }
  const team = pool.slice(0, wanted);
  if (team.length > 0) {
    active++;
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = undefined;
  }
  return team;
}

/** Ends a call's use of helpers; the last one out arms the idle close. */
function release(): void {
  if (--active > 0) return;
  if (idleTimer !== undefined) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    if (active > 0) return;
    for (const helper of pool) helper.close();
    pool = [];
  }, IDLE_CLOSE_MS);
  (idleTimer as { unref?: () => void }).unref?.();
}

const yieldChannel = typeof MessageChannel === 'function' ? new MessageChannel() : undefined;
const yieldWaiters: (() => void)[] = [];
if (yieldChannel) {
  yieldChannel.port1.onmessage = () => yieldWaiters.shift()?.();
  (yieldChannel.port1 as { unref?: () => void }).unref?.();
}

/** Lets the event loop run (helpers' replies are tasks), without setTimeout's clamping. */
function yieldToEvents(): Promise<void> {
  if (!yieldChannel) return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    yieldWaiters.push(resolve);
    yieldChannel.port2.postMessage(0);
  });
}

/** How {@link shareOut} hands out and does the work of one kind of piece. */
interface Sharing<T> {
  /** Whether `piece` may go to a helper at all. */
  sendable(piece: T): boolean;
  /** Hands `piece` to `helper`. */
  send(helper: Helper, piece: T): Running;
  /** Does the work on this thread. */
  here(piece: T): Uint8Array;
  /**
   * Sending uses the piece up (its buffers are transferred): one a helper failed is
   * produced again and done here.
   */
  readonly consumes: boolean;
}

/**
 * Works through `count` pieces that `produce(i)` makes on this thread, in order: each is
 * handed to a helper with room for it as soon as it is made, and this thread, once it has
 * made them all, does whatever no helper has taken, newest first (helpers take the oldest).
 * Throws what `produce` throws.
 */
async function shareOut<T>(count: number, produce: (index: number) => T, sharing: Sharing<T>, options: { helpers?: number; stallMs?: number }): Promise<{ results: Uint8Array[]; byHelpers: number }> {
  await loadZlib();
  const { stallMs = 10_000 } = options;
  const team = count >= MIN_BLOCKS ? helpers(options.helpers ?? defaultHelperCount()) : [];
  const results: Uint8Array[] = new Array(count);
  const pieces: (T | undefined)[] = new Array(count);
  const queue: number[] = [];
  // Pieces a helper failed after they were used up in sending: made again and done here.
  const again: number[] = [];
  let outstanding = 0;
  let byHelpers = 0;
  let stopped = false;
  let wake: (() => void) | undefined;

  const hand = () => {
    if (stopped) return; // the call ended (produce threw): nothing more is handed out
    for (const helper of team) {
      while (!helper.busy && queue.length > 0) {
        const i = queue.shift()!;
        outstanding++;
        const piece = pieces[i]!;
        if (sharing.consumes) pieces[i] = undefined;
        sharing.send(helper, piece).result.then(
          (bytes) => {
            results[i] = bytes;
            pieces[i] = undefined;
            byHelpers++;
          },
          () => (sharing.consumes ? again.push(i) : queue.push(i)), // this thread does it
        ).finally(() => {
          outstanding--;
          hand();
          wake?.();
        });
      }
    }
  };
  const redo = () => {
    for (let i = again.shift(); i !== undefined; i = again.shift()) results[i] = sharing.here(produce(i));
  };

  try {
    for (let i = 0; i < count; i++) {
      const piece = produce(i);
      if (team.length === 0 || !sharing.sendable(piece)) {
        results[i] = sharing.here(piece);
        continue;
      }
      pieces[i] = piece;
      queue.push(i);
      hand();
      await yieldToEvents();
      redo();
    }
    // Everything is produced: do what no helper took, newest first (helpers take the oldest).
    while (queue.length > 0 || outstanding > 0 || again.length > 0) {
      redo();
      if (queue.length > 0) {
        const i = queue.pop()!;
        results[i] = sharing.here(pieces[i]!);
        pieces[i] = undefined;
        if (outstanding > 0) await yieldToEvents();
        continue;
      }
      if (outstanding === 0) continue;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answered = await new Promise<boolean>((resolve) => {
        wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), stallMs);
      });
      clearTimeout(timer);
      wake = undefined;
      if (answered) continue;
      // Only a helper whose own oldest job has waited that long is dropped (one busy with
      // other callers' jobs is not stalled).
      const now = performance.now();
      for (const helper of team) if (helper.waited(now) >= stallMs) helper.fail(new Error(`compression helper: no answer in ${stallMs} ms`));
    }
  } finally {
    stopped = true;
    if (team.length > 0) release();
  }
  return { results, byHelpers };
}

/**
 * Raw-deflates `count` pieces that `produce(i)` makes on this thread, in order (see the
 * module comment). `produce` must return a buffer that is not changed afterwards. Throws
 * what `produce` throws.
 */
export async function deflateBlocks(count: number, produce: (index: number) => Uint8Array, options: DeflateBlocksOptions): Promise<DeflatedBlocks> {
  const { level } = options;
  const { results, byHelpers } = await shareOut(count, produce, {
    sendable: () => true,
    send: (helper, bytes) => helper.run('deflate', bytes, level),
    here: (bytes) => rawDeflate(bytes, level),
    consumes: false,
  }, options);
  return { payloads: results, byHelpers };
}

/** A value to frame, and the buffers it may give up to a helper (undefined: it stays here). */
export interface FramePiece {
  readonly value: unknown;
  readonly transfer: readonly ArrayBufferLike[] | undefined;
}

/**
 * {@link encodeFrame} of `count` values that `produce(i)` makes on this thread, in order,
 * shared with helpers like {@link deflateBlocks}; a helper takes a whole frame (packing,
 * deflate and checksum), its value's buffers transferred rather than copied. A value
 * without `transfer` is framed here. `produce` must make the same value each time it is
 * called for an index: one a helper failed is made again (its buffers went to the helper).
 * Throws what `produce` or the encoding throws.
 */
export async function frameBlocks(count: number, produce: (index: number) => FramePiece, options: FrameOptions & { helpers?: number; stallMs?: number }): Promise<{ frames: Uint8Array[]; byHelpers: number }> {
  const frameOptions: FrameOptions = { kind: options.kind, ...(options.level === undefined ? {} : { level: options.level }), ...(options.records === undefined ? {} : { records: options.records }), ...(options.compress === undefined ? {} : { compress: options.compress }) };
  const { results, byHelpers } = await shareOut(count, produce, {
    sendable: (piece) => piece.transfer !== undefined,
    send: (helper, piece) => helper.runFrame(piece.value, frameOptions, piece.transfer!),
    here: (piece) => encodeFrame(piece.value, frameOptions),
    consumes: true,
  }, options);
  return { frames: results, byHelpers };
}

/** A stored frame payload to inflate (see {@link CheckedFrame}); one not deflated passes through. */
export interface InflateJob {
  readonly stored: Uint8Array;
  readonly deflated: boolean;
  readonly rawLength: number;
}

/** An inflate that failed on this thread (the payload is damaged); its cause is zlib's error. */
export class InflateError extends Error {
  constructor(cause: unknown) {
    super(`compressed payload does not inflate: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'InflateError';
  }
}

/**
 * Inflates the payloads of `frames` (each to exactly its `rawLength`) and yields them in
 * order, each with its frame. `frames` may be an async source (a file read as it goes): it
 * is pulled only as far as needed, at most {@link INFLATE_AHEAD} frames ahead of the one
 * yielded when helpers take part.
 *
 * The work is shared, not done twice: helpers take the oldest frames nobody has taken
 * ({@link INFLATE_IN_FLIGHT} each at a time), and this thread, when the frame due is with a
 * helper, inflates the newest frame nobody has taken instead of waiting (as
 * {@link deflateBlocks} does). Only when nothing is left to take does it wait for the
 * helper, for at most {@link LATE_MS}; then it takes the frame back (the helper's job is
 * cancelled) and hands that helper nothing more until it answers again (any job, a
 * cancelled one too). A helper busy with other callers' work thus holds at most
 * {@link INFLATE_IN_FLIGHT} of this reader's frames at a time, and the reader waits only
 * once it has inflated every other frame read ahead: a wait per late batch, not per
 * frame. A helper whose oldest posted job has had no reply for `stallMs` is dropped; a
 * frame a helper could not inflate is inflated here.
 *
 * With `waitForHelpers` false, helpers that are not running yet are started but take part
 * only once they have said they are ready: a stream's first blocks never wait the 40–66 ms
 * a worker takes to start, and the helper is there for its later blocks and later streams.
 * A damaged payload throws {@link InflateError} when its frame is due, after the frames
 * before it (running out of memory, its `RangeError`); an error of the source is thrown the
 * same way. With `pool`, frames inflated
 * on this thread go into its buffers (see buffer-pool.ts).
 */
export async function* inflateInOrder<F extends InflateJob>(
  frames: Iterable<F> | AsyncIterable<F>, options: { helpers?: number; waitForHelpers?: boolean; expected?: number; stallMs?: number; pool?: BufferPool } = {},
): AsyncGenerator<{ frame: F; payload: Uint8Array }, void, undefined> {
  await loadZlib();
  const { stallMs = 10_000, waitForHelpers = true, pool } = options;
  const source = Symbol.asyncIterator in frames ? frames[Symbol.asyncIterator]() : (frames as Iterable<F>)[Symbol.iterator]();
  // Helpers only pay when there is enough to share (known for arrays; sources say how many they expect).
  const expected = Array.isArray(frames) ? frames.length : options.expected ?? MIN_BLOCKS;
  const team = expected >= MIN_BLOCKS ? helpers(options.helpers ?? defaultHelperCount()) : [];
  // Helpers whose frame this thread took back after LATE_MS, with their reply count then:
  // nothing is handed to them until they answer again (any job, cancelled ones too).
  const benched = new Map<Helper, number>();
  const onBench = (h: Helper) => {
    if (!benched.has(h)) return false;
    if (h.replies === benched.get(h)) return true;
    benched.delete(h);
    return false;
  };
  // With helpers, frames are read ahead so that there is work to share (a stream's memory
  // grows by that many blocks); without, one at a time.
  const ahead = team.length === 0 ? 1 : INFLATE_AHEAD;
  interface Slot {
    readonly frame: F;
    job?: { helper: Helper; running: Running };
    payload?: Uint8Array;
    /** An {@link InflateError}, or running out of memory (a `RangeError`), thrown as it is. */
    error?: Error;
    /** A helper failed it: inflated here. */
    here?: boolean;
  }
  const slots = new Map<number, Slot>();
  // An error of the source is thrown when the reader reaches it, after the frames before it.
  let sourceError: { at: number; error: unknown } | undefined;
  let pulled = 0;
  let next = 0;
  let ended = false;
  let wake: (() => void) | undefined;
  const open = (slot: Slot) => !slot.payload && !slot.job && slot.error === undefined;
  const pull = async () => {
    while (!ended && pulled < next + ahead) {
      let r: IteratorResult<F>;
      try {
        r = await source.next();
      } catch (error) {
        sourceError = { at: pulled, error };
        ended = true;
        return;
      }
      if (r.done) {
        ended = true;
        return;
      }
      slots.set(pulled++, r.value.deflated ? { frame: r.value } : { frame: r.value, payload: r.value.stored });
    }
  };
  /** Hands the oldest frames nobody has taken to helpers with room. */
  const hand = () => {
    const now = performance.now();
    for (const h of team) if (!h.broken && h.waited(now) >= stallMs) h.fail(new Error(`compression helper: no answer in ${stallMs} ms`));
    for (const slot of slots.values()) {
      if (!open(slot) || slot.here) continue;
      // Taken again for each frame: posting to a helper can drop it.
      const live = team.filter((h) => !h.broken && !onBench(h) && (waitForHelpers || h.answered));
      if (live.length === 0) return;
      const helper = live.reduce((a, b) => (b.jobs < a.jobs ? b : a));
      if (helper.jobs >= INFLATE_IN_FLIGHT) return;
      const job = { helper, running: helper.run('inflate', slot.frame.stored, slot.frame.rawLength) };
      slot.job = job;
      job.running.result.then(
        (bytes) => {
          if (slot.job === job) {
            slot.payload = bytes;
            slot.job = undefined;
          }
        },
        () => {
          if (slot.job === job) {
            slot.job = undefined;
            slot.here = true;
          }
        },
      ).finally(() => {
        hand();
        wake?.();
      });
    }
  };
  const inflateHere = (slot: Slot) => {
    slot.job?.running.cancel();
    slot.job = undefined;
    try {
      slot.payload = rawInflate(slot.frame.stored, slot.frame.rawLength, undefined, pool);
    } catch (error) {
      // Running out of memory is not damage: thrown as it is, so that no reader takes the
      // file for a torn save (a load would fall back to an older one and remove it).
      slot.error = error instanceof RangeError ? error : new InflateError(error);
    }
  };
  /** The newest frame nobody has taken. */
  const newestOpen = (): Slot | undefined => {
    let found: Slot | undefined;
    for (const slot of slots.values()) if (open(slot)) found = slot;
    return found;
  };
  try {
    for (;;) {
      await pull();
      hand();
      const slot = slots.get(next);
      if (!slot) {
        if (sourceError && sourceError.at === next) throw sourceError.error;
        return;
      }
      if (open(slot)) inflateHere(slot);
      else if (slot.job) {
        // Replies are tasks: let any that arrived be delivered before deciding.
        await yieldToEvents();
        if (!slot.job) continue; // answered, or failed (then inflated here)
        const other = newestOpen();
        if (other) {
          inflateHere(other);
          continue;
        }
        // Nothing else to do: wait for a reply (any reply may hand out or free work).
        const waitedFor = slot.job;
        const since = performance.now() - waitedFor.running.started;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = await new Promise<boolean>((resolve) => {
          wake = () => resolve(false);
          timer = setTimeout(() => resolve(true), Math.max(0, LATE_MS - since));
        });
        clearTimeout(timer);
        wake = undefined;
        if (late && slot.job === waitedFor) {
          benched.set(waitedFor.helper, waitedFor.helper.replies);
          inflateHere(slot);
        }
        continue;
      }
      if (slot.error !== undefined) throw slot.error;
      slots.delete(next++);
      yield { frame: slot.frame, payload: slot.payload! };
    }
  } finally {
    for (const slot of slots.values()) slot.job?.running.cancel();
    slots.clear();
    try {
      await (source as AsyncIterator<F>).return?.();
    } finally {
      if (team.length > 0) release();
    }
  }
}
