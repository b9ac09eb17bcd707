import { transfer } from 'comlink';
import type { ChunkStore, CodeSnapshotStore, DurableSnapshotStore } from '../snapshot/index.ts';

type Method<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];
/** The async, forwarded form of `T`'s methods `K`. */
type Forwarded<T, K extends keyof T> = {
  [P in K]: T[P] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

const CHUNK_METHODS = [
  'saveRepository', 'getRepository', 'listRepositories', 'createSnapshot', 'getSnapshot', 'listSnapshots',
  'saveChunk', 'saveChunks', 'getChunk', 'getChunks', 'getChunksByFile', 'getChunkByFqn', 'softDeleteFileChunks',
  'saveDependencies', 'getDependenciesFrom', 'getDependenciesTo', 'getTransitiveDependencies', 'searchContent',
  'saveFileMetadata', 'getFileMetadata', 'listFileMetadata', 'indexBacklog',
] as const satisfies readonly Method<ChunkStore>[];

type ChunkApi = Forwarded<ChunkStore, (typeof CHUNK_METHODS)[number]>;

function forward<T, K extends keyof T>(get: () => Promise<T>, keys: readonly K[]): Forwarded<T, K> {
  const out = {} as Record<PropertyKey, unknown>;
  for (const key of keys) {
    out[key] = async (...args: unknown[]) => {
      const target = await get();
      return (target[key] as (...a: unknown[]) => unknown).apply(target, args);
    };
  }
  return out as Forwarded<T, K>;
}

/**
 * The code snapshot store as the storage worker exposes it. The durable store (and with
 * it the sql.js WASM) opens on first use.
 * @internal
 */
export class WireSnapshots {
  readonly #durable: () => Promise<DurableSnapshotStore>;
  /** The low-level ChunkStore API. */
  readonly chunks: ChunkApi;

  constructor(durable: () => Promise<DurableSnapshotStore>) {
    this.#durable = durable;
    this.chunks = forward(async () => (await durable()).store.chunks, CHUNK_METHODS);
  }

  async #store(): Promise<CodeSnapshotStore> {
    return (await this.#durable()).store;
  }

  async replaceFile(...args: Parameters<CodeSnapshotStore['replaceFile']>) {
    return (await this.#store()).replaceFile(...args);
  }
  async compareCommits(...args: Parameters<CodeSnapshotStore['compareCommits']>) {
    return (await this.#store()).compareCommits(...args);
  }
  /** `analyze` may be a Comlink proxy of a page function; it is called only for changed paths. */
  async createIncrementalSnapshot(...args: Parameters<CodeSnapshotStore['createIncrementalSnapshot']>) {
    return (await this.#store()).createIncrementalSnapshot(...args);
  }
  /** The whole database as `.sqlite` bytes (transferred, not copied). */
  async exportDatabase(): Promise<Uint8Array> {
    const bytes = (await this.#durable()).exportDatabase();
    return transfer(bytes, [bytes.buffer as ArrayBuffer]);
  }
  /** Replaces the database with an existing `.sqlite` file. */
  async importDatabase(bytes: Uint8Array): Promise<void> {
    await (await this.#durable()).importDatabase(bytes);
  }
  /** Runs full-text index upkeep now (normally it runs by itself between commits); resolves the steps taken. */
  async maintain(steps?: number): Promise<number> {
    return (await this.#durable()).maintain(steps);
  }
  async checkpoint(): Promise<void> {
    await (await this.#durable()).checkpoint();
  }
  async stats() {
    return (await this.#durable()).stats();
  }
}
