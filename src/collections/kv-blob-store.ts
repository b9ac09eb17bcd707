import { ShelfError } from '../errors/index.ts';
import type { KvStore } from '../kv/index.ts';
import type { BlobStore } from '../opfs/index.ts';

const CHUNK = 256 * 1024;

/**
 * Blobs in a {@link KvStore}, split into 256 KiB chunks under `blob:{name}:{index}` with a
 * size record, written in one atomic batch. A range read fetches only the chunks it needs,
 * so streaming a large collection from IndexedDB keeps memory bounded too.
 */
export class KvBlobStore implements BlobStore {
  readonly #kv: KvStore;
  readonly #prefix: string;

  constructor(kv: KvStore, prefix = 'blob:') {
    this.#kv = kv;
    this.#prefix = prefix;
  }

  #sizeKey(name: string): string {
    return `${this.#prefix}${name}\u0000size`;
  }
  #chunkKey(name: string, i: number): string {
    return `${this.#prefix}${name}\u0000${String(i).padStart(8, '0')}`;
  }

  async list(): Promise<string[]> {
    const page = await this.#kv.scan({ prefix: this.#prefix, keysOnly: true });
    return page.keys.filter((k) => k.endsWith('\u0000size')).map((k) => k.slice(this.#prefix.length, -'\u0000size'.length));
  }

  async size(name: string): Promise<number | undefined> {
    const v = await this.#kv.get(this.#sizeKey(name));
    return v ? new DataView(v.buffer, v.byteOffset, v.byteLength).getFloat64(0, true) : undefined;
  }

  async read(name: string, offset = 0, length?: number): Promise<Uint8Array> {
    const size = await this.size(name);
    if (size === undefined) throw new ShelfError('NOT_FOUND', `blob ${JSON.stringify(name)} does not exist`);
    const end = Math.min(size, length === undefined ? size : offset + length);
    if (end <= offset) return new Uint8Array(0);
    const first = Math.floor(offset / CHUNK);
    const last = Math.floor((end - 1) / CHUNK);
    const keys = Array.from({ length: last - first + 1 }, (_, i) => this.#chunkKey(name, first + i));
    const chunks = await this.#kv.getMany(keys);
    const out = new Uint8Array(end - offset);
    chunks.forEach((chunk, i) => {
      if (!chunk) throw new ShelfError('CORRUPT', `blob ${JSON.stringify(name)} is missing chunk ${first + i}`);
      const chunkStart = (first + i) * CHUNK;
      const from = Math.max(offset, chunkStart) - chunkStart;
      const to = Math.min(end, chunkStart + chunk.length) - chunkStart;
      out.set(chunk.subarray(from, to), chunkStart + from - offset);
    });
    return out;
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    const oldSize = (await this.size(name)) ?? 0;
    const count = Math.ceil(bytes.length / CHUNK);
    const oldCount = Math.ceil(oldSize / CHUNK);
    const size = new Uint8Array(8);
    new DataView(size.buffer).setFloat64(0, bytes.length, true);
    const ops = [];
    for (let i = 0; i < count; i++) ops.push({ type: 'put' as const, key: this.#chunkKey(name, i), value: bytes.subarray(i * CHUNK, (i + 1) * CHUNK) });
    for (let i = count; i < oldCount; i++) ops.push({ type: 'delete' as const, key: this.#chunkKey(name, i) });
    ops.push({ type: 'put' as const, key: this.#sizeKey(name), value: size });
    await this.#kv.batch(ops);
  }

  async remove(name: string): Promise<void> {
    const page = await this.#kv.scan({ prefix: `${this.#prefix}${name}\u0000`, keysOnly: true });
    await this.#kv.batch(page.keys.map((key) => ({ type: 'delete' as const, key })));
  }
}
