import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { columnBuffers, encodeColumn, fromColumns, columnsFormat, hasKeyValue, holdsObjects, keyStringHashes, keyValues, setColumnCodeGeneration, toColumns, type Column } from '../../src/codec/columns.ts';
import { idHash } from '../../src/collections/doc-table.ts';
import { CollectionEngine, decodeCollectionBytes, encodeCollectionFile, MemoryBlobStore, ShelfError } from '../../src/index.ts';
import { decodeDocBatch } from '../../src/collections/packed-batch.ts';
import { makeAnalysisDocs } from '../../bench/analysis-docs.ts';

// The frame codec packs columns with this Packr; the round trip below goes through it too.
const packr = new Packr({ useRecords: true, moreTypes: true });
const roundTrip = (docs: Record<string, unknown>[]) => fromColumns(packr.unpack(packr.pack(toColumns(docs))), docs.length);
// What format 1 gave back (msgpackr records of the documents): the columns must match it.
const viaMsgpack = (docs: unknown) => packr.unpack(packr.pack(docs));

afterEach(() => setColumnCodeGeneration(true));

describe('columns', () => {
  it('picks a typed column per field of the analysis documents and round-trips them', () => {
    const docs = makeAnalysisDocs(1000);
    const c = toColumns(docs) as Extract<Column, { t: 'o' }>;
    expect(c.t).toBe('o');
    expect(c.keys).toHaveLength(1);
    const kinds = Object.fromEntries(c.keys[0]!.map((k, j) => [k, c.cols[0]![j]!.t]));
    expect(kinds).toEqual({
      _id: 's', path: 's', language: 'd', kind: 'd', name: 's', fqn: 's', startLine: 'i', endLine: 'i',
      signature: 's', references: 'a', complexity: 'i', exported: 'b', tags: 'a',
    });
    expect(roundTrip(docs)).toEqual(docs);
  });

  it('keeps the exact values: -0, NaN, big and fractional numbers, empty and nested arrays, undefined, holes', () => {
    const docs = [
      { _id: 'a', n: -0, f: NaN, big: 2 ** 40, frac: 0.1, e: [], nest: [[1, 2], [], [3]], u: undefined, h: [1, , 3] },
      { _id: 'b', n: 5, f: Infinity, big: -(2 ** 53), frac: -7.25, e: [], nest: [[4]], u: undefined, h: [] },
    ] as Record<string, unknown>[];
    const back = roundTrip(docs);
    // MessagePack itself turns -0 into 0; the number column keeps it.
    expect(back).toEqual(docs.map((d) => ({ ...d, h: Array.from(d.h as unknown[]) })));
    expect(Object.is(back[0]!.n, -0)).toBe(true);
    expect(back[0]!.f).toBeNaN();
    expect('u' in back[0]!).toBe(true);
  });

  it('keeps shapes apart and the order of documents and keys', () => {
    const docs = [{ _id: '1', a: 1, b: 'x' }, { b: 'y', _id: '2', a: 2 }, { _id: '3', a: 3, b: 'z' }, { _id: '4' }, { _id: '5', 10: 'ten', 2: 'two' }];
    const back = roundTrip(docs);
    expect(back).toEqual(docs);
    expect(back.map((d) => Object.keys(d))).toEqual(docs.map((d) => Object.keys(d)));
  });

  it('splits mixed values by kind (a union column); class instances, typed arrays and Maps stay MessagePack', () => {
    const docs = [
      { _id: 'a', mixed: 1, when: new Date(5), bytes: new Uint8Array([1, 2]), map: new Map([[1, 2]]) },
      { _id: 'b', mixed: 'one', when: new Date(6), bytes: new Uint8Array([3]), map: new Map() },
    ];
    const c = toColumns(docs) as Extract<Column, { t: 'o' }>;
    expect(c.cols[0]!.slice(1).map((col) => col.t)).toEqual(['u', 'm', 'm', 'm']);
    const union = c.cols[0]![1] as Extract<Column, { t: 'u' }>;
    expect(union.parts.map((p) => p.t)).toEqual(['s', 'i']);
    expect([...union.kinds]).toEqual([1, 0]);
    expect(roundTrip(docs)).toEqual(viaMsgpack(docs));
    expect(columnsFormat(c)).toBe(4);
  });

  it('columnBuffers lists every typed array behind the columns, and refuses columns holding objects of the documents', () => {
    // Every typed array in the column tree, found by walking it generically.
    const typed = (v: unknown, out: ArrayBufferLike[] = []): ArrayBufferLike[] => {
      if (ArrayBuffer.isView(v)) out.push(v.buffer);
      else if (Array.isArray(v)) v.forEach((x) => typed(x, out));
      else if (v && typeof v === 'object') Object.values(v).forEach((x) => typed(x, out));
      return out;
    };
    const docs = [...makeAnalysisDocs(300), { _id: 'x', mixed: 'one', nested: { a: [1.5, 'b'] } }, { _id: 'y', mixed: 2, gone: null }];
    const c = toColumns(docs);
    const buffers = columnBuffers(c)!;
    expect(buffers).toBeDefined();
    const all = new Set(typed(c));
    expect(all.size).toBe(buffers.size);
    for (const b of all) expect(buffers.has(b)).toBe(true);
    expect(buffers.size).toBeGreaterThan(20);
    // The same documents with a typed array, a Date or a Map of their own: not transferable.
    for (const own of [new Uint8Array([1]), new Date(1), new Map()]) {
      expect(columnBuffers(toColumns([...docs, { _id: 'z', own }]))).toBeUndefined();
    }
  });

  it('property: values of mixed kinds come back exactly, lone surrogates, __proto__ keys, -0 and nulls included', () => {
    const unit = fc.constantFrom('a', '\ud800', '\udc00', '😀', 'é', '\uFEFF');
    const leaf = fc.oneof(fc.string({ unit, maxLength: 6 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(-0));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('k', '__proto__', 'x'), tie('v'), { maxKeys: 2 })),
    })).v;
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 25 }), (values) => {
        // Own __proto__ keys, as JSON.parse makes them (a literal would set the prototype).
        const own = (v: unknown): unknown => {
          if (Array.isArray(v)) return v.map(own);
          if (v === null || typeof v !== 'object') return v;
          const o: Record<string, unknown> = {};
          for (const [k, x] of Object.entries(v)) Object.defineProperty(o, k, { value: own(x), enumerable: true, writable: true, configurable: true });
          return o;
        };
        const docs = values.map((v, i) => ({ _id: `d${i}`, v: own(v) }));
        const back = roundTrip(docs);
        expect(back).toStrictEqual(docs); // Object.is on leaves: -0 stays -0
      }),
      { numRuns: 1000 },
    );
  });

  it('property: strings with lone surrogates (text cut inside a pair) come back exactly, as UTF-16 columns', () => {
    const c = toColumns([{ _id: 'a', s: 'ok\uD800' }, { _id: 'b', s: 'fine' }]) as Extract<Column, { t: 'o' }>;
    expect(c.cols[0]!.map((col) => col.t)).toEqual(['s', 'w']);
    expect(columnsFormat(c)).toBe(3);
    expect(columnsFormat(toColumns([{ _id: 'a', s: 'ok' }]))).toBe(2);
    expect(columnsFormat(toColumns([JSON.parse('{"_id":"a","nested":{"__proto__":1}}') as Record<string, unknown>]))).toBe(3);
    const unit = fc.constantFrom('a', '\ud800', '\udc00', '\ud83d', '\ude00', '😀', 'é', '\n');
    fc.assert(
      fc.property(fc.array(fc.record({ s: fc.string({ unit, maxLength: 20 }), tags: fc.array(fc.string({ unit, maxLength: 4 }), { maxLength: 3 }) }), { minLength: 1, maxLength: 30 }), (rows) => {
        const docs = rows.map((r, i) => ({ _id: `d${i}`, ...r, kind: i % 2 ? '\udc00' : 'x' }));
        expect(roundTrip(docs)).toEqual(docs);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: string columns of any well-formed text, ASCII or not anywhere in it, come back the same', () => {
    // U+FEFF too: a decoder that drops a leading byte-order mark would lose it.
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', '\n', 'é', 'ß', '€', '中', '😀', '𝄞', '\uFEFF'), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 30 }), (strings) => {
        const docs = strings.map((s, i) => ({ _id: `${s}#${i}`, s }));
        const column = encodeColumn(strings);
        expect(['s', 'd']).toContain(column.t);
        expect(roundTrip(docs)).toEqual(docs);
      }),
      { numRuns: 2000 },
    );
  });

  it('dictionary-codes repetitive strings and keeps unique ones plain', () => {
    expect(encodeColumn(Array.from({ length: 100 }, (_, i) => ['x', 'y', 'z'][i % 3])).t).toBe('d');
    expect(encodeColumn(Array.from({ length: 100 }, (_, i) => `u${i}`)).t).toBe('s');
    const runs = Array.from({ length: 70_000 }, (_, i) => `v${Math.floor(i / 100)}`);
    const d = encodeColumn(runs) as Extract<Column, { t: 'd' }>;
    expect(d.t).toBe('d');
    expect(d.codes).toBeInstanceOf(Uint16Array);
    const docs = runs.map((v, i) => ({ _id: String(i), v }));
    expect(roundTrip(docs)).toEqual(docs);
  });

  it('judges a dictionary on the first 16 strings when they all differ, else on the first 64', () => {
    // 16 distinct first: decided there, though all after them repeat one value.
    const sixteen = Array.from({ length: 1000 }, (_, i) => (i < 16 ? `k${i}` : 'same'));
    expect(encodeColumn(sixteen).t).toBe('s');
    // 15 distinct of the first 16: judged on 64, which hold 16 distinct.
    const fifteen = Array.from({ length: 1000 }, (_, i) => (i < 16 ? `k${i % 15}` : 'same'));
    expect(encodeColumn(fifteen).t).toBe('d');
    // Few distinct in the first 16 but many after: the first 64 say no.
    const mixed = Array.from({ length: 1000 }, (_, i) => (i < 16 ? `k${i % 2}` : `u${i}`));
    expect(encodeColumn(mixed).t).toBe('s');
    // 32 values in random order (13 or more distinct in the first 16 in most columns like it)
    // still make a dictionary, as they did when every column was judged on 64.
    let seed = 2;
    const random = () => Math.floor(((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 32);
    const languages = Array.from({ length: 1000 }, () => `lang${random()}`);
    expect(new Set(languages.slice(0, 16)).size).toBeGreaterThanOrEqual(13);
    expect(encodeColumn(languages).t).toBe('d');
    for (const values of [sixteen, fifteen, mixed, languages]) {
      const docs = values.map((v, i) => ({ _id: String(i), v }));
      expect(roundTrip(docs)).toEqual(docs);
    }
  });

  it('keeps an own __proto__ key as a key: never the prototype, never polluting', () => {
    const doc = JSON.parse('{"_id":"p","__proto__":{"polluted":true},"n":1}') as Record<string, unknown>;
    expect(toColumns([doc]).t).toBe('o');
    const [back] = roundTrip([doc]);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back!)).toEqual(['_id', '__proto__', 'n']);
    expect(JSON.stringify(back)).toBe(JSON.stringify(doc));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A crafted block naming __proto__ builds an own property too.
    const crafted = fromColumns({ t: 'o', keys: [['__proto__']], rows: null, cols: [[{ t: 'm', v: [{ polluted: true }] }]] }, 1);
    expect(Object.getPrototypeOf(crafted[0])).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('builds the same objects without generated code (CSP fallback)', () => {
    const docs = makeAnalysisDocs(300);
    setColumnCodeGeneration(false);
    expect(roundTrip(docs)).toEqual(docs);
  });

  it('property: any JSON documents come back the same; scalars as MessagePack would give them', () => {
    const doc = fc.record({ _id: fc.string({ minLength: 1 }) }).chain((base) =>
      fc.dictionary(fc.constantFrom('a', 'b', 'c', 'n', 's', 'x', 'y'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }).map((rest) => ({ ...rest, ...base })),
    );
    fc.assert(
      fc.property(fc.array(doc, { maxLength: 40 }), (docs) => {
        // JSON text as the oracle: same values, same key order (it prints -0 as 0).
        expect(JSON.stringify(roundTrip(docs))).toBe(JSON.stringify(docs));
      }),
      { numRuns: 300 },
    );
    // -0 is left out here: MessagePack turns it into 0 and the columns keep it (tested above).
    fc.assert(
      fc.property(fc.array(fc.record({ _id: fc.string(), v: fc.oneof(fc.integer(), fc.double().filter((x) => !Object.is(x, -0)), fc.boolean(), fc.string({ unit: 'binary' })) }), { maxLength: 30 }), (docs) => {
        expect(roundTrip(docs)).toEqual(viaMsgpack(docs));
      }),
      { numRuns: 300 },
    );
  }, 30_000);

  it('property: keyValues reads one key of every object, in order, as rebuilding them would', () => {
    // Shapes vary (keys missing, reordered), and some rows are not objects of one shape at all.
    const doc = fc.dictionary(fc.constantFrom('_id', 'a', 'b', 'n'), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.nat(9), { maxLength: 2 })), { maxKeys: 4 });
    fc.assert(
      fc.property(fc.array(doc, { maxLength: 40 }), fc.constantFrom('_id', 'a', 'n', 'missing'), (docs, key) => {
        const columns = packr.unpack(packr.pack(toColumns(docs)));
        const rebuilt = fromColumns(columns, docs.length);
        expect(keyValues(columns, docs.length, key)).toEqual(rebuilt.map((d) => (Object.hasOwn(d, key) ? d[key] : undefined)));
      }),
      { numRuns: 300 },
    );
    expect(() => keyValues({ t: 'o', keys: [['_id']], rows: null, cols: [[{ t: 'i', v: new Int8Array(2) }]] }, 3, '_id')).toThrow();
  });

  it('property: hasKeyValue says whether any object holds one of the values under the key, substrings and all', () => {
    // Ids drawn from a small alphabet so that one is often inside another ("ab" in "cabd").
    const id = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '😀', '\uFEFF'), minLength: 1, maxLength: 4 });
    const doc = fc.record({ _id: id, n: fc.nat(3) }, { requiredKeys: ['n'] });
    fc.assert(
      fc.property(fc.array(doc, { maxLength: 30 }), fc.uniqueArray(id, { maxLength: 80 }), (docs, wanted) => {
        const columns = packr.unpack(packr.pack(toColumns(docs)));
        const values = new Set(wanted);
        expect(hasKeyValue(columns, docs.length, '_id', values)).toBe(docs.some((d) => d._id !== undefined && values.has(d._id)));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects malformed columns with an error instead of wrong documents', () => {
    const good = () => packr.unpack(packr.pack(toColumns([{ _id: 'a', n: 1, s: 'xy', t: ['p', 'q'] }, { _id: 'b', n: 2, s: 'z', t: [] }]))) as Extract<Column, { t: 'o' }>;
    const breakers: ((c: Extract<Column, { t: 'o' }>) => void)[] = [
      (c) => ((c.cols[0]![1] as { t: string }).t = 'q'),
      (c) => (c.cols[0]!.length = 2),
      (c) => ((c.cols[0]![2] as Extract<Column, { t: 's' }>).len[0] = 9),
      (c) => ((c.cols[0]![2] as Extract<Column, { t: 's' }>).text = new Uint8Array([0xff, 0xfe, 0x41])),
      (c) => ((c.cols[0]![3] as Extract<Column, { t: 'a' }>).counts[1] = 3),
      (c) => ((c.keys[0]![0] as unknown) = 5),
      (c) => (c.keys[0]![1] = c.keys[0]![0]!), // the same key twice
      (c) => (c.rows = new Uint8Array([0, 1])),
    ];
    for (const breakIt of breakers) {
      const c = good();
      breakIt(c);
      expect(() => fromColumns(c, 2)).toThrow();
    }
    expect(() => fromColumns(good(), 3)).toThrow(/expected 3/);
    expect(() => fromColumns({ t: 'm', v: 'nope' }, 1)).toThrow();
  });
});

