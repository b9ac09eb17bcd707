// inflateInOrder against a stand-in helper (node:zlib), for what needs no real worker.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { defaultHelperCount, deflateBlocks, frameBlocks, inflateInOrder, setCompressionHelperFactory, readHelperCount } from '../../src/codec/compression-helpers.ts';
import { decodeFrame, encodeFrame, type FrameOptions } from '../../src/codec/frame.ts';
import { loadZlib } from '../../src/codec/zlib.ts';
import { ShelfError } from '../../src/errors/index.ts';
import { CollectionEngine, MemoryBlobStore } from '../../src/index.ts';

type Job = { id: number; op: string; bytes: Uint8Array; arg: number; value?: unknown; options?: FrameOptions };

// A helper that answers like compression.worker.ts (node:zlib instead of wasm): it says it
// is ready, then answers each job after `delayMs` (or as `answer` decides).
class FakeWorker {
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: unknown = null;
  onmessageerror: unknown = null;
  terminated = false;
  readonly posted: Job[] = [];
  constructor(readonly options: { ready?: boolean; delayMs?: number; answer?: (m: Job) => unknown } = {}) {
    if (options.ready !== false) setTimeout(() => this.onmessage?.({ data: { ready: true } }), 1);
  }
  postMessage(m: Job) {
    this.posted.push(m);
    const answer = this.options.answer ?? ((j: Job) => ({
      id: j.id,
      bytes: j.op === 'frame' ? encodeFrame(j.value, j.options!) : new Uint8Array(j.op === 'deflate' ? deflateRawSync(j.bytes, { level: j.arg }) : inflateRawSync(j.bytes)),
    }));
    setTimeout(() => {
      const data = answer(m);
      if (data !== undefined) this.onmessage?.({ data });
    }, this.options.delayMs ?? 1);
  }
  terminate() {
    this.terminated = true;
  }
}

const g = globalThis as { Worker?: unknown };
const hadWorker = 'Worker' in g;
g.Worker ??= function Worker() {};
afterAll(() => {
  setCompressionHelperFactory(undefined);
  if (!hadWorker) delete g.Worker;
});

describe('inflateInOrder with helpers already running (Node, fake helper)', () => {
  it('a source error (a damaged frame) comes after the good frames before it, helpers or not', async () => {
    const zlib = (await loadZlib())!;
    const raw = Array.from({ length: 20 }, (_, i) => new TextEncoder().encode(`piece ${i};`.repeat(300)));
    const frames = raw.map((r) => ({ stored: zlib.deflateRaw(r, 2), deflated: true, rawLength: r.length }));
    const run = async () => {
      const src = (async function* () {
        for (let i = 0; i < frames.length; i++) {
          if (i === 5) throw new ShelfError('CORRUPT', 'frame 5: checksum mismatch');
          yield frames[i]!;
        }
      })();
      let yielded = 0;
      const error = await (async () => {
        for await (const _ of inflateInOrder(src, { expected: 20, helpers: 1, waitForHelpers: false })) yielded++;
      })().catch((e: unknown) => e);
      return { yielded, code: (error as ShelfError).code };
    };
    // No helper ready (one starts, but never says it is ready): frames 0-4, then the error.
    let worker: FakeWorker | undefined;
    setCompressionHelperFactory(() => (worker = new FakeWorker({ ready: false })) as unknown as Worker);
    const cold = await run();
    expect(worker!.posted).toHaveLength(0);
    // The helper answers a save; the next stream uses it.
    const saved = await deflateBlocks(8, (i) => raw[i]!, { level: 2, helpers: 1 });
    expect(saved.byHelpers).toBeGreaterThan(0);
    const before = worker!.posted.length;
    const warm = await run();
    expect(worker!.posted.length).toBeGreaterThan(before);
    expect(cold).toEqual({ yielded: 5, code: 'CORRUPT' });
    expect(warm).toEqual({ yielded: 5, code: 'CORRUPT' });
  });

  it('an engine stream delivers the good blocks before a damaged one, whether helpers run or not', async () => {
    setCompressionHelperFactory(() => new FakeWorker() as unknown as Worker);
    const store = new MemoryBlobStore();
    const a = await CollectionEngine.open({ storage: store, saveIntervalMs: 0, blockDocs: 100, compressionWorkers: 1 });
    await a.create('c');
    await a.insertMany('c', Array.from({ length: 2000 }, (_, i) => ({ _id: `d${i}`, text: `value ${i} `.repeat(20) })));
    await a.close(); // the save starts the helper, which answers
    const [file] = await store.list();
    const bytes = await store.read(file!);
    // Walk the frames (24-byte header, stored length at +12) and damage block 10's payload.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    let at = 24 + view.getUint32(12, true);
    for (let b = 0; b < 10; b++) at += 24 + view.getUint32(at + 12, true);
    const damaged = bytes.slice();
    damaged[at + 30] = damaged[at + 30]! ^ 0xff;
    await store.write(file!, damaged);
    const count = async (workers: number) => {
      const e = await CollectionEngine.open({ storage: store, saveIntervalMs: 0, compressionWorkers: workers });
      let n = 0;
      const error = await (async () => {
        for await (const _ of e.packedBatches('c')) n++;
      })().catch((x: unknown) => x);
      return { batches: n, code: (error as { code?: string }).code };
    };
    expect(await count(0)).toEqual({ batches: 10, code: 'CORRUPT' });
    expect(await count(1)).toEqual({ batches: 10, code: 'CORRUPT' });
  });
});

