import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isShelfError } from '../../../src/errors/index.ts';
import type { ChunkInput, CommitDiff } from '../../../src/snapshot/index.ts';
import { chunk, openTestStore } from './helpers.ts';

/**
 * The oracle, written from the contract rather than from the implementation: each chunk gets
 * a key — its FQN, or FQN + path when that FQN is defined in more than one file on either
 * side — and the diff is plain set arithmetic on keys, comparing content directly.
 */
function oracle(a: ChunkInput[], b: ChunkInput[]) {
  const count = (list: ChunkInput[], fqn: string) => list.filter((c) => c.fqn === fqn).length;
  const key = (c: ChunkInput) => (count(a, c.fqn) > 1 || count(b, c.fqn) > 1 ? `${c.fqn}\u0000${c.filePath}` : c.fqn);
  const ka = new Map(a.map((c) => [key(c), c]));
  const kb = new Map(b.map((c) => [key(c), c]));
  const added = [...kb].filter(([k]) => !ka.has(k)).map(([, c]) => `${c.fqn}|-|${c.filePath}`);
  const deleted = [...ka].filter(([k]) => !kb.has(k)).map(([, c]) => `${c.fqn}|${c.filePath}|-`);
  const modified = [...kb].filter(([k, c]) => ka.has(k) && ka.get(k)!.content !== c.content)
    .map(([k, c]) => `${c.fqn}|${ka.get(k)!.filePath}|${c.filePath}`);
  const files: Record<string, [number, number, number]> = {};
  const bump = (path: string, i: 0 | 1 | 2) => { (files[path] ??= [0, 0, 0])[i]++; };
  for (const s of added) bump(s.split('|')[2]!, 0);
  for (const s of modified) bump(s.split('|')[2]!, 1);
  for (const s of deleted) bump(s.split('|')[1]!, 2);
  return { added: added.sort(), modified: modified.sort(), deleted: deleted.sort(), files };
}

function flatten(diff: CommitDiff) {
  const line = (c: CommitDiff['added'][number]) => `${c.fqn}|${c.before?.filePath ?? '-'}|${c.after?.filePath ?? '-'}`;
  return {
    added: diff.added.map(line).sort(),
    modified: diff.modified.map(line).sort(),
    deleted: diff.deleted.map(line).sort(),
    files: Object.fromEntries(diff.files.map((f) => [f.path, [f.added, f.modified, f.deleted]])),
  };
}

const chunksArb = fc.uniqueArray(
  fc.record({
    filePath: fc.constantFrom('a.ts', 'b.ts', 'c/d.ts'),
    fqn: fc.constantFrom('f', 'g', 'h', 'k', 'm.n'),
    content: fc.constantFrom('one', 'two', 'three'),
  }),
  { selector: (c) => `${c.filePath}\u0000${c.fqn}`, maxLength: 12 },
).map((list) => list.map((c) => chunk(c.filePath, c.fqn, c.content)));

describe('CodeSnapshotStore.compareCommits', () => {
  it('matches an independent oracle on random snapshots (moves and duplicate FQNs included)', async () => {
    const store = await openTestStore();
    await store.chunks.saveRepository('app');
    let n = 0;
    await fc.assert(fc.asyncProperty(chunksArb, chunksArb, async (a, b) => {
      const [ca, cb] = [`a${n}`, `b${n++}`];
      await store.chunks.createSnapshot('app', ca);
      await store.chunks.createSnapshot('app', cb);
      await store.chunks.saveChunks('app', ca, a);
      await store.chunks.saveChunks('app', cb, b);
      const diff = await store.compareCommits('app', ca, cb);
      expect(flatten(diff)).toEqual(oracle(a, b));
      // Lists are sorted by FQN then path, and the summaries carry hashes, not content.
      const fqns = diff.added.map((c) => c.fqn);
      expect(fqns).toEqual([...fqns].sort());
      for (const m of diff.modified) {
        expect(m.before!.contentHash).not.toBe(m.after!.contentHash);
        expect('content' in m.after!).toBe(false);
      }
    }), { numRuns: 60 });
  });

  it('ignores soft-deleted chunks and reports a worked example', async () => {
    const store = await openTestStore();
    const cs = store.chunks;
    await cs.saveRepository('app');
    await cs.createSnapshot('app', 'c1');
    await cs.createSnapshot('app', 'c2', { parent: 'c1' });
    await cs.saveChunks('app', 'c1', [chunk('a.ts', 'keep', 'k'), chunk('a.ts', 'edit', 'v1'), chunk('a.ts', 'gone'), chunk('a.ts', 'moved', 'm')]);
    await cs.saveChunks('app', 'c2', [chunk('a.ts', 'keep', 'k'), chunk('a.ts', 'edit', 'v2'), chunk('b.ts', 'moved', 'm'),
      chunk('b.ts', 'fresh'), chunk('b.ts', 'ghost')]);
    await cs.softDeleteFileChunks('app', 'c2', 'b.ts');
    await cs.saveChunks('app', 'c2', [chunk('b.ts', 'moved', 'm'), chunk('b.ts', 'fresh')]);
    const diff = await store.compareCommits('app', 'c1', 'c2');
    expect(diff.added.map((c) => c.fqn)).toEqual(['fresh']);
    expect(diff.modified.map((c) => [c.fqn, c.before!.filePath, c.after!.filePath])).toEqual([['edit', 'a.ts', 'a.ts']]);
    expect(diff.deleted.map((c) => c.fqn)).toEqual(['gone']);
    expect(diff.files).toEqual([
      { path: 'a.ts', added: 0, modified: 1, deleted: 1 },
      { path: 'b.ts', added: 1, modified: 0, deleted: 0 },
    ]);
    expect(await store.compareCommits('app', 'c1', 'c1')).toEqual({ added: [], modified: [], deleted: [], files: [] });
  });

  it('is NOT_FOUND for an unknown side, naming it', async () => {
    const store = await openTestStore();
    await store.chunks.saveRepository('app');
    await store.chunks.createSnapshot('app', 'c1');
    const error = await store.compareCommits('app', 'c1', 'zz').catch((e: unknown) => e);
    expect(isShelfError(error, 'NOT_FOUND') && (error as Error).message.startsWith('b:')).toBe(true);
  });
});
