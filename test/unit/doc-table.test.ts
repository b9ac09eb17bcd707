import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DocTable, idHash } from '../../src/collections/doc-table.ts';
import { CollectionEngine, MemoryBlobStore, ShelfError, type Doc } from '../../src/index.ts';

const doc = (id: string, v = 0): Doc => ({ _id: id, v });

type Op = { op: 'set'; id: string; v: number } | { op: 'delete'; id: string } | { op: 'get'; id: string };

describe('DocTable', () => {
  // Ids whose 32-bit FNV-1a hashes are equal: they share a probe run in every table.
  const twins = ['k4uzx', 'kf2ad', 'k4uzy', 'kf2ae'];

  it('the twins collide (the test below depends on it)', () => {
    expect(idHash(twins[0]!)).toBe(idHash(twins[1]!));
    expect(idHash(twins[2]!)).toBe(idHash(twins[3]!));
  });

  it('property: behaves as a Map of id → document, in insertion order, through any sets, deletes and rebuilds', () => {
    // Few distinct ids, so sets replace, deletes hit and holes pile up past the rebuild point.
    const id = fc.oneof(fc.integer({ min: 0, max: 150 }).map((i) => `id-${i}`), fc.constantFrom(...twins), fc.constantFrom('', 'é', '😀', '\ud800'));
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), id, v: fc.integer() }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), id }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('get' as const), id }) },
    );
    fc.assert(fc.property(fc.array(id, { maxLength: 120 }), fc.array(op, { maxLength: 600 }), (initial, ops) => {
      const unique = [...new Set(initial)];
      const docs = unique.map((i) => doc(i));
      const model = new Map(docs.map((d) => [d._id, d]));
      const table = DocTable.from(docs.slice(), undefined, 'test');
      for (const o of ops) {
        if (o.op === 'set') {
          const d = doc(o.id, o.v);
          model.set(o.id, d);
          table.set(d);
        } else if (o.op === 'delete') {
          expect(table.delete(o.id)).toBe(model.delete(o.id));
        } else {
          expect(table.get(o.id)).toBe(model.get(o.id));
          expect(table.has(o.id)).toBe(model.has(o.id));
        }
        expect(table.size).toBe(model.size);
      }
      expect(table.toArray()).toEqual([...model.values()]);
      expect([...table.values()]).toEqual([...model.values()]);
      for (const i of [...model.keys(), 'absent', ...twins]) expect(table.get(i)).toBe(model.get(i));
    }), { numRuns: 300 });
  });

  it('takes a file’s id index for the hashes, and reports an id held twice as CORRUPT naming the file', () => {
    const docs = Array.from({ length: 5000 }, (_, i) => doc(`src/file-${i % 97}.ts#sym${i}`, i));
    const table = DocTable.from(docs.slice(), Uint32Array.from(docs, (d) => idHash(d._id)), 'c');
    expect(table.size).toBe(5000);
    for (const d of docs) expect(table.get(d._id)).toBe(d);
    const twice = [...docs.slice(0, 10), doc(docs[3]!._id, -1)];
    const error = (() => {
      try {
        DocTable.from(twice, undefined, 'collection "a" (a.7.csc)');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('CORRUPT');
    expect((error as ShelfError).message).toContain('collection "a" (a.7.csc)');
    expect((error as ShelfError).message).toContain(docs[3]!._id);
  });

  it('grows from empty to many and shrinks back, finding every document on the way', () => {
    const table = new DocTable();
    const n = 20_000;
    for (let i = 0; i < n; i++) table.set(doc(`d${i}`, i));
    expect(table.size).toBe(n);
    for (let i = 0; i < n; i += 3) expect(table.delete(`d${i}`)).toBe(true);
    for (let i = 0; i < n; i++) expect(table.get(`d${i}`)?.v).toBe(i % 3 === 0 ? undefined : i);
    for (let i = 0; i < n; i++) table.delete(`d${i}`);
    expect(table.size).toBe(0);
    expect(table.toArray()).toEqual([]);
    table.set(doc('again', 1));
    expect(table.toArray()).toEqual([doc('again', 1)]);
  });
});

describe('ids that are not strings', () => {
  it('the table finds nothing under them, as a Map would', () => {
    const table = DocTable.from([doc('a')], undefined, 't');
    for (const bad of [undefined, null, 1, {}] as unknown as string[]) {
      expect(table.get(bad)).toBeUndefined();
      expect(table.has(bad)).toBe(false);
      expect(table.delete(bad)).toBe(false);
    }
    expect(table.size).toBe(1);
  });

  it('the engine refuses them as INVALID_ARGUMENT naming the id', async () => {
    const engine = await CollectionEngine.open({ storage: new MemoryBlobStore(), saveIntervalMs: 0 });
    await engine.create('c');
    await engine.insert('c', { _id: 'x', n: 1 });
    const bad = undefined as unknown as string;
    for (const call of [() => engine.get('c', bad), () => engine.delete('c', bad), () => engine.update('c', bad, { n: 2 }), () => engine.replace('c', bad, { n: 2 })]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ShelfError);
      expect((error as ShelfError).code).toBe('INVALID_ARGUMENT');
      expect((error as ShelfError).message).toMatch(/^id must be a string/);
    }
    expect(await engine.get('c', 'x')).toEqual({ _id: 'x', n: 1 });
    await engine.close();
  });
});
