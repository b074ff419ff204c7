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
  it('come 10 to a set, 24 symbols of 5 bits (120 bits) each in six groups of four, all different', () => {
    const set = newRecoveryCodeSet(random);
    expect(set).toHaveLength(RECOVERY_CODES_PER_SET);
    expect(new Set(set).size).toBe(10);
    for (const code of set) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$/);
  });

  it('ASVS 6.5.2: recovery codes carry at least 112 bits', () => {
    // Entropy is what the generator draws and what the code can hold: both at least 112 bits.
    let drawnBits = 0;
    const counting = (n: number) => {
      drawnBits += 8 * n;
      return random(n);
    };
    const [code] = newRecoveryCodeSet(counting);
    expect(drawnBits / RECOVERY_CODES_PER_SET).toBeGreaterThanOrEqual(112);
    const symbols = code!.replace(/-/g, '');
    for (const char of symbols) expect('0123456789ABCDEFGHJKMNPQRSTVWXYZ').toContain(char);
    expect(symbols.length * Math.log2(32)).toBeGreaterThanOrEqual(112);
    // The code shown is exactly what was drawn: different random bytes, different codes.
    const all = (byte: number) => newRecoveryCodeSet((n) => new Uint8Array(n).fill(byte))[0]!.replace(/-/g, '');
    expect(all(0x00)).toBe('0'.repeat(symbols.length));
    expect(all(0xff)).toBe('Z'.repeat(symbols.length));
  });

  it('read back forgivingly: case, spaces, hyphens, I/L/O', () => {
    const [code] = newRecoveryCodeSet(() => new Uint8Array(15).fill(0x84));
    const compact = code!.replace(/-/g, '');
    expect(normaliseRecoveryCode(code!.toLowerCase().replace(/-/g, ' '))).toBe(compact);
    expect(normaliseRecoveryCode(code!.replace(/-/g, ''))).toBe(compact);
    expect(normaliseRecoveryCode('OOOO-LLLL-IIII-0000-ABCD-EFGH')).toBe('0000111111110000ABCDEFGH');
    expect(normaliseRecoveryCode('ABCD-EFGH-JKMN-PQRU-0000-0000')).toBeNull(); // U is not in the alphabet
    expect(normaliseRecoveryCode('ABCD-EFGH')).toBeNull();
    expect(normaliseRecoveryCode('ABCD-EFGH-JKMN-PQRS-0000')).toBeNull(); // 20: neither length
    expect(recoveryCodeHash(compact)).not.toContain(compact);
  });

  it('still reads the 16-symbol (80-bit) codes issued before, until their set is replaced', () => {
    expect(normaliseRecoveryCode('oooo llll iiii 0000')).toBe('0000111111110000');
    expect(normaliseRecoveryCode('ABCD-EFGH-JKMN-PQRU')).toBeNull();
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
