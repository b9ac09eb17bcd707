import { describe, expect, it } from 'vitest';
import { isShelfError, SHELF_ERROR_CODES, ShelfError } from '../../src/index.ts';
import { toShelfError } from '../../src/errors/index.ts';

describe('ShelfError', () => {
  it('carries code, message and cause', () => {
    const cause = new Error('root');
    const e = new ShelfError('NOT_FOUND', 'no such thing', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ShelfError');
    expect(e.code).toBe('NOT_FOUND');
    expect(e.cause).toBe(cause);
    expect(isShelfError(e, 'NOT_FOUND')).toBe(true);
    expect(isShelfError(e, 'CORRUPT')).toBe(false);
    expect(SHELF_ERROR_CODES).toContain('TXN_CONFLICT');
  });

  it('maps DOMException names to codes', () => {
    const cases: [string, string][] = [
      ['QuotaExceededError', 'QUOTA_EXCEEDED'],
      ['AbortError', 'ABORTED'],
      ['DataError', 'INVALID_ARGUMENT'],
      ['InvalidStateError', 'CLOSED'],
      ['VersionError', 'UNSUPPORTED_VERSION'],
      ['SomethingElse', 'INTERNAL'],
    ];
    for (const [name, code] of cases) {
      const dom = new DOMException('boom', name);
      const e = toShelfError(dom, 'ctx');
      expect(e.code).toBe(code);
      expect(e.cause).toBe(dom);
      expect(e.message).toMatch(/^ctx/);
    }
    const same = new ShelfError('CORRUPT', 'x');
    expect(toShelfError(same, 'ctx')).toBe(same);
  });
});
