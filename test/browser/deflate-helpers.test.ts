import { inflateSync } from 'fflate';
import { deleteDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { deflateBlocks, setDeflateHelperFactory } from '../../src/codec/deflate-helpers.ts';
import { openShelf } from '../../src/index.ts';

const blocks = Array.from({ length: 24 }, (_, i) =>
  new TextEncoder().encode(Array.from({ length: 400 }, (_, j) => `line ${j} of block ${i}: ${(j * 7919 + i) % 1000}\n`).join('')));
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const expectRoundTrip = (payloads: Uint8Array[]) => {
  expect(payloads).toHaveLength(blocks.length);
  payloads.forEach((p, i) => expect(equal(inflateSync(p), blocks[i]!), `block ${i}`).toBe(true));
};
const scriptWorker = (source: string) => () => new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));

afterEach(() => setDeflateHelperFactory(undefined));

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
    setDeflateHelperFactory(scriptWorker('throw new Error("no start")'));
    const { payloads, byHelpers } = await deflateBlocks(blocks.length, (i) => blocks[i]!, { level: 2, helpers: 1 });
    expectRoundTrip(payloads);
    expect(byHelpers).toBe(0);
  });

  it('a helper that answers with errors, or not at all, costs nothing but time', async () => {
    setDeflateHelperFactory(scriptWorker('onmessage = (e) => postMessage({ id: e.data.id, error: "refused" })'));
    const refused = await deflateBlocks(blocks.length, (i) => blocks[i]!, { level: 2, helpers: 1 });
    expectRoundTrip(refused.payloads);
    expect(refused.byHelpers).toBe(0);

    setDeflateHelperFactory(scriptWorker('onmessage = () => {}'));
    const started = performance.now();
    const silent = await deflateBlocks(blocks.length, (i) => blocks[i]!, { level: 2, helpers: 1, stallMs: 200 });
    expectRoundTrip(silent.payloads);
    expect(silent.byHelpers).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('a save in the storage worker uses helpers, and the file reads back the same', async () => {
    const name = `deflate-helpers-${Date.now()}`;
    const docs = Array.from({ length: 2345 }, (_, i) => ({ _id: `d${i}`, path: `src/f${i % 40}.ts`, line: i, tags: ['a', String(i % 7)] }));
    let shelf = await openShelf({ name, collections: { saveIntervalMs: 0, blockDocs: 100 } });
    await shelf.collections.create('c');
    await shelf.collections.insertMany('c', docs);
    await shelf.collections.save('c');
    expect((await shelf.collections.stats()).blocksCompressedByHelpers).toBeGreaterThan(0);
    await shelf.close();
    shelf = await openShelf({ name, collections: { saveIntervalMs: 0, compressionWorkers: 0 } });
    const back = await shelf.collections.findAll('c');
    expect(back.sort((a, b) => (a.line as number) - (b.line as number))).toEqual(docs);
    await shelf.collections.drop('c');
    await shelf.close();
    await deleteDB(`codeshelf:${name}:kv`);
  });
});