describe('collection file formats', () => {
  it('still reads a format-1 file (msgpackr record blocks) written before column blocks', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('./fixtures/collection-format1.csc', import.meta.url)));
    const expected = JSON.parse(readFileSync(new URL('./fixtures/collection-format1.json', import.meta.url), 'utf8')) as unknown[];
    expect(await decodeCollectionBytes(bytes, 'legacy')).toEqual(expected);
  });

  it('streams packed batches from a format-1 file, a format-2 file and memory, all decoding to the documents', async () => {
    const legacy = new Uint8Array(readFileSync(new URL('./fixtures/collection-format1.csc', import.meta.url)));
    const expected = JSON.parse(readFileSync(new URL('./fixtures/collection-format1.json', import.meta.url), 'utf8')) as unknown[];
    const storage = new MemoryBlobStore();
    await storage.write('legacy.3.csc', legacy);
    const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    const streamed = async () => {
      const docs: unknown[] = [];
      for await (const bytes of engine.packedBatches('legacy')) docs.push(...decodeDocBatch(bytes, 'test'));
      return docs;
    };
    expect(await streamed()).toEqual(expected); // format 1, unloaded: re-packed
    await engine.update('legacy', 'doc-0', { line: 99 });
    const changed = expected.map((d, i) => (i === 0 ? { ...(d as object), line: 99 } : d));
    expect(await streamed()).toEqual(changed); // loaded
    await engine.close(); // saves format 2
    const again = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    const docs: unknown[] = [];
    for await (const bytes of again.packedBatches('legacy')) docs.push(...decodeDocBatch(bytes, 'test'));
    expect(docs).toEqual(changed); // format 2, unloaded: the blocks' own bytes
    expect(again.state('legacy')).toBe('unloaded');
    expect(() => decodeDocBatch(new Uint8Array([0xc1]), 'junk')).toThrowError(/junk/);
    await again.close();
  });

  it('writes format 3 only when a block needs it (here a UTF-16 column), and reads both back exactly', async () => {
    const header = async (bytes: Uint8Array) => (await import('../../src/codec/index.ts')).decodeFrame<{ format: number }>(bytes.subarray(0, 24 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true)), { kind: 'COLH', name: 't' }).format;
    const plain = Array.from({ length: 1500 }, (_, i) => ({ _id: `p${i}`, text: `line ${i} 😀` }));
    const cut = plain.map((d, i) => (i === 1200 ? { ...d, text: '😀'.slice(0, 1) } : d)); // half a pair, in the second block
    const plainFile = await encodeCollectionFile('u', plain, 1);
    const cutFile = await encodeCollectionFile('u', cut, 1);
    expect(await header(plainFile)).toBe(2);
    expect(await header(cutFile)).toBe(3);
    expect(await decodeCollectionBytes(plainFile, 'u')).toEqual(plain);
    const back = await decodeCollectionBytes(cutFile, 'u');
    expect(back).toEqual(cut);
    expect(back[1200]!.text).toBe('\ud83d');
    // Streams to the page carry the same columns.
    const storage = new MemoryBlobStore();
    await storage.write('u.1.csc', cutFile);
    const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    const streamed: unknown[] = [];
    for await (const bytes of engine.packedBatches('u')) streamed.push(...decodeDocBatch(bytes, 'test'));
    expect(streamed).toEqual(cut);
    await engine.close();
    // A field of mixed kinds in one block (a string that is sometimes null) makes format 4.
    const mixed = plain.map((d, i) => (i === 1400 ? { ...d, text: null } : d));
    const mixedFile = await encodeCollectionFile('u', mixed, 1);
    expect(await header(mixedFile)).toBe(4);
    expect(await decodeCollectionBytes(mixedFile, 'u')).toEqual(mixed);
    // A reader of an older format would refuse it as UNSUPPORTED_VERSION; so does this one for 5.
    const future = (await import('../../src/codec/index.ts')).encodeFrame({ format: 5, name: 'u', count: 0, blocks: 0, generation: 1, savedAt: 0 }, { kind: 'COLH', compress: false });
    await expect(decodeCollectionBytes(future, 'u')).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
  });

  it('a stream keeps its file: a collection dropped and created again mid-stream writes a new generation', async () => {
    const storage = new MemoryBlobStore();
    const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 10 });
    await engine.create('c');
    const first = Array.from({ length: 50 }, (_, i) => ({ _id: `a${i}` }));
    await engine.insertMany('c', first);
    await engine.save('c');
    const stream = engine.packedBatches('c'); // clean and loaded: streams its file
    const seen: unknown[] = [...decodeDocBatch((await stream.next()).value!, 'test')];
    await engine.drop('c');
    await engine.create('c');
    const second = [{ _id: 'b0' }, { _id: 'b1' }];
    await engine.insertMany('c', second);
    await engine.save('c');
    for await (const bytes of stream) seen.push(...decodeDocBatch(bytes, 'test'));
    expect(seen).toEqual(first); // the old file, whole
    await engine.close();
    const again = await CollectionEngine.open({ storage, saveIntervalMs: 0 });
    expect(await again.findAll('c')).toEqual(second); // the new one survived the stream's end
    await again.close();
  });

  it('a loaded collection streams its file while little changed since the last load or save, with the changes applied', async () => {
    const storage = new MemoryBlobStore();
    const engine = await CollectionEngine.open({ storage, saveIntervalMs: 0, blockDocs: 100 });
    await engine.create('c');
    const docs = Array.from({ length: 450 }, (_, i) => ({ _id: `d${i}`, n: i }));
    await engine.insertMany('c', docs);
    let reads = 0;
    const read = storage.read.bind(storage);
    storage.read = (...args) => (reads++, read(...args));
    const streamed = async () => {
      const out: unknown[] = [];
      for await (const bytes of engine.packedBatches('c')) out.push(...decodeDocBatch(bytes, 'test'));
      return out;
    };
    expect(await streamed()).toEqual(docs); // never saved: from memory
    expect(reads).toBe(0);
    await engine.save('c');
    expect(engine.state('c')).toBe('loaded');
    expect(await streamed()).toEqual(docs); // clean: from the file
    expect(reads).toBeGreaterThan(0);
    await engine.update('c', 'd7', { n: -7 });
    await engine.delete('c', 'd8');
    await engine.insert('c', { _id: 'new', n: 1000 });
    const changed = [...docs.slice(0, 7), { _id: 'd7', n: -7 }, ...docs.slice(9), { _id: 'new', n: 1000 }];
    reads = 0;
    expect(await streamed()).toEqual(changed); // a few changes: the file, patched
    expect(reads).toBeGreaterThan(0);
    for (let i = 100; i < 250; i++) {
      await engine.update('c', `d${i}`, { n: -i });
      (changed.find((d) => d._id === `d${i}`) as { n: number }).n = -i;
    }
    reads = 0;
    expect(await streamed()).toEqual(changed); // over a quarter changed: from memory
    expect(reads).toBe(0);
    await engine.save('c');
    expect(await streamed()).toEqual(changed); // clean again: the new file
    expect(reads).toBeGreaterThan(0);
    await engine.close();
  });

  it('writes format 2 that round-trips and names the collection when a block is malformed', async () => {
    const docs = makeAnalysisDocs(2500);
    const bytes = await encodeCollectionFile('fresh', docs, 1);
    expect(await decodeCollectionBytes(bytes, 'fresh')).toEqual(docs);
    const { encodeFrame } = await import('../../src/codec/index.ts');
    const head = encodeFrame({ format: 2, name: 'bad', count: 1, blocks: 1, generation: 1, savedAt: 0 }, { kind: 'COLH', compress: false });
    const block = encodeFrame({ count: 1, columns: { t: 'o', keys: [['_id']], rows: null, cols: [[{ t: 'i', v: new Int8Array([1, 2]) }]] } }, { kind: 'COLB' });
    const file = new Uint8Array(head.length + block.length);
    file.set(head);
    file.set(block, head.length);
    const error = await decodeCollectionBytes(file, 'bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('CORRUPT');
    expect((error as ShelfError).message).toMatch(/"bad".*block 0/);
  });
});

