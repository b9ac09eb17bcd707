// A compression helper (see compression-helpers.ts): raw-deflates the bytes it is sent at
// the level it is told, inflates them to the length it is told, or encodes a whole frame
// of a value (MessagePack, deflate, checksum), with libdeflate and zlib in WebAssembly, or
// fflate where WebAssembly is refused.
import { encodeFrame, type FrameOptions } from './frame.ts';
import { loadZlib, rawDeflate, rawInflate } from './zlib.ts';

type Request =
  | { id: number; op: 'deflate' | 'inflate'; bytes: Uint8Array; arg: number }
  | { id: number; op: 'frame'; value: unknown; options: FrameOptions };

const zlib = loadZlib();
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

// Says it is ready once zlib is loaded: callers that will not wait for a start use it from then on.
void zlib.then(() => scope.postMessage({ ready: true }));

scope.onmessage = (event) => {
  const request = event.data;
  void zlib.then((z) => {
    try {
      const out =
        request.op === 'frame' ? encodeFrame(request.value, request.options)
        : request.op === 'deflate' ? rawDeflate(request.bytes, request.arg, z)
        : rawInflate(request.bytes, request.arg, z);
      scope.postMessage({ id: request.id, bytes: out }, [out.buffer]);
    } catch (error) {
      scope.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
};
