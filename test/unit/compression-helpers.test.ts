// inflateInOrder against a stand-in helper (node:zlib), for what needs no real worker.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { deflateBlocks, inflateInOrder, setCompressionHelperFactory } from '../../src/codec/compression-helpers.ts';
import { loadZlib } from '../../src/codec/zlib.ts';
import { ShelfError } from '../../src/errors/index.ts';
import { CollectionEngine, MemoryBlobStore } from '../../src/index.ts';

// A helper that answers like compression.worker.ts (node:zlib instead of wasm).
class FakeWorker {
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: unknown = null;
  onmessageerror: unknown = null;
  terminated = false;
  postMessage(m: { id: number; op: string; bytes: Uint8Array; arg: number }) {
    setTimeout(() => {
      const out = m.op === 'deflate' ? deflateRawSync(m.bytes, { level: m.arg }) : inflateRawSync(m.bytes);
      this.onmessage?.({ data: { id: m.id, bytes: new Uint8Array(out) } });
    }, 1);
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
        for await (const _ of inflateInOrder(src, { expected: 20, helpers: 1, startHelpers: false })) yielded++;
      })().catch((e: unknown) => e);
      return { yielded, code: (error as ShelfError).code };
    };
    // No helper running: the stream delivers frames 0-4, then fails.
    setCompressionHelperFactory(() => new FakeWorker() as unknown as Worker);
    const cold = await run();
    // A save starts a helper that answers; the next stream uses it (startHelpers: false).
    const saved = await deflateBlocks(8, (i) => raw[i]!, { level: 2, helpers: 1 });
    expect(saved.byHelpers).toBeGreaterThan(0);
    const warm = await run();
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
