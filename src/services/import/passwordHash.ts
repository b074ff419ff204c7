import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as argon2Verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

const pbkdf2Async = promisify(pbkdf2);

/**
 * Old password hashes, kept only to verify the one migration sign-in (README "Importing accounts").
 * Three families are accepted, each as the string its own tools write:
 * - argon2id in the PHC string format (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), verified by
 *   `@node-rs/argon2`;
 * - bcrypt in its modular crypt format (`$2a$`, `$2b$`, `$2y$`), verified by `bcryptjs`;
 * - PBKDF2 with HMAC-SHA-256 or -512 as a PHC string, `$pbkdf2-sha256$i=<iterations>$<salt>$<hash>`
 *   (standard base64, padding optional), verified by node:crypto. Keycloak's `pbkdf2-sha256` and
 *   `pbkdf2-sha512` credentials are mapped to it (keycloak.ts).
 * Anything else is refused at import, so no account arrives with a hash nobody can check.
 */
export type HashFamily = 'argon2id' | 'bcrypt' | 'pbkdf2-sha256' | 'pbkdf2-sha512';

/** Bounds on the work an imported hash may ask for: a hostile file must not make each sign-in cost minutes. */
const MAX_PBKDF2_ITERATIONS = 5_000_000;
const MAX_ARGON2_MEMORY_KIB = 1 << 20;
const MAX_ARGON2_TIME = 20;
const MAX_BCRYPT_COST = 15;
const MAX_PHC = 512;

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PBKDF2 = /^\$pbkdf2-(sha256|sha512)\$i=(\d{1,8})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
const ARGON2ID = /^\$argon2id\$v=19\$m=(\d{1,8}),t=(\d{1,3}),p=(\d{1,3})\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** The family of a stored hash, or why it cannot be used. */
export function hashFamily(phc: string): { family: HashFamily } | { problem: string } {
  // Every stored string has a bound; real PHC strings of these families are under 200 characters.
  if (phc.length > MAX_PHC) return { problem: `longer than ${MAX_PHC} characters` };
  const pb = PBKDF2.exec(phc);
  if (pb) {
    const iterations = Number(pb[2]);
    if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) return { problem: `PBKDF2 iterations ${iterations} outside 1-${MAX_PBKDF2_ITERATIONS}` };
    if (Buffer.from(pb[4]!, 'base64').length < 16) return { problem: 'PBKDF2 hash shorter than 16 bytes' };
    return { family: pb[1] === 'sha256' ? 'pbkdf2-sha256' : 'pbkdf2-sha512' };
  }
  const ar = ARGON2ID.exec(phc);
  if (ar) {
    if (Number(ar[1]) > MAX_ARGON2_MEMORY_KIB || Number(ar[2]) > MAX_ARGON2_TIME) return { problem: 'argon2id parameters above the limits (m ≤ 1 GiB, t ≤ 20)' };
    return { family: 'argon2id' };
  }
  const bc = BCRYPT.exec(phc);
  if (bc) {
    const cost = Number(bc[1]);
    if (cost < 4 || cost > MAX_BCRYPT_COST) return { problem: `bcrypt cost ${cost} outside 4-${MAX_BCRYPT_COST}` };
    return { family: 'bcrypt' };
  }
  if (phc.startsWith('$argon2')) return { problem: 'only argon2id (v=19) is accepted, not argon2i or argon2d' };
  return { problem: 'not a PHC string of argon2id, bcrypt, or pbkdf2-sha256/sha512' };
}

/** Maps Keycloak's PBKDF2 credential (base64 hash and salt, iterations) to the PHC string. */
export function keycloakPbkdf2Phc(input: { algorithm: string; iterations: number; salt: string; hash: string }): string | null {
  const algorithm = input.algorithm.toLowerCase();
  if (algorithm !== 'pbkdf2-sha256' && algorithm !== 'pbkdf2-sha512') return null;
  if (!Number.isInteger(input.iterations) || !B64.test(input.salt) || !B64.test(input.hash)) return null;
  const strip = (s: string) => s.replace(/=+$/, '');
  return `$${algorithm}$i=${input.iterations}$${strip(input.salt)}$${strip(input.hash)}`;
}

/** Whether `password` matches the stored hash; `false` for any hash it cannot read. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  const family = hashFamily(phc);
  if ('problem' in family) return false;
  switch (family.family) {
    case 'argon2id':
      return argon2Verify(phc, password).catch(() => false);
    case 'bcrypt':
      // bcrypt reads at most 72 bytes; the same bytes the old system read.
      return bcrypt.compare(password, phc.replace(/^\$2y\$/, '$2b$')).catch(() => false);
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha512': {
      const [, , params, salt, hash] = phc.split('$') as [string, string, string, string, string];
      const expected = Buffer.from(hash, 'base64');
      const derived = await pbkdf2Async(password, Buffer.from(salt, 'base64'), Number(params.slice(2)), expected.length, family.family === 'pbkdf2-sha256' ? 'sha256' : 'sha512');
      return timingSafeEqual(derived, expected);
    }
  }
}

/**
 * A hash of a password nobody knows, verified when the username is unknown or has no password, so
 * such an answer costs what a real check costs (PBKDF2-SHA-256 at Keycloak's default 27,500
 * iterations, the cost of most imported accounts).
 */
export const DUMMY_HASH = '$pbkdf2-sha256$i=27500$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
