import { describe, expect, it } from 'vitest';
import { CollectionEngine, MemoryBlobStore } from '../../src/index.ts';
import { Staging } from '../../src/service/staging.ts';
import { WireCollections } from '../../src/service/wire-collections.ts';

describe('WireCollections', () => {
  it('sends a large find result as packed batches, a small one as it is, and starts no stream once stopped', async () => {
    const engine = await CollectionEngine.open({ storage: new MemoryBlobStore(), saveIntervalMs: 0 });
    await engine.create('c');
    await engine.insertMany('c', Array.from({ length: 1000 }, (_, i) => ({ _id: `d${i}`, i })));
    const wire = new WireCollections(() => engine, new Staging());
    const small = new MessageChannel();
    expect(await wire.findToPage(small.port2, 'c', { i: { $lt: 2 } })).toEqual([{ _id: 'd0', i: 0 }, { _id: 'd1', i: 1 }]);
    const large = new MessageChannel();
    expect(await wire.findToPage(large.port2, 'c', undefined, undefined, true)).toEqual({ packed: 1000 });
    large.port1.postMessage({ cancel: true });
    large.port1.close();
    await wire.stopStreams();
    // A read that ends after the shelf began closing does not start a stream close cannot stop.
    const late = new MessageChannel();
    await expect(wire.findToPage(late.port2, 'c', undefined, undefined, true)).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => wire.pushPacked(new MessageChannel().port2, 'c')).toThrow(/closing/);
    late.port1.close();
    await engine.close();
  });
});
