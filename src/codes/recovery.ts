import { hashSecret, type Random } from '../core/tokens.ts';

/**
 * Saved recovery codes (NIST SP 800-63B-4 §3.1.2, look-up secrets): a set of 10, each with at least
 * 112 bits of entropy from an approved random generator (here 120), shown once, stored hashed, used
 * once, and replaced as a whole set.
 *
 * Codes are 24 characters of Crockford's base32 (5 bits each: 120 bits), shown as six groups of
 * four. The alphabet has no I, L, O or U, so what a person copies by hand is read back forgivingly.
 * OWASP ASVS 5.0 6.5.2 asks for 112 bits, or else a salted password hash: with 112 bits and more an
 * offline search of the stored hashes is hopeless, so a fast unsalted hash is enough.
 */
export const RECOVERY_CODES_PER_SET = 10;
export const RECOVERY_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const RECOVERY_CODE_LENGTH = 24;
/**
 * Codes issued before the length grew (16 characters, 80 bits) keep working until their set is
 * replaced: a set is only ever replaced as a whole, by its holder.
 */
const LEGACY_LENGTH = 16;

export function newRecoveryCode(random: Random): string {
  const bytes = random(15); // 120 bits, exactly 24 five-bit symbols
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = RECOVERY_CODE_LENGTH - 1; i >= 0; i--) out += RECOVERY_CODE_ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
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
  if (compact.length !== RECOVERY_CODE_LENGTH && compact.length !== LEGACY_LENGTH) return null;
  for (const char of compact) if (!RECOVERY_CODE_ALPHABET.includes(char)) return null;
  return compact;
}

/**
 * The stored form. 120 bits of entropy make a plain SHA-256 safe against offline guessing (OWASP
 * ASVS 5.0 6.5.2: at least 112 bits, or a salted password hash for weaker ones).
 */
export function recoveryCodeHash(normalised: string): string {
  return hashSecret(`recovery:${normalised}`);
}
