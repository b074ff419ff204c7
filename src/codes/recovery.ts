import { hashSecret, type Random } from '../core/tokens.ts';

/**
 * Saved recovery codes (NIST SP 800-63B-4 §3.1.2, look-up secrets): a set of 10, each with at least
 * 64 bits of entropy from an approved random generator (here 80), shown once, stored hashed, used
 * once, and replaced as a whole set.
 *
 * Codes are 16 characters of Crockford's base32 (5 bits each: 80 bits), shown as four groups of
 * four. The alphabet has no I, L, O or U, so what a person copies by hand is read back forgivingly.
 */
export const RECOVERY_CODES_PER_SET = 10;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 16;

export function newRecoveryCode(random: Random): string {
  const bytes = random(10); // 80 bits, exactly 16 five-bit symbols
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = LENGTH - 1; i >= 0; i--) out += ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  return out.match(/.{4}/g)!.join('-');
}

export function newRecoveryCodeSet(random: Random): string[] {
  return Array.from({ length: RECOVERY_CODES_PER_SET }, () => newRecoveryCode(random));
}

/**
 * Reads a recovery code as typed: case, spaces and hyphens do not matter, and the letters Crockford
 * maps (I and L to 1, O to 0) are accepted. `null` when it cannot be a recovery code.
 */
export function normaliseRecoveryCode(input: string): string | null {
  const compact = input.replace(/[\s\u00a0-]+/g, '').toUpperCase().replace(/[IL]/g, '1').replace(/O/g, '0');
  if (compact.length !== LENGTH) return null;
  for (const char of compact) if (!ALPHABET.includes(char)) return null;
  return compact;
}

/** The stored form. 80 bits of entropy make a plain SHA-256 safe against offline guessing. */
export function recoveryCodeHash(normalised: string): string {
  return hashSecret(`recovery:${normalised}`);
}