describe('inflateInOrder shares the work with helpers (Node, fake helper)', () => {
  const setup = async (count: number) => {
    const zlib = (await loadZlib())!;
    // Each frame's raw length differs, so a posted job says which frame it was.
    const raw = Array.from({ length: count }, (_, i) => new TextEncoder().encode(`piece ${i};`.repeat(2000 + i)));
    const frames = raw.map((r) => ({ stored: zlib.deflateRaw(r, 2), deflated: true, rawLength: r.length }));
    const readAll = async (options: Parameters<typeof inflateInOrder>[1], pauseEvery = 0) => {
      let i = 0;
      for await (const { payload } of inflateInOrder(frames, options)) {
        expect(Buffer.from(payload).equals(Buffer.from(raw[i]!))).toBe(true);
        i++;
        if (pauseEvery && i % pauseEvery === 0) await new Promise((r) => setTimeout(r, 1)); // a consumer at work
      }
      expect(i).toBe(count);
    };
    return { readAll, frameOf: (m: Job) => frames.findIndex((f) => f.rawLength === m.arg) };
  };
  const use = (worker: FakeWorker) => setCompressionHelperFactory(() => worker as unknown as Worker);

  it('a slow helper takes some frames and this thread the others: none is posted twice', async () => {
    const { readAll, frameOf } = await setup(40);
    const worker = new FakeWorker({ delayMs: 3 });
    use(worker);
    await new Promise((r) => setTimeout(r, 5)); // ready
    await readAll({ helpers: 1 });
    const posted = worker.posted.filter((m) => m.op === 'inflate').map(frameOf);
    expect(posted.length).toBeGreaterThan(0);
    expect(posted.length).toBeLessThan(40); // this thread inflated the rest
    expect(new Set(posted).size).toBe(posted.length);
  });

  it('a helper that does not answer costs one wait, not one per frame', async () => {
    const { readAll } = await setup(60);
    const worker = new FakeWorker({ answer: () => undefined });
    use(worker);
    await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await readAll({ helpers: 1 });
    const ms = performance.now() - t0;
    // It was handed its first jobs, one was taken back after a wait, and nothing more was
    // posted to it; waiting 20 ms per frame would take over a second.
    expect(worker.posted.length).toBeGreaterThan(0);
    expect(worker.posted.length).toBeLessThanOrEqual(3);
    expect(ms).toBeLessThan(600);
  });

  it('a helper that was late is handed frames again once it answers', async () => {
    const { readAll } = await setup(100);
    let answered = 0;
    const worker = new FakeWorker({
      // Its first 3 jobs take 30 ms (taken back after 20), the rest 1 ms.
      answer: (m) => {
        answered++;
        return { id: m.id, bytes: new Uint8Array(inflateRawSync(m.bytes)) };
      },
    });
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (m: Job) => {
      if (worker.posted.length < 3) {
        worker.posted.push(m);
        setTimeout(() => worker.onmessage?.({ data: { id: m.id, bytes: new Uint8Array(inflateRawSync(m.bytes)) } }), 30);
      } else post(m);
    };
    use(worker);
    await new Promise((r) => setTimeout(r, 5));
    await readAll({ helpers: 1 }, 1); // 100 ms or more: long enough for the late answers to come
    expect(worker.posted.length).toBeGreaterThan(10);
    expect(answered).toBeGreaterThan(0);
  });

  it('a helper that stopped answering is dropped once a job waited stallMs, though every reader took its frames back', async () => {
    const { readAll } = await setup(30);
    const worker = new FakeWorker({ answer: () => undefined });
    use(worker);
    await new Promise((r) => setTimeout(r, 5));
    // The first reader takes its frames back after 20 ms each and ends well before stallMs
    // (on a slow machine it may already drop the helper); the next, started after stallMs,
    // finds the oldest job still unanswered and drops the helper.
    await readAll({ helpers: 1, stallMs: 300 });
    await new Promise((r) => setTimeout(r, 320));
    await readAll({ helpers: 1, stallMs: 300 });
    expect(worker.terminated).toBe(true);
  });

  it('a helper that cannot be posted to is tried once', async () => {
    const { readAll } = await setup(40);
    let tries = 0;
    const worker = new FakeWorker();
    worker.postMessage = () => {
      tries++;
      throw new DOMException('cannot clone', 'DataCloneError');
    };
    use(worker);
    await new Promise((r) => setTimeout(r, 5));
    await readAll({ helpers: 1 });
    expect(tries).toBe(1);
  });

  it('a frame a helper cannot inflate is inflated here, not handed out again', async () => {
    const { readAll, frameOf } = await setup(30);
    const worker = new FakeWorker({ answer: (m) => ({ id: m.id, error: 'no' }) });
    use(worker);
    await new Promise((r) => setTimeout(r, 5));
    await readAll({ helpers: 1 });
    const posted = worker.posted.map(frameOf);
    expect(posted.length).toBeGreaterThan(0);
    expect(new Set(posted).size).toBe(posted.length);
  });

  it('waitForHelpers: false starts a helper but posts it nothing until it says it is ready', async () => {
    const { readAll } = await setup(30);
    const silent = new FakeWorker({ ready: false });
    let started = 0;
    setCompressionHelperFactory(() => {
      started++;
      return silent as unknown as Worker;
    });
    await readAll({ helpers: 1, waitForHelpers: false });
    expect(started).toBe(1);
    expect(silent.posted.length).toBe(0);
    // Once it says it is ready, the next reader hands it frames.
    silent.onmessage?.({ data: { ready: true } });
    await readAll({ helpers: 1, waitForHelpers: false });
    expect(silent.posted.length).toBeGreaterThan(0);
  });
});

