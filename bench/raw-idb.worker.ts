// Baseline for bench/kv: the same work done with raw IndexedDB calls inside a worker, with
// no codeshelf code and no thread hop. Timings are taken inside the worker.
import { expose } from 'comlink';

let db: IDBDatabase;

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error);
  });
}

const api = {
  async open(name: string): Promise<void> {
    db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore('kv');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  },
  async clear(): Promise<void> {
    const tx = db.transaction('kv', 'readwrite');
    tx.objectStore('kv').clear();
    await done(tx);
  },
  /** One transaction, `keys.length` puts. Returns elapsed ms. */
  async batchWrite(keys: string[], values: Uint8Array[]): Promise<number> {
    const t0 = performance.now();
    const tx = db.transaction('kv', 'readwrite');
    const store = tx.objectStore('kv');
    for (let i = 0; i < keys.length; i++) store.put(values[i], keys[i]!);
    await done(tx);
    return performance.now() - t0;
  },
  /** Independent point reads (a transaction each), `inFlight` at a time. Returns elapsed ms. */
  async pointReads(keys: string[], inFlight: number): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < keys.length; i += inFlight) {
      await Promise.all(
        keys.slice(i, i + inFlight).map(
          (key) =>
            new Promise<unknown>((resolve, reject) => {
              const req = db.transaction('kv').objectStore('kv').get(key);
              req.onsuccess = () => resolve(req.result);
              req.onerror = () => reject(req.error);
            }),
        ),
      );
    }
    return performance.now() - t0;
  },
  /** One transaction, one get per key. Returns elapsed ms. */
  async getMany(keys: string[]): Promise<number> {
    const t0 = performance.now();
    const tx = db.transaction('kv');
    const store = tx.objectStore('kv');
    const out = new Array(keys.length);
    keys.forEach((k, i) => {
      store.get(k).onsuccess = function (this: IDBRequest) {
        out[i] = this.result;
      };
    });
    await done(tx);
    return performance.now() - t0;
  },
  /** getAllKeys + getAll of `limit` rows under a prefix. Returns elapsed ms. */
  async scan(prefix: string, limit: number): Promise<number> {
    const t0 = performance.now();
    const tx = db.transaction('kv');
    const store = tx.objectStore('kv');
    const range = IDBKeyRange.bound(prefix, prefix + '\uffff', false, true);
    const k = store.getAllKeys(range, limit);
    const v = store.getAll(range, limit);
    await done(tx);
    if (k.result.length !== v.result.length) throw new Error('scan mismatch');
    return performance.now() - t0;
  },
  close(): void {
    db.close();
  },
};

expose(api);
export type RawIdbApi = typeof api;
