// A compression helper (see compression-helpers.ts): raw-deflates the bytes it is sent at
// the level it is told, or inflates them to the length it is told, with zlib in
// WebAssembly, or fflate where WebAssembly is refused.
import { deflateSync, inflateSync } from 'fflate';
import { loadZlib } from './zlib.ts';

const zlib = loadZlib();
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<{ id: number; op: 'deflate' | 'inflate'; bytes: Uint8Array; arg: number }>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

scope.onmessage = (event) => {
  const { id, op, bytes, arg } = event.data;
  void zlib.then((z) => {
    try {
      let out: Uint8Array;
      if (op === 'deflate') out = z ? z.deflateRaw(bytes, arg) : deflateSync(bytes, { level: arg as 0 });
      else {
        out = z ? z.inflateRaw(bytes, arg) : inflateSync(bytes, { out: new Uint8Array(arg) });
        if (out.length !== arg) throw new Error(`inflated ${out.length} bytes, expected ${arg}`);
      }
      scope.postMessage({ id, bytes: out }, [out.buffer]);
    } catch (error) {
      scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
};
