import { compactVerify, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { ExternalSigningKey } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { providerSigningKeys } from './signingKeys.ts';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A private JWK as keys.ts stores it (with `kid`, `alg`, `use`) and its public half. */
async function key(alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA') {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true, ...(alg.endsWith('S256') && alg !== 'ES256' ? { modulusLength: 2048 } : {}) });
  const fields = { kid: `k-${alg}`, alg, use: 'sig' };
  return { privateJwk: { ...(await exportJWK(privateKey)), ...fields } as JWK, publicJwk: { ...(await exportJWK(publicKey)), ...fields } };
}

describe('the provider signing keys made for node:crypto', () => {
  it.each(['ES256', 'RS256', 'PS256', 'EdDSA'] as const)('%s: a JWS it signs verifies with the published public key (RFC 7518 §3 signature format)', async (alg) => {
    const { privateJwk, publicJwk } = await key(alg);
    const [signer] = providerSigningKeys({ keys: [privateJwk] }).keys as ExternalSigningKey[];
    // What oidc-provider publishes of it (initialize_keystore.js) is the public JWK, no private member.
    expect({ kty: signer!.kty, kid: signer!.kid, alg: signer!.alg, use: signer!.use, crv: signer!.crv, x: signer!.x, y: signer!.y, n: signer!.n, e: signer!.e }).toEqual({
      crv: undefined, x: undefined, y: undefined, n: undefined, e: undefined,
      ...publicJwk,
    });
    const input = `${encode({ alg, kid: publicJwk.kid })}.${encode({ sub: 'x' })}`;
    const signature = Buffer.from(await signer!.sign(Buffer.from(input))).toString('base64url');
    const { payload } = await compactVerify(`${input}.${signature}`, publicJwk as JWK & { alg: string });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({ sub: 'x' });
  });

  it('passes on a key whose algorithm it does not sign', async () => {
    const other = { kty: 'EC', crv: 'P-384', x: 'x', y: 'y', d: 'd', kid: 'k', alg: 'ES384', use: 'sig' };
    expect(providerSigningKeys({ keys: [other] }).keys).toEqual([other]);
  });
});
