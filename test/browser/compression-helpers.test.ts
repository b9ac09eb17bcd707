import { deflateSync, inflateSync } from 'fflate';
import { deleteDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { deflateBlocks, frameBlocks, inflateInOrder, setCompressionHelperFactory } from '../../src/codec/compression-helpers.ts';
import { decodeFrame, encodeFrame } from '../../src/codec/frame.ts';
import { columnBuffers, toColumns } from '../../src/codec/columns.ts';
import { openShelf } from '../../src/index.ts';

const blocks = Array.from({ length: 24 }, (_, i) =>
  new TextEncoder().encode(Array.from({ length: 400 }, (_, j) => `line ${j} of block ${i}: ${(j * 7919 + i) % 1000}\n`).join('')));
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const expectRoundTrip = (payloads: Uint8Array[]) => {
  expect(payloads).toHaveLength(blocks.length);
  payloads.forEach((p, i) => expect(equal(inflateSync(p), blocks[i]!), `block ${i}`).toBe(true));
};
const scriptWorker = (source: string) => () => new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));

afterEach(() => setCompressionHelperFactory(undefined));

describe('deflate helpers (real workers)', () => {
  it('a helper compresses blocks while this thread produces the next ones', async () => {
    const { payloads, byHelpers } = await deflateBlocks(blocks.length, (i) => blocks[i]!, { level: 2, helpers: 1 });
    expectRoundTrip(payloads);
    expect(byHelpers).toBeGreaterThan(0);
  });

  it('helpers: 0 compresses everything here', async () => {
    const { payloads, byHelpers } = await deflateBlocks(blocks.length, (i) => blocks[i]!, { level: 2, helpers: 0 });
    expectRoundTrip(payloads);
    expect(byHelpers).toBe(0);
  });

  it('a helper whose script fails to start is dropped; its blocks are compressed here', async () => {
    setCompressionHelperFactory(scriptWorker('throw new Error("no start")'));
    const { payloads, byHelpers } = await deflateBlocks(blocks.length, (i) => blocks[i]!, { level: 2, helpers: 1 });
    expectRoundTrip(payloads);
    expect(byHelpers).toBe(0);
  });

  it('a helper that answers with errors, or not at all, costs nothing but time', async () => {
    setCompressionHelperFactory(scriptWorker('onmessage = (e) => postMessage({ id: e.data.id, error: "refused" })'));
    const refused = await deflateBlocks(blocks.length, (i) => blocks[i]!, { level: 2, helpers: 1 });
    expectRoundTrip(refused.payloads);
    expect(refused.byHelpers).toBe(0);

    setCompressionHelperFactory(scriptWorker('onmessage = () => {}'));
    const started = performance.now();
    const silent = await deflateBlocks(blocks.length, (i) => blocks[i]!, { level: 2, helpers: 1, stallMs: 200 });
    expectRoundTrip(silent.payloads);
    expect(silent.byHelpers).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('a helper frames whole column blocks: their buffers move to it, and the frames are the ones this thread would write', async () => {
    const docsOf = (i: number) => Array.from({ length: 300 }, (_, j) => ({ _id: `b${i}d${j}`, path: `src/${j % 7}.ts`, line: j * i, tags: ['x', `t${j % 3}`] }));
    const values: unknown[] = [];
    const columns: ReturnType<typeof toColumns>[] = [];
    const expected: Uint8Array[] = [];
    const { frames, byHelpers } = await frameBlocks(blocks.length, (i) => {
      const c = toColumns(docsOf(i));
      columns[i] = c;
      const transfer = columnBuffers(c)!;
      values[i] = structuredClone({ count: 300, columns: c }); // what the frame must hold
      expected[i] = encodeFrame({ count: 300, columns: c }, { kind: 'COLB', level: 1 }); // before the transfer
      return { value: { count: 300, columns: c }, transfer: [...transfer] };
    }, { kind: 'COLB', level: 1, helpers: 1 });
    expect(byHelpers).toBeGreaterThan(0);
    frames.forEach((f, i) => {
      expect(decodeFrame(f, { kind: 'COLB', name: 'b' }), `block ${i}`).toEqual(values[i]);
      expect(equal(f, expected[i]!), `block ${i}`).toBe(true);
    });
    // Blocks a helper framed gave up their buffers (transferred, not copied).
    const detached = columns.filter((c) => [...columnBuffers(c)!].every((b) => b.byteLength === 0)).length;
    expect(detached).toBe(byHelpers);
  });

  it('helpers inflate blocks ahead; the blocks come back in order, and a broken one fails when due', async () => {
    const frames = blocks.map((b) => ({ stored: deflateSync(b, { level: 2 }), deflated: true, rawLength: b.length }));
    let i = 0;
    for await (const { frame, payload } of inflateInOrder(frames, { helpers: 1 })) {
      expect(frame).toBe(frames[i]);
      expect(equal(payload, blocks[i++]!), `block ${i}`).toBe(true);
    }
    expect(i).toBe(blocks.length);

    const broken = frames.map((f, j) => (j === 10 ? { ...f, stored: f.stored.subarray(0, 30) } : f));
    let reached = 0;
    const error = await (async () => {
      for await (const { payload } of inflateInOrder(broken, { helpers: 1 })) expect(equal(payload, blocks[reached++]!)).toBe(true);
    })().catch((e: unknown) => e);
    expect(reached).toBe(10);
    expect(error).toBeInstanceOf(Error);

    // An async source is read ahead as far as the helpers work, no further.
    let pulled = 0;
    let maxAhead = 0;
    let consumed = 0;
    const source = (async function* () {
      for (const f of frames) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - consumed);
        yield f;
      }
    })();
    for await (const { payload } of inflateInOrder(source, { helpers: 1, expected: frames.length })) expect(equal(payload, blocks[consumed++]!)).toBe(true);
    expect(consumed).toBe(blocks.length);
    expect(maxAhead).toBeGreaterThan(1);
    expect(maxAhead).toBeLessThanOrEqual(17);

    setCompressionHelperFactory(scriptWorker('throw new Error("no start")'));
    i = 0;
    for await (const { payload } of inflateInOrder(frames, { helpers: 1 })) expect(equal(payload, blocks[i++]!)).toBe(true);
    expect(i).toBe(blocks.length);
  });

  it('waitForHelpers: false starts a helper without waiting for it, and shares frames with it once it is ready', async () => {
    // A real helper, counted: started, and the inflate jobs it is posted.
    let started = 0;
    let posted = 0;
    setCompressionHelperFactory(() => {
      started++;
      const worker = new Worker(new URL('../../src/codec/compression.worker.ts', import.meta.url), { type: 'module' });
      const post = worker.postMessage.bind(worker);
      worker.postMessage = ((message: { op?: string }) => {
        if (message?.op === 'inflate') posted++;
        post(message);
      }) as Worker['postMessage'];
      return worker;
    });
    const frames = blocks.map((b) => ({ stored: deflateSync(b, { level: 2 }), deflated: true, rawLength: b.length }));
    const inflateAll = async () => {
      let i = 0;
      for await (const { payload } of inflateInOrder(frames, { helpers: 1, waitForHelpers: false })) expect(equal(payload, blocks[i++]!)).toBe(true);
      expect(i).toBe(blocks.length);
    };
    await inflateAll(); // done whether or not the helper was ready in time
    expect(started).toBe(1);
    // The helper says it is ready once its zlib is loaded; the next reader shares it.
    const deadline = Date.now() + 5000;
    const before = posted;
    while (posted === before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      await inflateAll();
    }
    expect(posted).toBeGreaterThan(before);
    expect(started).toBe(1);
  });

  it('a helper that cannot be posted to is dropped at once (no retry loop)', async () => {
    setCompressionHelperFactory(() => {
      const worker = scriptWorker('onmessage = (e) => postMessage({ id: e.data.id, bytes: new Uint8Array(0) })')();
      worker.postMessage = () => {
        throw new DOMException('cannot clone', 'DataCloneError');
      };
      return worker;
    });
    const { payloads, byHelpers } = await deflateBlocks(blocks.length, (i) => blocks[i]!, { level: 2, helpers: 1 });
    expectRoundTrip(payloads);
    expect(byHelpers).toBe(0);
  });

  it('a silent helper is dropped once a job waited stallMs; inflating never waits for it', async () => {
    let terminated = 0;
    setCompressionHelperFactory(() => {
      const worker = scriptWorker('onmessage = () => {}')();
      const terminate = worker.terminate.bind(worker);
      worker.terminate = () => {
        terminated++;
        terminate();
      };
      return worker;
    });
    const frames = blocks.map((b) => ({ stored: deflateSync(b, { level: 2 }), deflated: true, rawLength: b.length }));
    let i = 0;
    for await (const { payload } of inflateInOrder(frames, { helpers: 1, stallMs: 30 })) {
      expect(equal(payload, blocks[i++]!)).toBe(true);
      await new Promise((r) => setTimeout(r, 5)); // a consumer doing work: the helper's jobs age
    }
    expect(i).toBe(blocks.length);
    expect(terminated).toBe(1);
  });

  it('a save in the storage worker uses helpers, and the file reads back the same', async () => {
    const name = `compression-helpers-${Date.now()}`;
    const docs = Array.from({ length: 2345 }, (_, i) => ({ _id: `d${i}`, path: `src/f${i % 40}.ts`, line: i, tags: ['a', String(i % 7)] }));
    let shelf = await openShelf({ name, collections: { saveIntervalMs: 0, blockDocs: 100 } });
    await shelf.collections.create('c');
    await shelf.collections.insertMany('c', docs);
    await shelf.collections.save('c');
    expect((await shelf.collections.stats()).blocksCompressedByHelpers).toBeGreaterThan(0);
    await shelf.close();
    // Loaded with helpers inflating ahead, and without.
    for (const compressionWorkers of [undefined, 0]) {
      shelf = await openShelf({ name, collections: { saveIntervalMs: 0, ...(compressionWorkers === undefined ? {} : { compressionWorkers }) } });
      const back = await shelf.collections.findAll('c');
      expect(back.sort((a, b) => (a.line as number) - (b.line as number))).toEqual(docs);
      if (compressionWorkers === undefined) await shelf.close();
    }
    await shelf.collections.drop('c');
    await shelf.close();
    await deleteDB(`codeshelf:${name}:kv`);
  });
});
