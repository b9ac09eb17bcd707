import { ShelfError } from '../errors/index.ts';
import { ByteLru } from '../cache/index.ts';
import { contentHash } from './content-hash.ts';
import { documentFieldPairs, pairsToMetadata } from './document-fields.ts';
import type { SearchView } from './keyword-search.ts';
import { QueryCache } from './query-cache.ts';
import { decodeBody } from './segment-codec.ts';
import { SegmentBuilder } from './segment-builder.ts';
import { lowerBound } from './sorted-set.ts';
import { segmentKeys } from './segment-storage.ts';
import type { Segment, SegmentBody, SegmentHead } from './segment.ts';
import type { ResolvedOptions } from './search-options.ts';
import type { SearchDocument, StoredDocument } from './types.ts';

/** One immutable segment in the index. @internal */
export interface SegmentEntry {
  readonly id: number;
  /** Null when the stored head could not be read. */
  readonly head: SegmentHead | null;
  /** Deletion mask by local id (1 = deleted). */
  readonly deleted: Uint8Array;
  deletedDocs: number;
  liveTokens: number;
  /** Whether head and body are in storage. */
  saved: boolean;
  /** Set when the stored segment turned out damaged. */
  damage: ShelfError | null;
  /** From the manifest (needed while the head is unreadable). */
  readonly docs: number;
  readonly minDoc: number;
  readonly maxDoc: number;
}

/** Ids of the live (not deleted) documents of `entry`, or null when its head is unreadable. @internal */
export function liveIds(entry: SegmentEntry): string[] | null {
  return entry.head === null ? null : entry.head.ids.filter((_, i) => entry.deleted[i] === 0);
}

/** Where a doc number lives. @internal */
export type DocLocation =
  | { readonly where: 'mutable'; readonly local: number }
  | { readonly where: 'segment'; readonly entry: SegmentEntry; readonly local: number };

/** Builds the entry for a freshly built or decoded segment. @internal */
export function entryFor(head: SegmentHead, saved: boolean): SegmentEntry {
  return {
    id: head.id, head, deleted: new Uint8Array(head.docCount), deletedDocs: 0, liveTokens: head.totalTokens,
    saved, damage: null, docs: head.docCount, minDoc: head.minDoc, maxDoc: head.maxDoc,
  };
}

/** The error a query gets for a damaged segment. @internal */
export function damagedError(entry: SegmentEntry): ShelfError {
  const why = entry.damage?.message ?? 'unreadable';
  return new ShelfError('CORRUPT', `search segment ${entry.id} is damaged (${why}); rebuild it with rebuildSegment(${entry.id}, documents)`, {
    cause: entry.damage ?? undefined,
  });
}

/**
 * The mutable state behind {@link SearchIndex}: immutable segments in doc-number order, the
 * mutable segment (a {@link SegmentBuilder}), the id map, totals, the body LRU and the
 * query cache. The façade validates input and serializes maintenance; this class keeps the
 * invariants (disjoint, ordered doc-number ranges; totals equal to the live documents).
 * @internal
 */
