import { deflateSync, inflateSync } from 'fflate';
import { loadZlib, zlibIfLoaded } from './zlib.ts';

/**
 * Compression in helper workers. A collection save encodes its blocks one after the other
 * on the storage worker's thread, then deflates them: about as long again. Handed to
 * helper workers as they come, the blocks are compressed on other cores while the next
 * ones are encoded, and this thread compresses whatever the helpers have not taken once it
 * has encoded everything (so a slow or missing helper costs nothing but its share).
 * Loading works the other way round ({@link inflateInOrder}): helpers inflate the blocks
 * ahead of the one this thread is turning back into documents.
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
/** Blocks handed out to inflate ahead of the one being consumed. */
const INFLATE_AHEAD = 16;
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

interface Job {
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
}

type Reply = { id: number; bytes?: Uint8Array; error?: string };

class Helper {
  readonly #worker: Worker;
  readonly #jobs = new Map<number, Job>();
  #nextId = 0;
  #answered = false;
  broken = false;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<Reply>) => {
      this.#answered = true;
      const { id, bytes, error } = event.data;
      const job = this.#jobs.get(id);
      if (!job) return;
      // A helper that cannot compress is dropped (all its jobs come back), or it would be
      // handed the same block again.
      if (!(bytes instanceof Uint8Array)) return this.fail(new Error(`deflate helper: ${error ?? 'no result'}`));
      this.#jobs.delete(id);
      job.resolve(bytes);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      this.fail(new Error(`deflate helper failed: ${event.message || 'worker error'}`));
    };
    worker.onmessageerror = () => this.fail(new Error('deflate helper: a reply could not be read'));
  }

  /** True when it takes no more jobs now (full, or dropped). */
  get busy(): boolean {
    return this.broken || this.#jobs.size >= IN_FLIGHT;
  }

  get idle(): boolean {
    return this.#jobs.size === 0;
  }

  /** Whether it failed before answering anything (it never started, most likely). */
  get silent(): boolean {
    return !this.#answered;
  }

  /** `deflate` at `arg` = level, or `inflate` to `arg` = the exact raw length. */
  run(op: 'deflate' | 'inflate', bytes: Uint8Array, arg: number): Promise<Uint8Array> {
    const id = this.#nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      try {
        // Copied, not transferred: the bytes are kept here in case this helper fails. A view
        // of a larger buffer is cut out first (cloning a view clones its whole buffer).
        const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
        this.#worker.postMessage({ id, op, bytes: own, arg });
      } catch (error) {
        this.#jobs.delete(id);
        reject(error as Error);
      }
    });
  }

  /** Drops the helper: its pending jobs are rejected (their callers compress them themselves). */
  fail(error: Error): void {
    if (this.broken) return;
    this.broken = true;
    this.#worker.terminate();
    if (this.silent) silentFailures++;
    for (const job of this.#jobs.values()) job.reject(error);
    this.#jobs.clear();
  }

  close(): void {
    this.broken = true;
    this.#worker.terminate();
  }
}

let pool: Helper[] = [];
let idleTimer: ReturnType<typeof setTimeout> | undefined;
let silentFailures = 0;
let spawnRefused = false;
let spawnHelper: () => Worker = () =>
  new Worker(new URL('./compression.worker.ts', import.meta.url), { type: 'module', name: 'codeshelf-compression' });

/**
 * Replaces how helpers are started (tests use it to start helpers that fail); `undefined`
 * restores the default and forgets past failures.
 * @internal
 */
export function setDeflateHelperFactory(factory: (() => Worker) | undefined): void {
  for (const helper of pool) helper.close();
  pool = [];
  silentFailures = 0;
  spawnRefused = false;
  spawnHelper = factory ?? (() => new Worker(new URL('./compression.worker.ts', import.meta.url), { type: 'module', name: 'codeshelf-compression' }));
}

/** One fewer than the machine's cores (at least 1, at most 3) where workers exist, else 0. */
export function defaultHelperCount(): number {
  if (typeof Worker !== 'function') return 0;
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
  return Math.max(1, Math.min(3, cores - 1));
}

function helpers(wanted: number): Helper[] {
  if (idleTimer !== undefined) clearTimeout(idleTimer);
  idleTimer = undefined;
  pool = pool.filter((h) => !h.broken);
  while (pool.length < wanted && !spawnRefused && silentFailures < MAX_SILENT_FAILURES && typeof Worker === 'function') {
    try {
      pool.push(new Helper(spawnHelper()));
    } catch {
      spawnRefused = true; // a CSP without worker-src, for one: it will not change
    }
  }
  return pool.slice(0, wanted);
}

