import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deliveredCodeHash, deliveredCodeMatches, randomDigits } from './delivered.ts';
import { RECOVERY_CODES_PER_SET, newRecoveryCodeSet, normaliseRecoveryCode, recoveryCodeHash } from './recovery.ts';
import { nextDelayMs, retryAfterSeconds } from './throttle.ts';

const random = (n: number) => new Uint8Array(randomBytes(n));

describe('delivered codes', () => {
  it('are uniformly random digits of the configured length', () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 2000; i++) {
      const code = randomDigits(random, 6);
      expect(code).toMatch(/^[0-9]{6}$/);
      for (const d of code) counts[Number(d)]++;
    }
    // 12,000 digits: each about 1,200; a biased generator (byte % 10) would skew 0-5 by ~2.5%.
    for (const n of counts) expect(n).toBeGreaterThan(1000);
  });

  it('are stored as a hash bound to their attempt', () => {
    const hash = deliveredCodeHash('attempt-a', '123456');
    expect(hash).not.toContain('123456');
    expect(deliveredCodeMatches('attempt-a', '123456', hash)).toBe(true);
    expect(deliveredCodeMatches('attempt-b', '123456', hash)).toBe(false);
    expect(deliveredCodeMatches('attempt-a', '123457', hash)).toBe(false);
  });
});

describe('recovery codes', () => {
  it('come 10 to a set, 16 symbols of 5 bits (80 bits) each, all different', () => {
    const set = newRecoveryCodeSet(random);
    expect(set).toHaveLength(RECOVERY_CODES_PER_SET);
    expect(new Set(set).size).toBe(10);
    for (const code of set) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  });

  it('read back forgivingly: case, spaces, hyphens, I/L/O', () => {
    const [code] = newRecoveryCodeSet(() => new Uint8Array(10).fill(0x84));
    const compact = code!.replace(/-/g, '');
    expect(normaliseRecoveryCode(code!.toLowerCase().replace(/-/g, ' '))).toBe(compact);
    expect(normaliseRecoveryCode('OOOO-LLLL-IIII-0000')).toBe('0000111111110000');
    expect(normaliseRecoveryCode('ABCD-EFGH-JKMN-PQRU')).toBeNull(); // U is not in the alphabet
    expect(normaliseRecoveryCode('ABCD-EFGH')).toBeNull();
    expect(recoveryCodeHash(compact)).not.toContain(compact);
  });
});

describe('failure delays', () => {
  const policy = { free: 3, baseMs: 1000, maxMs: 8000 };
  it('let the free attempts through, then double up to the cap', () => {
    const delays: number[] = [];
    let delay = 0;
    for (let failures = 1; failures <= 9; failures++) delays.push((delay = nextDelayMs(delay, failures, policy)));
    expect(delays).toEqual([0, 0, 0, 1000, 2000, 4000, 8000, 8000, 8000]);
    expect(retryAfterSeconds(10_001, 9_000)).toBe(2);
    expect(retryAfterSeconds(9_000, 9_000)).toBe(1);
  });
});
