// Test helper: an OPFS blob store inside a dedicated worker (sync access handles), reached
// through Comlink so the page-side conformance suite exercises the worker code path.
import { expose, proxy } from 'comlink';
import { OpfsBlobStore } from '../../src/index.ts';

expose({
  async open(path: string) {
    return proxy(await OpfsBlobStore.open(path));
  },
});