function closeWhenIdle(): void {
  if (idleTimer !== undefined) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    if (!pool.every((h) => h.idle)) return closeWhenIdle();
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

function deflateHere(bytes: Uint8Array, level: number): Uint8Array {
  const zlib = zlibIfLoaded();
  return zlib ? zlib.deflateRaw(bytes, level) : deflateSync(bytes, { level: level as 0 });
}

function inflateHere(bytes: Uint8Array, rawLength: number): Uint8Array {
  const zlib = zlibIfLoaded();
  if (zlib) return zlib.inflateRaw(bytes, rawLength);
  const out = inflateSync(bytes, { out: new Uint8Array(rawLength) });
  if (out.length !== rawLength) throw new Error(`inflated ${out.length} bytes, expected ${rawLength}`);
  return out;
}

/**
 * Raw-deflates `count` pieces that `produce(i)` makes on this thread, in order (see the
 * module comment). `produce` must return a buffer that is not changed afterwards. Throws
 * what `produce` throws.
 */
export async function deflateBlocks(count: number, produce: (index: number) => Uint8Array, options: DeflateBlocksOptions): Promise<DeflatedBlocks> {
  await loadZlib();
  const { level, stallMs = 10_000 } = options;
  const team = count >= MIN_BLOCKS ? helpers(options.helpers ?? defaultHelperCount()) : [];
  const payloads: Uint8Array[] = new Array(count);
  const raw: (Uint8Array | undefined)[] = new Array(count);
  const queue: number[] = [];
  let outstanding = 0;
  let byHelpers = 0;
  let wake: (() => void) | undefined;

  const hand = () => {
    for (const helper of team) {
      while (!helper.busy && queue.length > 0) {
        const i = queue.shift()!;
        outstanding++;
        helper.run('deflate', raw[i]!, level).then(
          (bytes) => {
            payloads[i] = bytes;
            raw[i] = undefined;
            byHelpers++;
          },
          () => queue.push(i), // this thread compresses it
        ).finally(() => {
          outstanding--;
          hand();
          wake?.();
        });
      }
    }
  };

  try {
    for (let i = 0; i < count; i++) {
      raw[i] = produce(i);
      queue.push(i);
      if (team.length > 0) {
        hand();
        await yieldToEvents();
      }
    }
    // Everything is produced: compress what no helper took, newest first (helpers take the oldest).
    while (queue.length > 0 || outstanding > 0) {
      if (queue.length > 0) {
        const i = queue.pop()!;
        payloads[i] = deflateHere(raw[i]!, level);
        raw[i] = undefined;
        if (outstanding > 0) await yieldToEvents();
        continue;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answered = await new Promise<boolean>((resolve) => {
        wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), stallMs);
      });
      clearTimeout(timer);
      wake = undefined;
      if (!answered) for (const helper of team) if (!helper.idle) helper.fail(new Error(`deflate helper: no answer in ${stallMs} ms`));
    }
  } finally {
    if (team.length > 0) closeWhenIdle();
  }
  return { payloads, byHelpers };
}

/** A stored frame payload to inflate (see {@link CheckedFrame}); one not deflated passes through. */
export interface InflateJob {
  readonly stored: Uint8Array;
  readonly deflated: boolean;
  readonly rawLength: number;
}

/**
 * Inflates the payloads of `frames` (each to exactly its `rawLength`) and yields them in
 * order, each with its frame. `frames` may be an async source (a file read as it goes): it
 * is pulled only as far as needed. Helpers inflate up to {@link INFLATE_AHEAD} frames
 * ahead while the caller works on the one yielded; a frame whose helper has not answered
 * when it is due is inflated here (its helper's copy is dropped when it comes), so a late
 * or failed helper never makes this thread wait. An inflate error is thrown when its frame
 * is due, from this thread; so is an error of the source.
 */
export async function* inflateInOrder<F extends InflateJob>(
  frames: Iterable<F> | AsyncIterable<F>, options: { helpers?: number; expected?: number } = {},
): AsyncGenerator<{ frame: F; payload: Uint8Array }, void, undefined> {
  await loadZlib();
  const source = Symbol.asyncIterator in frames ? frames[Symbol.asyncIterator]() : (frames as Iterable<F>)[Symbol.iterator]();
  // Helpers only pay when there is enough to share (known for arrays; sources say how many they expect).
  const expected = Array.isArray(frames) ? frames.length : options.expected ?? MIN_BLOCKS;
  const team = expected >= MIN_BLOCKS ? helpers(options.helpers ?? defaultHelperCount()) : [];
  const ahead = team.length > 0 ? INFLATE_AHEAD : 1;
  const pending = new Map<number, { frame: F; ready?: Uint8Array; handed: boolean }>();
  let pulled = 0;
  let next = 0;
  let ended = false;
  let turn = 0;
  const pull = async () => {
    while (!ended && pulled < next + ahead) {
      const r = await source.next();
      if (r.done) {
        ended = true;
        return;
      }
      const i = pulled++;
      const entry: { frame: F; ready?: Uint8Array; handed: boolean } = { frame: r.value, handed: false };
      pending.set(i, entry);
      const live = r.value.deflated ? team.filter((h) => !h.broken) : [];
      if (live.length > 0) {
        entry.handed = true;
        live[turn++ % live.length]!.run('inflate', r.value.stored, r.value.rawLength).then(
          (bytes) => {
            if (pending.get(i) === entry) entry.ready = bytes;
          },
          () => undefined, // inflated here when due
        );
      }
    }
  };
  try {
    for (;;) {
      await pull();
      const entry = pending.get(next);
      if (!entry) return;
      // Replies are tasks: let any that arrived be delivered before deciding.
      if (entry.handed && entry.ready === undefined) await yieldToEvents();
      const { frame } = entry;
      const payload = entry.ready ?? (frame.deflated ? inflateHere(frame.stored, frame.rawLength) : frame.stored);
      pending.delete(next++);
      yield { frame, payload };
    }
  } finally {
    pending.clear(); // late replies are dropped
    await (source as AsyncIterator<F>).return?.();
    if (team.length > 0) closeWhenIdle();
  }
}
