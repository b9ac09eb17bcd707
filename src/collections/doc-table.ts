import { ShelfError } from '../errors/index.ts';
import type { Doc } from './types.ts';

/**
 * The hash of a document id: 32-bit FNV-1a over its UTF-16 code units. It keys the loaded
 * documents ({@link DocTable}) and a collection file's id index (see collection-file.ts).
 * Equal ids hash equal; different ids rarely do (a block that only seems to hold a changed
 * id is encoded again, which costs time, never a change).
 */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// Slots per live document at most (the table grows past it) and at least after a rebuild.
const MAX_LOAD = 0.5;
const EMPTY = 0;
const DELETED = -1;

/**
 * A collection's loaded documents by id, in insertion order: what the engine used a
 * `Map<string, Doc>` for (`get`, `has`, `set`, `delete`, `size`, iteration in order, an
 * update keeping its place), at a fraction of the cost to build.
 *
 * A load puts 100,000 documents in at once; a `Map` hashes each id string and grows its
 * table step by step, which took 60–80 ms of a 200 ms load in Chromium's profiler. Here
 * documents sit in one array in order, each id's {@link idHash} in a typed array beside it,
 * and an open-addressing table of positions (linear probing, at most half full) finds them:
 * a bulk build hashes each id once into memory that is allocated once, and growing never
 * hashes a string again. A slot is chosen from the id's hash mixed with a random per-table
 * seed, so a run of colliding slots cannot be planned from ids alone; ids whose 32-bit
 * hashes are equal still share a probe run (known limit: FNV-1a collisions can be
 * constructed, and a collection of many such ids gets slower, never wrong).
 *
 * Deleting leaves a hole in the order and a tombstone in the table; once holes are half of
 * the order both are rebuilt without them.
 */
export class DocTable {
  #docs: (Doc | undefined)[];
  #hashes: Uint32Array;
  /** Positions + 1; {@link EMPTY} or {@link DELETED}. */
  #slots: Int32Array;
  #shift: number;
  #seed: number;
  /** Positions used in order (live documents and holes). */
  #length = 0;
  #live = 0;
  /** Slots not EMPTY (live and DELETED). */
  #used = 0;

  constructor(expected = 0) {
    this.#docs = [];
    this.#hashes = new Uint32Array(Math.max(16, expected));
    this.#seed = (Math.random() * 0x1_0000_0000) >>> 0;
    const bits = DocTable.#bitsFor(expected);
    this.#slots = new Int32Array(1 << bits);
    this.#shift = 32 - bits;
  }

  /**
   * A table of `docs` in order; `hashes[i]`, when given, must be `idHash(docs[i]._id)` (a
   * file's id index). Two documents with one id are `CORRUPT`, naming `label`.
   */
  static from(docs: Doc[], hashes: Uint32Array | undefined, label: string): DocTable {
    const table = new DocTable(docs.length);
    table.#docs = docs;
    const own = table.#hashes;
    const slots = table.#slots;
    const mask = slots.length - 1;
    for (let i = 0; i < docs.length; i++) {
      // Given the hashes, a document is read only when another in its probe run has the
      // same hash (they are compared): not reading every document's id here saved a
      // cache miss per document.
      const h = hashes ? hashes[i]! : idHash(docs[i]!._id);
      own[i] = h;
      // #place, checking the probe run for the same id on the way.
      let s = table.#home(h);
      for (let v = slots[s]!; v !== EMPTY; v = slots[s]!) {
        if (own[v - 1] === h && docs[v - 1]!._id === docs[i]!._id) throw new ShelfError('CORRUPT', `${label}: holds the document id ${JSON.stringify(docs[i]!._id)} twice`);
        s = (s + 1) & mask;
      }
      slots[s] = i + 1;
    }
    table.#length = table.#live = table.#used = docs.length;
    return table;
  }

  get size(): number {
    return this.#live;
  }

  /** The document with `id`; as a `Map` would, a key that is not a string finds none. */
  get(id: string): Doc | undefined {
    if (typeof id !== 'string') return undefined;
    const at = this.#find(id, idHash(id));
    return at < 0 ? undefined : this.#docs[at];
  }

  has(id: string): boolean {
    return typeof id === 'string' && this.#find(id, idHash(id)) >= 0;
  }

