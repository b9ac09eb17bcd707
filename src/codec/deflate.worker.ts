// A compression helper (see deflate-helpers.ts): raw-deflates the bytes it is sent at the
// level it is told, with zlib in WebAssembly, or fflate where WebAssembly is refused.
import { deflateSync } from 'fflate';
import { loadZlib } from './zlib.ts';

const zlib = loadZlib();
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<{ id: number; bytes: Uint8Array; level: number }>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

scope.onmessage = (event) => {
  const { id, bytes, level } = event.data;
  void zlib.then((z) => {
    try {
      const out = z ? z.deflateRaw(bytes, level) : deflateSync(bytes, { level: level as 0 });
      scope.postMessage({ id, bytes: out }, [out.buffer]);
    } catch (error) {
      scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
};
