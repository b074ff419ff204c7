import { hashSecret, secretMatches, type Random } from '../core/tokens.ts';

/**
 * Codes Keybound sends (SMS, email). NIST SP 800-63B-4 §3.1.3: at least six decimal digits, valid
 * for at most ten minutes, single use; each is bound to the sign-in attempt that asked for it.
 */

/** A uniformly random string of decimal digits (rejection sampling: no modulo bias). */
export function randomDigits(random: Random, digits: number): string {
  let out = '';
  while (out.length < digits) {
    for (const byte of random(digits * 2)) {
      // 250 = 25 * 10: bytes 250..255 would favour 0..5.
      if (byte < 250 && out.length < digits) out += String(byte % 10);
    }
  }
  return out;
}

/**
 * The stored form of a delivered code: SHA-256 of the attempt's secret id and the code. The attempt
 * id itself is stored only as a hash, so a copy of the database cannot enumerate the million codes
 * offline: it lacks the 128-bit half of the input.
 */
export function deliveredCodeHash(attemptId: string, code: string): string {
  return hashSecret(`${attemptId}:${code}`);
}

/** Constant-time check of a presented code against the attempt's stored hash. */
export function deliveredCodeMatches(attemptId: string, code: string, storedHash: string): boolean {
  return secretMatches(`${attemptId}:${code}`, storedHash);
}