describe('frameBlocks shares whole frames with helpers (Node, fake helper)', () => {
  const FRAME = { kind: 'TEST', level: 1 } as const;
  // Values of their own per call (a helper may take their buffers), with a typed array each.
  const valueOf = (i: number) => ({ i, text: new TextEncoder().encode(`block ${i} `.repeat(500 + i)), codes: new Uint16Array([i, i + 1]) });
  const pieceOf = (i: number) => {
    const value = valueOf(i);
    return { value, transfer: [value.text.buffer, value.codes.buffer] };
  };
  const use = (worker: FakeWorker) => setCompressionHelperFactory(() => worker as unknown as Worker);
  const expectFrames = (frames: Uint8Array[], count: number) => {
    expect(frames).toHaveLength(count);
    frames.forEach((f, i) => {
      expect(Buffer.from(f).equals(Buffer.from(encodeFrame(valueOf(i), FRAME))), `frame ${i}`).toBe(true);
      expect(decodeFrame(f, { kind: 'TEST', name: 't' })).toEqual(valueOf(i));
    });
  };

  it('a helper frames some values and this thread the rest: every frame is the value\'s own encodeFrame', async () => {
    const worker = new FakeWorker({ delayMs: 2 });
    use(worker);
    await new Promise((r) => setTimeout(r, 5));
    const { frames, byHelpers } = await frameBlocks(16, pieceOf, { ...FRAME, helpers: 1 });
    expectFrames(frames, 16);
    const posted = worker.posted.filter((m) => m.op === 'frame').map((m) => (m.value as { i: number }).i);
    expect(byHelpers).toBe(posted.length);
    expect(posted.length).toBeGreaterThan(0);
    expect(new Set(posted).size).toBe(posted.length);
  });

  it('a value a helper could not frame is made again and framed here; the helper stays', async () => {
    const worker = new FakeWorker({ delayMs: 1, answer: (m) => ((m.value as { i: number }).i === 1 ? { id: m.id, error: 'cannot encode' } : { id: m.id, bytes: encodeFrame(m.value, m.options!) }) });
    use(worker);
    await new Promise((r) => setTimeout(r, 5));
    const produced = new Map<number, number>();
    const { frames, byHelpers } = await frameBlocks(12, (i) => (produced.set(i, (produced.get(i) ?? 0) + 1), pieceOf(i)), { ...FRAME, helpers: 1 });
    expectFrames(frames, 12);
    const posted = worker.posted.map((m) => (m.value as { i: number }).i);
    expect(posted).toContain(1); // the first two values go to the helper at once
    expect(worker.terminated).toBe(false);
    expect(byHelpers).toBe(posted.length - 1);
    expect(new Set(posted).size).toBe(posted.length); // 1 was not handed out again
    for (const [i, n] of produced) expect(n, `block ${i}`).toBe(i === 1 ? 2 : 1);
  });

  it('values a crashed helper held are made again and framed here', async () => {
    let answered = 0;
    const worker: FakeWorker = new FakeWorker({
      answer: (m) => {
        if (answered++ < 1) return { id: m.id, bytes: encodeFrame(m.value, m.options!) };
        (worker.onerror as (e: { message: string }) => void)({ message: 'out of memory' });
        return undefined;
      },
    });
    use(worker);
    await new Promise((r) => setTimeout(r, 5));
    const produced = new Map<number, number>();
    const { frames, byHelpers } = await frameBlocks(12, (i) => (produced.set(i, (produced.get(i) ?? 0) + 1), pieceOf(i)), { ...FRAME, helpers: 1 });
    expectFrames(frames, 12);
    expect(byHelpers).toBe(1);
    expect(worker.terminated).toBe(true);
    // The jobs it held when it failed, and only those, were produced twice.
    const lost = worker.posted.slice(1).map((m) => (m.value as { i: number }).i);
    expect(lost.length).toBeGreaterThan(0);
    for (const [i, n] of produced) expect(n, `block ${i}`).toBe(lost.includes(i) ? 2 : 1);
  });

  it('a value without buffers to give (transfer undefined) is framed here, never posted', async () => {
    const worker = new FakeWorker({ delayMs: 1 });
    use(worker);
    await new Promise((r) => setTimeout(r, 5));
    const { frames } = await frameBlocks(12, (i) => (i % 3 === 0 ? { value: valueOf(i), transfer: undefined } : pieceOf(i)), { ...FRAME, helpers: 1 });
    expectFrames(frames, 12);
    const posted = worker.posted.map((m) => (m.value as { i: number }).i);
    expect(posted.length).toBeGreaterThan(0);
    expect(posted.filter((i) => i % 3 === 0)).toEqual([]);
  });

  it('passes on what produce throws, and frames everything here without helpers', async () => {
    await expect(frameBlocks(6, (i) => {
      if (i === 4) throw new ShelfError('INVALID_ARGUMENT', 'docs[4000] cannot be encoded');
      return pieceOf(i);
    }, { ...FRAME, helpers: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const { frames, byHelpers } = await frameBlocks(6, pieceOf, { ...FRAME, helpers: 0 });
    expectFrames(frames, 6);
    expect(byHelpers).toBe(0);
  });
});

describe('how many helpers', () => {
  afterEach(() => vi.unstubAllGlobals());
  const machine = (cores: number) => {
    vi.stubGlobal('Worker', class {});
    vi.stubGlobal('navigator', { hardwareConcurrency: cores });
  };

  it('saves and loads: one fewer than the cores, at least 1, at most 3', () => {
    for (const [cores, want] of [[1, 1], [2, 1], [4, 3], [16, 3]] as const) {
      machine(cores);
      expect(defaultHelperCount()).toBe(want);
    }
  });

  it('loads and streams: only cores beyond the two the reading thread and the page or the GC keep busy, at most as many as asked', () => {
    for (const [cores, want] of [[1, 0], [2, 0], [3, 1], [4, 2], [16, 3]] as const) {
      machine(cores);
      expect(readHelperCount()).toBe(want);
    }
    machine(8);
    expect(readHelperCount(1)).toBe(1);
    expect(readHelperCount(0)).toBe(0);
  });

  it('none where workers cannot start', () => {
    vi.stubGlobal('Worker', undefined);
    vi.stubGlobal('navigator', { hardwareConcurrency: 8 });
    expect(defaultHelperCount()).toBe(0);
    expect(readHelperCount()).toBe(0);
  });
});
