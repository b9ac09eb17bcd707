import { afterEach, describe, expect, it, vi } from 'vitest';
import { ShelfError } from '../../src/index.ts';
import { sendSliced, type SliceStaging } from '../../src/client/sliced-send.ts';

/** A write whose stage "takes" `msPerItem(item)` of the page's clock per item, recording what happens. */
function fakeWrite(msPerItem: (item: number) => number, commit: (token: number, staged: number[]) => Promise<string> = async (_, staged) => `wrote ${staged.length}`) {
  let clock = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
  const log: string[] = [];
  const sizes: number[] = [];
  const staged = new Map<number, number[]>();
  const write = {
    stage: (token: number, slice: unknown[]) => {
      for (const item of slice as number[]) clock += msPerItem(item);
      sizes.push(slice.length);
      staged.set(token, [...(staged.get(token) ?? []), ...(slice as number[])]);
      log.push('stage');
      return Promise.resolve();
    },
    unstage: (token: number) => {
      log.push(`unstage ${token}`);
      staged.delete(token);
      return Promise.resolve();
    },
    commit: (token: number) => {
      log.push('commit');
      return commit(token, staged.get(token) ?? []);
    },
  };
  return { write, log, sizes, staged };
}

afterEach(() => vi.restoreAllMocks());

describe('sendSliced (large writes from the page)', () => {
  it('sends every item once, in order, in slices that grow at most twofold and stay near 4 ms', async () => {
    // 8,000 cheap items, then 20,000 that each cost 100 times as much.
    const items = Array.from({ length: 28_000 }, (_, i) => i);
    const { write, sizes, staged } = fakeWrite((i) => (i < 8000 ? 0.0001 : 0.01));
    let posted = 0;
    const token = { value: 0 };
    const result = await sendSliced(items, write, (t) => ((token.value = t), write.commit(t)), 'x.write', [items], ['items'], () => false, () => posted++);
    expect(result).toBe('wrote 28000');
    expect(posted).toBe(1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(28_000);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]!).toBeLessThanOrEqual(sizes[i - 1]! * 2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4096);
    // Once the items got expensive, slices came back down to about 4 ms (400 items).
    expect(sizes[sizes.length - 2]).toBeLessThanOrEqual(800);
    expect(staged.get(token.value)).toEqual(items);
  });

  it('drops what it staged when a slice cannot be sent, and sends nothing after it', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => i);
    const { write, log } = fakeWrite(() => 0.001);
    let calls = 0;
    const failing: SliceStaging = {
      ...write,
      stage: (token, slice) => (++calls === 2 ? Promise.reject(Object.assign(new Error('no clone'), { name: 'DataCloneError' })) : write.stage(token, slice)),
    };
    let posted = 0;
    const error = await sendSliced(items, failing, write.commit, 'x.write', [items], ['items'], () => false, () => posted++).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShelfError);
    expect((error as ShelfError).code).toBe('INVALID_ARGUMENT');
    expect(posted).toBe(1);
    expect(log.filter((l) => l === 'stage')).toHaveLength(1); // the second slice failed; no third one went
    expect(log).not.toContain('commit');
    expect(log[log.length - 1]).toMatch(/^unstage \d+$/);
  });

  it('drops what it staged when the write itself cannot be sent', async () => {
    const items = Array.from({ length: 2000 }, (_, i) => i);
    const { write, log, staged } = fakeWrite(() => 0.001, () => Promise.reject(new ShelfError('INVALID_ARGUMENT', 'name cannot be sent')));
    await expect(sendSliced(items, write, write.commit, 'x.write', [items], ['items'], () => false, () => undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(log.slice(-2)).toEqual(['commit', expect.stringMatching(/^unstage \d+$/)]);
    expect(staged.size).toBe(0);
  });
});
