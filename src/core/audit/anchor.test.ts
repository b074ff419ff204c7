import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditAnchorKey, hmacSha256 } from './anchor.ts';

describe('hmacSha256', () => {
  it('gives the bytes createHmac gives, for keys up to the block and any message, call after call', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.array(fc.string({ unit: 'binary', maxLength: 300 }), { minLength: 1, maxLength: 4 }), (key, messages) => {
        const mac = hmacSha256(key);
        for (const message of messages) expect(mac(message)).toBe(createHmac('sha256', key).update(message).digest('base64url'));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a key longer than the block rather than computing something else', () => {
    expect(() => hmacSha256(randomBytes(65))).toThrow(/longer than the block/);
  });
});

describe('auditAnchorKey', () => {
  it('signs under the first key, checks under any configured one, and tells events from the head', () => {
    const old = { id: 'k0', key: new Uint8Array(32).fill(1) };
    const current = { id: 'k1', key: new Uint8Array(32).fill(2) };
    const before = auditAnchorKey([old]);
    const now = auditAnchorKey([current, old]);
    const signed = now.signEvent(7, 'hash-7');
    expect(signed).toMatch(/^k1\.[A-Za-z0-9_-]{43}$/);
    expect(now.check('event', 7, 'hash-7', signed)).toBe('valid');
    expect(now.check('event', 7, 'hash-7', before.signEvent(7, 'hash-7'))).toBe('valid');
    expect(now.check('event', 8, 'hash-7', signed)).toBe('invalid');
    expect(now.check('event', 7, 'hash-8', signed)).toBe('invalid');
    expect(now.check('head', 7, 'hash-7', signed)).toBe('invalid');
    expect(now.check('head', 7, 'hash-7', now.signHead(7, 'hash-7'))).toBe('valid');
    expect(before.check('event', 7, 'hash-7', signed)).toBe('unknown_key');
  });
});
