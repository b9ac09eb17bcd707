import { ShelfError } from '../errors/index.ts';

/**
 * Where collection files live: named byte blobs with range reads. `write` replaces the
 * whole blob and is durable when it resolves; callers get atomic replacement by writing a
 * new name and removing the old one (see the collection engine's generations).
 */
export interface BlobStore {
  list(): Promise<string[]>;
  size(name: string): Promise<number | undefined>;
  /** Reads `length` bytes at `offset` (default: the whole blob). Missing blob → `NOT_FOUND`. */
  read(name: string, offset?: number, length?: number): Promise<Uint8Array>;
  /**
   * Opens a blob for a run of range reads, held until closed: what a reader of many ranges
   * of one blob (a stream of a collection file) uses where the store has something cheaper
   * than a `read` per range. Undefined where it has not (callers then use `read`); missing
   * blob → `NOT_FOUND`. Optional: a store may leave it out.
   */
  openReader?(name: string): Promise<BlobReader | undefined>;
  write(name: string, bytes: Uint8Array): Promise<void>;
  remove(name: string): Promise<void>;
}

/** A blob open for range reads (see {@link BlobStore.openReader}). */
export interface BlobReader {
  /** The blob's size when it was opened. */
  readonly size: number;
  /** `length` bytes at `offset` (fewer at the end of the blob), in bytes of their own. */
  read(offset: number, length: number): Uint8Array;
  /** Lets go of the blob; reads after this throw, closing again does nothing. */
  close(): void;
}

function missing(name: string): ShelfError {
  return new ShelfError('NOT_FOUND', `blob ${JSON.stringify(name)} does not exist`);
}

function slice(bytes: Uint8Array, offset = 0, length = bytes.length - offset): Uint8Array {
  return bytes.slice(offset, Math.min(bytes.length, offset + length));
}

/** Blobs in memory: for Node, edge runtimes and tests. */
export class MemoryBlobStore implements BlobStore {
  readonly #blobs = new Map<string, Uint8Array>();
  async list(): Promise<string[]> {
    return [...this.#blobs.keys()];
  }
  async size(name: string): Promise<number | undefined> {
    return this.#blobs.get(name)?.length;
  }
  async read(name: string, offset?: number, length?: number): Promise<Uint8Array> {
    const blob = this.#blobs.get(name);
    if (!blob) throw missing(name);
    return slice(blob, offset, length);
  }
  async write(name: string, bytes: Uint8Array): Promise<void> {
    this.#blobs.set(name, bytes.slice());
  }
  async remove(name: string): Promise<void> {
    this.#blobs.delete(name);
  }
}

