import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileChunkInput } from '../../../src/snapshot/index.ts';
import { openTestStore } from './helpers.ts';

/**
 * Snapshots share the file versions of the files they did not change; a write through one
 * snapshot must never show through another. Random writes to random snapshots are checked
 * against a model in which every snapshot owns a private copy of its files.
 */

const PATHS = ['a.ts', 'b.ts', 'c/d.ts'];
const FQNS = ['x', 'y', 'z'];

type ModelChunk = { content: string; deleted: boolean };
type Model = Map<string, Map<string, Map<string, ModelChunk>>>; // snapshot → path → fqn → chunk

type Op =
  | { kind: 'replace'; snap: number; path: string; chunks: [string, string][] | null }
  | { kind: 'save'; snap: number; path: string; fqn: string; content: string }
  | { kind: 'softDelete'; snap: number; path: string }
  | { kind: 'branch'; snap: number; changed: [string, [string, string][] | null][] };

const contentArb = fc.constantFrom('v1', 'v2', 'v3');
const fileArb = fc.option(fc.uniqueArray(fc.tuple(fc.constantFrom(...FQNS), contentArb), { selector: ([f]) => f, maxLength: 3 }), { nil: null });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), snap: fc.nat(9), path: fc.constantFrom(...PATHS), chunks: fileArb }),
  fc.record({ kind: fc.constant('save' as const), snap: fc.nat(9), path: fc.constantFrom(...PATHS), fqn: fc.constantFrom(...FQNS), content: contentArb }),
  fc.record({ kind: fc.constant('softDelete' as const), snap: fc.nat(9), path: fc.constantFrom(...PATHS) }),
  fc.record({ kind: fc.constant('branch' as const), snap: fc.nat(9), changed: fc.uniqueArray(fc.tuple(fc.constantFrom(...PATHS), fileArb), { selector: ([p]) => p, maxLength: 2 }) }),
);

const chunkOf = (fqn: string, content: string): FileChunkInput =>
  ({ fqn, kind: 'function', language: 'ts', startLine: 1, endLine: 1, content: `${fqn} ${content}` });

describe('snapshots sharing file versions', () => {
  it('a write through one snapshot never shows through another, and a chunk keeps its id in its snapshot', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
      const store = await openTestStore();
      const cs = store.chunks;
      await cs.saveRepository('app');
      await cs.createSnapshot('app', 's0');
      const commits = ['s0'];
      const model: Model = new Map([['s0', new Map()]]);
      const ids = new Map<string, number>(); // snapshot/path/fqn → first id seen

      const writeModel = (files: Map<string, Map<string, ModelChunk>>, path: string, chunks: [string, string][] | null) => {
        const file = files.get(path);
        if (chunks === null) {
          for (const c of file?.values() ?? []) c.deleted = true;
          return;
        }
        const next = file ?? new Map<string, ModelChunk>();
        for (const c of next.values()) c.deleted = true;
        for (const [fqn, content] of chunks) next.set(fqn, { content: `${fqn} ${content}`, deleted: false });
        files.set(path, next);
      };

      for (const op of ops) {
        const commit = commits[op.snap % commits.length]!;
        const files = model.get(commit)!;
        if (op.kind === 'replace') {
          await store.replaceFile('app', commit, commit, op.path, op.chunks && op.chunks.map(([f, c]) => chunkOf(f, c)));
          writeModel(files, op.path, op.chunks);
        } else if (op.kind === 'save') {
          await cs.saveChunk('app', commit, { ...chunkOf(op.fqn, op.content), filePath: op.path });
          if (!files.has(op.path)) files.set(op.path, new Map());
          files.get(op.path)!.set(op.fqn, { content: `${op.fqn} ${op.content}`, deleted: false });
        } else if (op.kind === 'softDelete') {
          await cs.softDeleteFileChunks('app', commit, op.path);
          for (const c of files.get(op.path)?.values() ?? []) c.deleted = true;
        } else {
          const next = `s${commits.length}`;
          const changed = new Map(op.changed);
          const stats = await store.createIncrementalSnapshot('app', commit, next, [...changed.keys()], (path) => {
            const chunks = changed.get(path);
            return chunks ? { chunks: chunks.map(([f, c]) => chunkOf(f, c)) } : null;
          });
          const carried = [...files].filter(([path]) => !changed.has(path));
          expect(stats.filesSkipped).toBe(carried.length);
          expect(stats.chunksCopied).toBe(carried.reduce((n, [, file]) => n + [...file.values()].filter((c) => !c.deleted).length, 0));
          // The model copies every file; a changed one starts afresh (null: gone).
          const copy = new Map<string, Map<string, ModelChunk>>();
          for (const [path, file] of files) {
            if (changed.has(path)) continue;
            copy.set(path, new Map([...file].map(([fqn, c]) => [fqn, { ...c }])));
          }
          for (const [path, chunks] of changed) if (chunks) writeModel(copy, path, chunks);
          model.set(next, copy);
          commits.push(next);
        }

        for (const c of commits) {
          const got = await cs.getChunks('app', c, { includeDeleted: true });
          const want = [...model.get(c)!].flatMap(([path, file]) => [...file].map(([fqn, m]) => [path, fqn, m.content, m.deleted]));
          const key = (r: unknown[]) => `${r[0]}#${r[1]}`;
          expect(got.map((g) => [g.filePath, g.fqn, g.content, g.isDeleted]).sort((p, q) => key(p).localeCompare(key(q))))
            .toEqual(want.sort((p, q) => key(p).localeCompare(key(q))));
          for (const g of got) {
            const k = `${c}/${g.filePath}/${g.fqn}`;
            if (!ids.has(k)) ids.set(k, g.id);
            expect(g.id, k).toBe(ids.get(k));
            expect(await cs.getChunk(g.id, { includeDeleted: true })).toEqual(g);
          }
        }
      }
    }), { numRuns: 60 });
  });
});
