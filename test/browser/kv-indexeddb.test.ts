import { deleteDB } from 'idb';
import { openIndexedDbKv, openShelf } from '../../src/index.ts';
import { runKvConformance } from '../conformance/kv-conformance.ts';

let counter = 0;
const uniqueName = (prefix: string) => `${prefix}-${Date.now()}-${counter++}`;

runKvConformance('IndexedDB adapter (same thread)', async () => {
  const name = uniqueName('conf-idb');
  const kv = await openIndexedDbKv({ name });
  return {
    kv,
    close: () => kv.close(),
    dispose: async () => {
      await kv.close();
      await deleteDB(`codeshelf:${name}:kv`);
    },
  };
});

runKvConformance('IndexedDB adapter through the storage worker', async () => {
  const name = uniqueName('conf-worker');
  const shelf = await openShelf({ name });
  return {
    kv: shelf.kvBytes,
    close: () => shelf.close(),
    dispose: async () => {
      await shelf.close();
      await deleteDB(`codeshelf:${name}:kv`);
    },
  };
});