export class IndexState {
  readonly options: ResolvedOptions;
  segments: SegmentEntry[] = [];
  builder = new SegmentBuilder();
  readonly idToDoc = new Map<string, number>();
  liveDocs = 0;
  liveTokens = 0;
  nextDocNum = 0;
  nextSegmentId = 0;
  generation = 0;
  /** Bumped by every change that must be saved. */
  version = 0;
  savedVersion = 0;
  /** Saved segments replaced since the last flush, to delete from storage. */
  obsolete: number[] = [];
  readonly bodies: ByteLru<number, SegmentBody>;
  readonly loading = new Map<number, Promise<SegmentBody>>();
  readonly queryCache: QueryCache<unknown>;
  #snapshot: Segment | null = null;

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.bodies = new ByteLru(options.cacheBytes, { autoEvict: true });
    this.queryCache = new QueryCache({ ttlMs: options.queryCacheTtlMs, maxEntries: options.queryCacheEntries });
  }

  /** Records a change: answers may differ and there is something to save. */
  touch(builderChanged: boolean): void {
    this.version++;
    this.queryCache.clear();
    if (builderChanged) this.#snapshot = null;
  }

  locate(docNum: number): DocLocation | null {
    const local = this.builder.localOf(docNum);
    if (local >= 0) return { where: 'mutable', local };
    const segs = this.segments;
    const entry = segs[lowerBound(segs, docNum, (e) => e.maxDoc)];
    if (entry?.head == null || entry.minDoc > docNum) return null;
    const l = entry.head.localOf(docNum);
    return l < 0 ? null : { where: 'segment', entry, local: l };
  }

  /** Adds a validated document whose id is not in the index. */
  insert(doc: SearchDocument, hash = contentHash(doc.text)): void {
    const docNum = this.nextDocNum++;
    const tokens = this.builder.add({ docNum, id: doc.id, text: doc.text, fields: documentFieldPairs(doc), hash });
    this.idToDoc.set(doc.id, docNum);
    this.liveDocs++;
    this.liveTokens += tokens;
    this.touch(true);
    if (this.builder.liveTokens >= this.options.segmentTokens) this.seal();
  }

  /** Removes a live document by doc number (the id map is the caller's). */
  deleteDoc(docNum: number): void {
    const at = this.locate(docNum);
    if (at === null) throw new ShelfError('INTERNAL', `doc ${docNum} is in the id map but in no segment`);
    if (at.where === 'mutable') {
      const { tokens } = this.builder.documentAt(at.local);
      this.builder.remove(at.local);
      this.liveTokens -= tokens;
      this.touch(true);
      const b = this.builder;
      if (b.deadTokens > Math.max(b.liveTokens, 65_536)) {
        // Mostly rewritten files: re-tokenize the survivors rather than carry the dead.
        const fresh = new SegmentBuilder();
        for (const d of b.liveDocuments()) fresh.add(d);
        this.builder = fresh;
      }
    } else {
      const { entry, local } = at;
      if (entry.deleted[local] === 1) return;
      entry.deleted[local] = 1;
      entry.deletedDocs++;
      const tokens = entry.head!.docLengths[local]!;
      entry.liveTokens -= tokens;
      this.liveTokens -= tokens;
      this.touch(false);
    }
    this.liveDocs--;
  }

  /** Whether `doc` equals the stored document `docNum` (same text hash, length and metadata). */
  isUnchanged(docNum: number, doc: SearchDocument, hash: number): boolean {
    const at = this.locate(docNum);
    if (at === null) return false;
    const pairs = documentFieldPairs(doc);
    let stored: { hash: number; length: number; pairs: readonly string[] };
    if (at.where === 'mutable') {
      const d = this.builder.documentAt(at.local).doc;
      stored = { hash: d.hash, length: d.text.length, pairs: d.fields };
    } else {
      const head = at.entry.head!;
      stored = { hash: head.hashes[at.local]!, length: head.textLengths[at.local]!, pairs: headPairs(head, at.local) };
    }
    return stored.hash === hash && stored.length === doc.text.length &&
      stored.pairs.length === pairs.length && stored.pairs.every((p, i) => p === pairs[i]);
  }

  /** Turns the mutable segment into an immutable one. */
  seal(): void {
    if (this.builder.liveDocs === 0) {
      if (this.builder.docCount > 0) this.builder = new SegmentBuilder();
      this.#snapshot = null;
      return;
    }
    const { head, body } = this.builder.build(this.nextSegmentId++);
    this.segments.push(entryFor(head, false));
    this.bodies.set(head.id, body, body.byteSize, true);
    this.builder = new SegmentBuilder();
    this.#snapshot = null;
    this.version++;
  }

  /** The body of a segment, from the LRU or storage; a damaged one throws `CORRUPT`. */
  loadBody(entry: SegmentEntry): Promise<SegmentBody> {
    if (entry.damage !== null || entry.head === null) return Promise.reject(damagedError(entry));
    const cached = this.bodies.get(entry.id);
    if (cached !== undefined) return Promise.resolve(cached);
    const pending = this.loading.get(entry.id);
    if (pending !== undefined) return pending;
    const storage = this.options.storage;
    if (storage === undefined) return Promise.reject(new ShelfError('INTERNAL', `segment ${entry.id} is neither in memory nor in storage`));
    const key = segmentKeys(entry.id).body;
    const load = (async () => {
      try {
        const bytes = await storage.get(key);
        if (bytes === undefined) throw new ShelfError('CORRUPT', `search segment ${entry.id} body (${key}) is missing`);
        const body = decodeBody(bytes, `search segment ${entry.id} body (${key})`, entry.id, entry.head!.docCount);
        // A merge or rebuild may have replaced the segment while it loaded: its body then
        // serves the caller that asked for it but takes no room in the cache.
        if (this.segments.includes(entry)) this.bodies.set(entry.id, body, body.byteSize);
        return body;
      } catch (error) {
        if (error instanceof ShelfError && (error.code === 'CORRUPT' || error.code === 'UNSUPPORTED_VERSION')) {
          entry.damage = error;
          throw damagedError(entry);
        }
        throw error;
      } finally {
        this.loading.delete(entry.id);
      }
    })();
    this.loading.set(entry.id, load);
    return load;
  }

  /**
   * A consistent view of every segment for one query: loads missing bodies, then, in one
   * synchronous step, copies deletion masks and freezes the mutable segment's current state
   * (sealing it instead when it has grown past `mutableTokens`).
   */
  async views(filterOf: (head: SegmentHead) => Uint32Array | null): Promise<SearchView[]> {
    for (;;) {
      const entries = [...this.segments];
      const bodies = await Promise.all(entries.map((e) => this.loadBody(e)));
      const held = new Map(entries.map((e, i) => [e.id, bodies[i]!]));
      const views: SearchView[] = [];
      let missing = false;
      if (this.builder.liveDocs > 0 && this.builder.liveTokens >= this.options.mutableTokens) this.seal();
      for (const entry of this.segments) {
        if (entry.head === null || entry.damage !== null) throw damagedError(entry);
        const body = held.get(entry.id) ?? this.bodies.get(entry.id);
        if (body === undefined) {
          missing = true;
          break;
        }
        const deleted = entry.deletedDocs > 0 ? entry.deleted.slice() : null;
        views.push({ head: entry.head, body, deleted, filter: filterOf(entry.head) });
      }
      if (missing) continue; // a merge replaced segments while we loaded; try again
      if (this.builder.liveDocs > 0) {
        this.#snapshot ??= this.builder.build(-1);
        const { head, body } = this.#snapshot;
        views.push({ head, body, deleted: null, filter: filterOf(head) });
      }
      return views;
    }
  }

  /** A stored document by doc number. */
  async document(docNum: number): Promise<StoredDocument | undefined> {
    const at = this.locate(docNum);
    if (at === null) return undefined;
    if (at.where === 'mutable') {
      const { doc, tokens } = this.builder.documentAt(at.local);
      return { id: doc.id, text: doc.text, ...pairsToMetadata(doc.fields), tokens };
    }
    const { entry, local } = at;
    const body = await this.loadBody(entry);
    const head = entry.head!;
    return { id: head.ids[local]!, text: body.texts[local]!, ...pairsToMetadata(headPairs(head, local)), tokens: head.docLengths[local]! };
  }
}

/** Field pairs of a document in a head, in the canonical order of {@link documentFieldPairs}. @internal */
export function headPairs(head: SegmentHead, local: number): string[] {
  const meta: { path?: string; language?: string; kind?: string; tags?: string[]; fields?: Record<string, string> } = {};
  const pairs: string[] = [];
  for (const name of head.fields.keys()) for (const v of head.valuesOf(name, local)) pairs.push(name, v);
  Object.assign(meta, pairsToMetadata(pairs));
  return documentFieldPairs({ id: '_', text: '', ...meta });
}
