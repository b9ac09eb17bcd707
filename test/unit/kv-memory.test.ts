import { createMemoryKv } from '../../src/index.ts';
import { runKvConformance } from '../conformance/kv-conformance.ts';

runKvConformance('memory adapter', async () => {
  const kv = createMemoryKv();
  return { kv, close: () => kv.close(), dispose: () => kv.close() };
});
