// Test helper: an OPFS blob store inside a dedicated worker (sync access handles), reached
// through Comlink so the page-side conformance suite exercises the worker code path.
import { expose, proxy } from 'comlink';
import { OpfsBlobStore, ShelfError } from '../../src/index.ts';
import { openOpfsDirectory, readThroughHandle } from '../../src/opfs/opfs-directory.ts';

type ReadOnlyOpen = { createSyncAccessHandle(o: { mode: string }): Promise<{ close(): void }> };

/** Opens a read-only sync access handle on `name` and closes it after `ms`. */
async function holdFor(path: string, name: string, ms: number): Promise<void> {
  const file = await (await openOpfsDirectory(path)).getFileHandle(name);
  const held = await (file as unknown as ReadOnlyOpen).createSyncAccessHandle({ mode: 'read-only' });
  setTimeout(() => held.close(), ms);
}

expose({
  async open(path: string) {
    return proxy(await OpfsBlobStore.open(path));
  },
  /**
   * Reads `name` twice through read-only handles, the second time while another read-only
   * handle is open on it: what each read gave (undefined: that path was not taken).
   */
  async readTwiceThroughHandles(path: string, name: string) {
    const file = await (await openOpfsDirectory(path)).getFileHandle(name);
    const first = await readThroughHandle(file, 1, 3);
    await holdFor(path, name, 100);
    const second = await readThroughHandle(file, 0, undefined);
    return { first: first && [...first], second: second && [...second] };
  },
  /**
   * `openReader` on `name` (which holds the bytes 0..99): ranges through it, reads of the
   * file by other means while it is open, a removal that waits for it, and what it and a
   * missing file throw.
   */
  async readerOf(path: string, name: string) {
    const store = await OpfsBlobStore.open(path);
    const code = async (run: () => unknown) => {
      try {
        await run();
        return 'none';
      } catch (error) {
        return error instanceof ShelfError ? error.code : String(error);
      }
    };
    const reader = (await store.openReader(name))!;
    const ranges = [[...reader.read(0, 4)], [...reader.read(97, 10)], [...reader.read(200, 5)]];
    // Other readers of the file meanwhile: another reader and a plain read.
    const other = (await store.openReader(name))!;
    const alongside = { other: [...other.read(50, 2)], read: [...(await store.read(name, 10, 2))] };
    other.close();
    // A removal waits until the reader lets go.
    let removed = false;
    const removal = store.remove(name).then(() => (removed = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const removedWhileOpen = removed;
    const lastRead = [...reader.read(99, 1)];
    reader.close();
    reader.close(); // twice is harmless
    await removal;
    return {
      size: reader.size, ranges, alongside, removedWhileOpen, lastRead, left: await store.list(),
      afterClose: await code(() => reader.read(0, 1)),
      missing: await code(() => store.openReader('nope')),
    };
  },
  /** Writes, then removes, `name` while a read-only handle holds it for 100 ms each time. */
  async changeWhileHeld(path: string, name: string) {
    const store = await OpfsBlobStore.open(path);
    await new Promise((resolve) => setTimeout(resolve, 150)); // the hold above has ended
    await holdFor(path, name, 100);
    const started = performance.now();
    await store.write(name, new Uint8Array([9, 9]));
    const waitedToWrite = performance.now() - started;
    const written = [...(await store.read(name))];
    await holdFor(path, name, 100);
    await store.remove(name);
    return { waitedToWrite, written, left: await store.list() };
  },
});