describe('keyStringHashes', () => {
  it('property: equals idHash of each decoded value, for any strings (ASCII, two-, three- and four-byte UTF-8)', () => {
    const str = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ maxLength: 20 }), fc.constantFrom('', 'é', '€uro', '😀x', 'a😀😀'));
    fc.assert(fc.property(fc.array(str, { minLength: 1, maxLength: 60 }), (ids) => {
      const unique = [...new Set(ids)];
      const objects = unique.map((id, i) => ({ _id: id, n: i }));
      const column = toColumns(objects);
      const hashes = keyStringHashes(column, objects.length, '_id');
      // Distinct ids are a plain string column (never a dictionary); one shape is one group.
      expect(hashes).toBeDefined();
      expect(Array.from(hashes!)).toEqual(unique.map(idHash));
    }), { numRuns: 300 });
  });

  it('is undefined where it cannot read the hashes from bytes: several shapes, a UTF-16 column, lengths that disagree', () => {
    expect(keyStringHashes(toColumns([{ _id: 'a', x: 1 }, { _id: 'b' }]), 2, '_id')).toBeUndefined();
    expect(keyStringHashes(toColumns([{ _id: 'a\ud800' }, { _id: 'b' }]), 2, '_id')).toBeUndefined();
    expect(keyStringHashes(toColumns([{ _id: 'a' }, { _id: 'b' }]), 2, 'missing')).toBeUndefined();
    const column = toColumns([{ _id: 'abc' }, { _id: 'de' }]) as { cols: { len: Uint8Array }[][] };
    column.cols[0]![0]!.len[0] = 4;
    expect(keyStringHashes(column, 2, '_id')).toBeUndefined();
  });
});

describe('holdsObjects', () => {
  const unpacked = (docs: Record<string, unknown>[]) => packr.unpack(packr.pack(toColumns(docs)));
  it('is false for documents of strings, numbers, booleans, nulls, arrays and nested objects of those', () => {
    expect(holdsObjects(unpacked(makeAnalysisDocs(50)))).toBe(false);
    expect(holdsObjects(unpacked([{ a: null, b: [1, 'x', null], c: { d: true, e: undefined } }, { a: 'y', b: [], c: { d: false } }]))).toBe(false);
  });

  it('is true where a document keeps an object that came out of MessagePack (bytes, a Map, a date), however deep', () => {
    for (const value of [new Uint8Array([1, 2]), new Map([[1, 2]]), new Date(0), new Float64Array(2)]) {
      expect(holdsObjects(unpacked([{ _id: 'a', v: value }, { _id: 'b', v: 1 }]))).toBe(true);
      expect(holdsObjects(unpacked([{ _id: 'a', deep: { list: [value] } }]))).toBe(true);
    }
    expect(holdsObjects(null)).toBe(true);
    expect(holdsObjects({ t: 'zz' })).toBe(true);
  });
});