  /** Puts `doc` under its `_id`: in the place of the document it replaces, else last. */
  set(doc: Doc): void {
    const id = doc._id;
    const h = idHash(id);
    const at = this.#find(id, h);
    if (at >= 0) {
      this.#docs[at] = doc;
      return;
    }
    if ((this.#used + 1) > this.#slots.length * MAX_LOAD) this.#rebuild(this.#live + 1);
    if (this.#length === this.#hashes.length) {
      const grown = new Uint32Array(this.#hashes.length * 2);
      grown.set(this.#hashes);
      this.#hashes = grown;
    }
    const position = this.#length++;
    this.#docs[position] = doc;
    this.#hashes[position] = h;
    this.#place(position, h);
    this.#live++;
    this.#used++;
  }

  /** Removes the document with `id`; whether there was one. */
  delete(id: string): boolean {
    if (typeof id !== 'string') return false;
    const h = idHash(id);
    const mask = this.#slots.length - 1;
    for (let s = this.#home(h); ; s = (s + 1) & mask) {
      const v = this.#slots[s]!;
      if (v === EMPTY) return false;
      if (v !== DELETED && this.#hashes[v - 1] === h && this.#docs[v - 1]!._id === id) {
        this.#slots[s] = DELETED;
        this.#docs[v - 1] = undefined;
        this.#live--;
        if (this.#length >= 64 && this.#live * 2 < this.#length) this.#rebuild(this.#live);
        return true;
      }
    }
  }

  /** The documents in order (a snapshot: later changes do not reach it). */
  toArray(): Doc[] {
    if (this.#live === this.#length) return this.#docs.slice(0, this.#length) as Doc[];
    const out: Doc[] = new Array(this.#live);
    let n = 0;
    for (let i = 0; i < this.#length; i++) {
      const d = this.#docs[i];
      if (d !== undefined) out[n++] = d;
    }
    return out;
  }

  /** {@link toArray}, and the `idHash` of each document's id beside it. */
  snapshot(): { docs: Doc[]; hashes: Uint32Array } {
    const hashes = new Uint32Array(this.#live);
    if (this.#live === this.#length) {
      hashes.set(this.#hashes.subarray(0, this.#length));
      return { docs: this.#docs.slice(0, this.#length) as Doc[], hashes };
    }
    const docs: Doc[] = new Array(this.#live);
    let n = 0;
    for (let i = 0; i < this.#length; i++) {
      const d = this.#docs[i];
      if (d === undefined) continue;
      hashes[n] = this.#hashes[i]!;
      docs[n++] = d;
    }
    return { docs, hashes };
  }

  /** The documents in order, as they are when each is reached (do not change the table meanwhile). */
  *values(): IterableIterator<Doc> {
    const docs = this.#docs;
    const length = this.#length;
    for (let i = 0; i < length; i++) {
      const d = docs[i];
      if (d !== undefined) yield d;
    }
  }

  static #bitsFor(count: number): number {
    let bits = 4;
    while ((1 << bits) * MAX_LOAD < count + 1) bits++;
    return bits;
  }

  #home(h: number): number {
    return Math.imul(h ^ this.#seed, 0x9e3779b1) >>> this.#shift;
  }

  /** The position of `id` (whose hash is `h`), or -1. */
  #find(id: string, h: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let s = this.#home(h); ; s = (s + 1) & mask) {
      const v = slots[s]!;
      if (v === EMPTY) return -1;
      if (v !== DELETED && this.#hashes[v - 1] === h && this.#docs[v - 1]!._id === id) return v - 1;
    }
  }

  /** Puts `position` in the first free slot of its probe run (the id is known to be absent). */
  #place(position: number, h: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let s = this.#home(h);
    while (slots[s] !== EMPTY) s = (s + 1) & mask;
    slots[s] = position + 1;
  }

  /** Drops holes and tombstones, with room for `count` documents. */
  #rebuild(count: number): void {
    if (this.#live !== this.#length) {
      const docs: Doc[] = [];
      const hashes = new Uint32Array(Math.max(16, this.#live * 2));
      for (let i = 0; i < this.#length; i++) {
        const d = this.#docs[i];
        if (d === undefined) continue;
        hashes[docs.length] = this.#hashes[i]!;
        docs.push(d);
      }
      this.#docs = docs;
      this.#hashes = hashes;
      this.#length = docs.length;
    }
    const bits = DocTable.#bitsFor(count * 2);
    this.#slots = new Int32Array(1 << bits);
    this.#shift = 32 - bits;
    for (let i = 0; i < this.#length; i++) this.#place(i, this.#hashes[i]!);
    this.#used = this.#length;
  }
}
