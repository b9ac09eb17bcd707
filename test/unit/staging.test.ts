import { describe, expect, it } from 'vitest';
import { ShelfError } from '../../src/index.ts';
import { Staging } from '../../src/service/staging.ts';

describe('Staging (slices of large writes from the page)', () => {
  it('gives back what was staged under a token in the order it came, once', () => {
    const staging = new Staging();
    staging.add(1, [1, 2]);
    staging.add(2, ['x']);
    staging.add(1, [[3], 4]);
    expect(staging.take(1)).toEqual([1, 2, [3], 4]); // items that are arrays stay whole
    expect(staging.take(2)).toEqual(['x']);
    expect(staging.size).toBe(0);
    expect(() => staging.take(1)).toThrow(ShelfError);
  });

  it('gives back a hole of a sparse slice as undefined in its place', () => {
    const staging = new Staging();
    // eslint-disable-next-line no-sparse-arrays
    staging.add(3, [1, , 3]);
    staging.add(3, [4]);
    const items = staging.take(3);
    expect(items).toHaveLength(4);
    expect(items[1]).toBeUndefined();
    expect(items[3]).toBe(4);
  });

  it('drops a token, and refuses a bad token or items that are not an array', () => {
    const staging = new Staging();
    staging.add(7, [1]);
    staging.drop(7);
    staging.drop(8); // unknown: nothing to do
    expect(staging.size).toBe(0);
    expect(() => staging.take(7)).toThrow(/nothing is staged under token 7/);
    expect(() => staging.add(1.5, [])).toThrow(/token/);
    expect(() => staging.add(1, 'x' as unknown as unknown[])).toThrow(/array/);
  });
});
