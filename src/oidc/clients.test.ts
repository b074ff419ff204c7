import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64url } from '../core/bytes.ts';
import { newClientId } from './clients.ts';

describe('newClientId', () => {
  it('never starts with "-", which the CLI would read as an option (seen: `workloads rotate-keys -wV8f...`)', () => {
    // 0xf8 >> 2 is 62, the sextet base64url writes as "-".
    const bytes = new Uint8Array(16).fill(7);
    bytes[0] = 0xf8;
    expect(base64url.encode(bytes).startsWith('-')).toBe(true);
    const id = newClientId(() => bytes.slice());
    expect(id.startsWith('-')).toBe(false);
    expect(id).toMatch(/^e[A-Za-z0-9_-]{21}$/);
  });

  it('keeps every other id as the bytes give it, 22 base64url characters', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const id = newClientId(() => bytes.slice());
        expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
        if (bytes[0]! >> 2 !== 62) expect(id).toBe(base64url.encode(bytes));
        else expect(id.slice(1)).toBe(base64url.encode(bytes).slice(1));
      }),
      { numRuns: 2000 },
    );
  });

  it('does not write into the bytes it was given', () => {
    const bytes = new Uint8Array(16);
    bytes[0] = 0xf9;
    newClientId(() => bytes);
    expect(bytes[0]).toBe(0xf9);
  });
});
