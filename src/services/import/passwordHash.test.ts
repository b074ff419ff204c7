import { pbkdf2Sync } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { DUMMY_HASH, hashFamily, keycloakPbkdf2Phc, verifyPassword } from './passwordHash.ts';

/** Hashes made here by the libraries Keybound verifies with, and by node:crypto as Keycloak makes PBKDF2. */
describe('imported password hashes', () => {
  it('argon2id (PHC, made by @node-rs/argon2)', async () => {
    const phc = await argon2Hash('correct horse', { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(phc.startsWith('$argon2id$v=19$')).toBe(true);
    expect(hashFamily(phc)).toEqual({ family: 'argon2id' });
    expect(await verifyPassword(phc, 'correct horse')).toBe(true);
    expect(await verifyPassword(phc, 'correct horsf')).toBe(false);
  });

  it('bcrypt $2a$, $2b$ and $2y$ (made by bcryptjs)', async () => {
    const b = bcrypt.hashSync('battery staple', 4);
    for (const phc of [b, b.replace('$2b$', '$2a$'), b.replace('$2b$', '$2y$')]) {
      expect(hashFamily(phc)).toEqual({ family: 'bcrypt' });
      expect(await verifyPassword(phc, 'battery staple')).toBe(true);
      expect(await verifyPassword(phc, 'battery stapler')).toBe(false);
    }
  });

  it("Keycloak's pbkdf2-sha256 and pbkdf2-sha512 credentials map to PHC strings that verify", async () => {
    for (const digest of ['sha256', 'sha512'] as const) {
      const salt = Buffer.from('0123456789abcdef');
      const value = pbkdf2Sync('tr0ub4dor', salt, 27500, 64, digest);
      const phc = keycloakPbkdf2Phc({ algorithm: `pbkdf2-${digest}`, iterations: 27500, salt: salt.toString('base64'), hash: value.toString('base64') })!;
      expect(phc).toBe(`$pbkdf2-${digest}$i=27500$${salt.toString('base64').replace(/=+$/, '')}$${value.toString('base64').replace(/=+$/, '')}`);
      expect(await verifyPassword(phc, 'tr0ub4dor')).toBe(true);
      expect(await verifyPassword(phc, 'tr0ub4dor!')).toBe(false);
    }
    expect(keycloakPbkdf2Phc({ algorithm: 'pbkdf2', iterations: 1, salt: 'AA==', hash: 'AA==' })).toBeNull();
  });

  it('refuses what it cannot check, or what would cost too much to check', async () => {
    expect(hashFamily('5f4dcc3b5aa765d61d8327deb882cf99')).toHaveProperty('problem');
    expect(hashFamily('$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')).toEqual({ problem: 'only argon2id (v=19) is accepted, not argon2i or argon2d' });
    expect(hashFamily('$pbkdf2-sha256$i=99999999$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toHaveProperty('problem');
    expect(hashFamily(bcrypt.hashSync('x', 4).replace('$04$', '$31$'))).toHaveProperty('problem');
    expect(await verifyPassword('plain', 'plain')).toBe(false);
    // The stand-in for unknown usernames is a readable hash of the usual cost that nothing matches.
    expect(hashFamily(DUMMY_HASH)).toEqual({ family: 'pbkdf2-sha256' });
    expect(await verifyPassword(DUMMY_HASH, '')).toBe(false);
  });
});
