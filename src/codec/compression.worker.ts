// A compression helper (see compression-helpers.ts): raw-deflates the bytes it is sent at
// the level it is told, or inflates them to the length it is told, with zlib in
// WebAssembly, or fflate where WebAssembly is refused.
import { loadZlib, rawDeflate, rawInflate } from './zlib.ts';

const zlib = loadZlib();
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<{ id: number; op: 'deflate' | 'inflate'; bytes: Uint8Array; arg: number }>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

// Says it is ready once zlib is loaded: callers that will not wait for a start use it from then on.
void zlib.then(() => scope.postMessage({ ready: true }));

scope.onmessage = (event) => {
  const { id, op, bytes, arg } = event.data;
  void zlib.then((z) => {
    try {
      const out = op === 'deflate' ? rawDeflate(bytes, arg, z) : rawInflate(bytes, arg, z);
      scope.postMessage({ id, bytes: out }, [out.buffer]);
    } catch (error) {
      scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
};
