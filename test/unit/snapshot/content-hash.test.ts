import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/snapshot/index.ts';

const encoder = new TextEncoder();
async function webCrypto(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

describe('sha256Hex', () => {
  it('equals WebCrypto on padding edges, long texts and any UTF-16 (lone surrogates included)', async () => {
    expect(await sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const n of [55, 56, 57, 63, 64, 65, 119, 120, 128, 5000, 70_000]) {
      const text = 'x'.repeat(n - 1) + 'é';
      expect(await sha256Hex(text), `length ${n}`).toBe(await webCrypto(text));
    }
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ unit: fc.constantFrom('\ud800', '\udc00', 'a', '€', '😀'), maxLength: 200 })), async (text) => {
      expect(await sha256Hex(text)).toBe(await webCrypto(text));
    }), { numRuns: 300 });
  });
});
