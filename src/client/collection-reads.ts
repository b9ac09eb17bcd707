import { transfer, type Remote } from 'comlink';
import { ShelfError } from '../errors/index.ts';
import type { Doc, Filter, FindOptions } from '../collections/index.ts';
import { decodeDocBatchFree } from '../collections/packed-batch.ts';
import { BatchReader } from '../service/batch-port.ts';
import type { WireCollections } from '../service/wire-collections.ts';
import { mapPageError, toPageError } from './page-errors.ts';
import { checkOptions } from '../search/search-options.ts';

/** Options of `shelf.collections.iterate` and `stream`. */
export interface CollectionReadOptions {
  /** Documents per batch (default 1,000). */
  readonly batchSize?: number;
  readonly filter?: Filter;
}

interface Opened {
  readonly reader: BatchReader;
  readonly batchSize: number;
  /** Stops the worker's side (if still running) and forgets the read. */
  release(): void;
}

/** The batches of `reader`, rebuilt from packed bytes and re-sliced to `batchSize`. */
async function* batches(reader: BatchReader, batchSize: number, label: string): AsyncGenerator<Doc[], void, undefined> {
  let buffer: Doc[] = [];
  let at = 0;
  for (let bytes = await reader.next(); bytes; bytes = await reader.next()) {
    const { docs, free } = decodeDocBatchFree(bytes, label);
    // The worker inflates its next blocks into this buffer: no allocation of fresh memory.
    if (free) reader.recycle(bytes.buffer);
    buffer = at < buffer.length ? buffer.slice(at).concat(docs) : docs;
    at = 0;
    if (buffer.length === batchSize) {
      yield buffer;
      buffer = [];
      continue;
    }
    for (; buffer.length - at >= batchSize; at += batchSize) yield buffer.slice(at, at + batchSize);
  }
  if (at < buffer.length) yield at ? buffer.slice(at) : buffer;
}

/**
 * `iterate` and `stream` of `shelf.collections`, both over the packed-batch port
 * (service/batch-port.ts): batches arrive as column-packed bytes with credits and are
 * rebuilt here, a few native string decodes per batch instead of a structured clone of
 * every object. Options are checked here before anything reaches the worker; errors are
 * ShelfErrors with their code; {@link end} (the shelf closing) fails every read still open
 * with its error, a `ReadableStream` at once even between reads.
 * @internal
 */
export function createCollectionReads(options: {
  remote: Remote<WireCollections>;
  name: string;
  isClosed: () => boolean;
  track: <T>(call: Promise<T>) => Promise<T>;
  /** Posts a call after any write still being sent in slices (see open-shelf.ts). */
  inOrder: <T>(post: () => Promise<T>) => Promise<T>;
}) {
  const { remote, name, isClosed, track, inOrder } = options;
  const enders = new Set<(error: ShelfError) => void>();

  /**
   * A port for the worker to push packed batches to and its reader; closing the shelf ends
   * the read with the shelf's error (and `onEnd`), `release` lets go of it.
   */
  function connect(onEnd?: (error: ShelfError) => void) {
    if (isClosed()) throw new ShelfError('CLOSED', `shelf "${name}" is closed`);
    const { port1, port2 } = new MessageChannel();
    const reader = new BatchReader(port1);
    const end = (error: ShelfError) => {
      enders.delete(end);
      reader.abort(error);
      onEnd?.(error);
    };
    const release = () => {
      enders.delete(end);
      reader.cancel();
    };
    enders.add(end);
    return { port: port2, reader, release };
  }

  async function open(collection: string, o: CollectionReadOptions | undefined, call: string, onEnd?: (error: ShelfError) => void): Promise<Opened> {
    checkOptions(o, `${call}: options`);
    const batchSize = o?.batchSize ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ShelfError('INVALID_ARGUMENT', `${call}: options.batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    const { port, reader, release } = connect(onEnd);
    try {
      await track(mapPageError(inOrder(() => remote.pushPacked(transfer(port, [port]), collection, o ?? {})), call, [collection, o], ['name', 'options']));
    } catch (error) {
      release();
      throw error;
    }
    return { reader, batchSize, release };
  }

  return {
    /** Reads a collection batch by batch; the worker sends packed batches ahead of the reader. */
    async *iterate(collection: string, o?: CollectionReadOptions): AsyncIterableIterator<Doc[]> {
      const { reader, batchSize, release } = await open(collection, o, 'collections.iterate');
      try {
        yield* batches(reader, batchSize, `collection ${JSON.stringify(collection)} stream`);
      } finally {
        // A consumer that stops early (or an error) stops the worker's side too.
        release();
      }
    },

    /** The same batches as a `ReadableStream`, built on the page. */
    async stream(collection: string, o?: CollectionReadOptions): Promise<ReadableStream<Doc[]>> {
      let controller: ReadableStreamDefaultController<Doc[]> | undefined;
      let ended: ShelfError | undefined;
      const { reader, batchSize, release } = await open(collection, o, 'collections.stream', (error) => {
        ended = error;
        controller?.error(error);
      });
      const label = `collection ${JSON.stringify(collection)} stream`;
      const it = batches(reader, batchSize, label);
      return new ReadableStream<Doc[]>({
        start(c) {
          controller = c;
          if (ended) c.error(ended);
        },
        async pull(c) {
          try {
            const next = await it.next();
            if (ended) return;
            if (next.done) {
              release();
              c.close();
            } else c.enqueue(next.value);
          } catch (error) {
            release();
            if (!ended) c.error(toPageError(error, label));
          }
        },
        async cancel() {
          release();
          await it.return(undefined);
        },
      });
    },

    /**
     * `find` and `findAll`: the worker sends a large result as packed batches (see
     * `WireCollections.findToPage`), rebuilt here one batch per task, where one structured
     * clone of 100k documents held the page 182–284 ms; a small one comes back as it is.
     */
    async find(collection: string, filter?: Filter, o?: FindOptions, all = false): Promise<Doc[]> {
      const call = all ? 'collections.findAll' : 'collections.find';
      const { port, reader, release } = connect();
      try {
        const args = all ? [collection] : [collection, filter, o];
        const started = inOrder(() => remote.findToPage(transfer(port, [port]), collection, filter, o, all) as Promise<Doc[] | { packed: number }>);
        const result = await track(mapPageError(started, call, args, ['name', 'filter', 'options']));
        if (Array.isArray(result)) return result;
        const docs: Doc[] = [];
        for await (const batch of batches(reader, 1000, `collection ${JSON.stringify(collection)} ${all ? 'findAll' : 'find'}`)) {
          for (let i = 0; i < batch.length; i++) docs.push(batch[i]!);
        }
        if (docs.length !== result.packed) {
          // Only a shelf closing stops the worker's side early (and that fails the read above).
          throw new ShelfError(isClosed() ? 'CLOSED' : 'INTERNAL', `${call}: the result ended after ${docs.length} of ${result.packed} documents`);
        }
        return docs;
      } catch (error) {
        throw toPageError(error, call);
      } finally {
        release();
      }
    },

    /** Fails every read still open with `error` and stops the worker's side of each. */
    end(error: ShelfError): void {
      for (const end of [...enders]) end(error);
    },
  };
}
