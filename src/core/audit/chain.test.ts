import { describe, expect, it } from 'vitest';
import { chainHash, verifyChain } from './chain.ts';

/**
 * Stored chains must verify after any change to how the hash is computed: these values were made
 * with `createHash('sha256').update(prev).update('\n').update(canonical)`, the computation of every
 * trail written before the one-shot `hash` replaced it.
 */
describe('chainHash', () => {
  const fields = { seq: 7, at: 1795953600000, type: 'sign_in', outcome: 'success', reason: null, accountId: 'acct-1', ip: '192.0.2.1', userAgent: 'Mozilla/5.0 (é)', details: JSON.stringify({ method: 'passkey', note: 'ünïcode ✓' }) };

  it('is the SHA-256 of the previous hash, a newline and the canonical event, as always (non-ASCII included)', () => {
    expect(chainHash('prevHashValue', fields)).toBe('w9OwCkwhGxmGJbeJLatoCpOJbBsOEGfOFCmdKHrzV9s');
    expect(chainHash('', fields)).toBe('k5zI_AH-stVJJIvWhxBbnAezlHG_OJQ6Li9v05K0MlM');
  });

  it('breaks at the first event whose fields changed', () => {
    const first = { ...fields, seq: 1, prevHash: '', hash: chainHash('', { ...fields, seq: 1 }) };
    const second = { ...fields, seq: 2, prevHash: first.hash, hash: chainHash(first.hash, { ...fields, seq: 2 }) };
    expect(verifyChain([first, second])).toEqual({ ok: true, checked: 2 });
    expect(verifyChain([first, { ...second, ip: '192.0.2.2' }])).toEqual({ ok: false, checked: 1, brokenAt: 2 });
  });
});
