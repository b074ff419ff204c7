/**
 * Issue 3, required test 4: the resource-server helper (`keybound/resource`). Tokens are made here
 * with jose the way Keybound signs them (ES256, `typ: at+jwt`, RFC 9068 claims), verified against a
 * local JWKS; the clock is pinned. DPoP proofs are real signatures over the request.
 */
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { challengeHeader, createVerifier, type Verification } from '../../src/resource/index.ts';

const ISSUER = 'https://id.example.test/oidc';
const AUDIENCE = 'https://api.example.test/';
const URL_ = 'https://api.example.test/transfers';
const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const S = Math.floor(NOW / 1000);

let signingKey: CryptoKey;
let publicJwk: JWK;
let otherKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  otherKey = (await generateKeyPair('ES256')).privateKey;
});

const verifier = (now = NOW) => createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: createLocalJWKSet({ keys: [publicJwk] }), now: () => now });

async function token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: CryptoKey = signingKey): Promise<string> {
  const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'acc-1', iat: S - 10, exp: S + 290, jti: randomUUID(), client_id: 'app', scope: 'read', acr: 'urn:keybound:aal2:phr', amr: ['pop', 'hwk', 'mfa'], auth_time: S - 60, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', ...header }).sign(key);
}

const bearer = (t: string, method = 'POST') => ({ method, url: URL_, authorization: `Bearer ${t}` });
const refused = (r: Verification) => (r.ok ? null : { status: r.status, error: r.error, header: r.wwwAuthenticate });

describe('RFC 9470 step-up challenge', () => {
  it('answers an AAL2 token on an AAL3 route with 401 and the exact challenge', async () => {
    const r = await verifier().verify(bearer(await token()), { acr: 'urn:keybound:aal3', maxAgeS: 300 });
    expect(refused(r)).toEqual({
      status: 401,
      error: 'insufficient_user_authentication',
      header: 'Bearer error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="urn:keybound:aal3", max_age="300"',
    });
  });

  it('answers a sign-in older than max_age with the challenge naming max_age', async () => {
    const r = await verifier().verify(bearer(await token({ auth_time: S - 301 })), { maxAgeS: 300 });
    expect(refused(r)).toEqual({
      status: 401,
      error: 'insufficient_user_authentication',
      header: 'Bearer error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="300"',
    });
  });

  it('accepts a token whose level meets or beats the requirement, within max_age', async () => {
    const aal3 = await verifier().verify(bearer(await token({ acr: 'urn:keybound:aal3', auth_time: S - 299 })), { acr: 'urn:keybound:aal3', maxAgeS: 300 });
    expect(aal3.ok && aal3.token.acr).toBe('urn:keybound:aal3');
    const weaker = await verifier().verify(bearer(await token({ acr: 'urn:keybound:aal3' })), { acr: 'urn:keybound:aal2' });
    expect(weaker.ok).toBe(true);
  });

  it('treats a token without acr or auth_time (client credentials) as insufficient for a user requirement', async () => {
    const r = await verifier().verify(bearer(await token({ acr: undefined, amr: undefined, auth_time: undefined })), { acr: 'urn:keybound:aal1' });
    expect(refused(r)?.error).toBe('insufficient_user_authentication');
  });

  it('says insufficient_scope with 403 for a missing scope', async () => {
    const r = await verifier().verify(bearer(await token()), { scopes: ['write'] });
    expect(refused(r)).toMatchObject({ status: 403, error: 'insufficient_scope', header: expect.stringContaining('scope="write"') });
  });

  it('formats challenges per RFC 6750 §3 when no token was sent', async () => {
    const r = await verifier().verify({ method: 'GET', url: URL_ });
    expect(refused(r)).toEqual({ status: 401, error: null, header: 'Bearer' });
    expect(challengeHeader({ scheme: 'DPoP', error: 'invalid_dpop_proof', algs: ['ES256'] })).toBe('DPoP error="invalid_dpop_proof", algs="ES256"');
  });
});

describe('bad tokens are invalid_token', () => {
  const cases: [string, () => Promise<string>][] = [
    ['expired (beyond the 5 s clock tolerance)', () => token({ exp: S - 6 })],
    ['for another audience', () => token({ aud: 'https://other.example.test/' })],
    ['from another issuer', () => token({ iss: 'https://evil.example.test/oidc' })],
    ['signed by another key', () => token({}, {}, otherKey)],
    ['an ID token (typ JWT)', () => token({}, { typ: 'JWT' })],
    ['without client_id', () => token({ client_id: undefined })],
    [
      'alg none',
      async () => {
        const [, body] = (await token()).split('.');
        return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${body}.`;
      },
    ],
    [
      'tampered (acr raised after signing)',
      async () => {
        const [head, body, sig] = (await token()).split('.');
        const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
        return `${head}.${Buffer.from(JSON.stringify({ ...claims, acr: 'urn:keybound:aal3' })).toString('base64url')}.${sig}`;
      },
    ],
    ['garbage', async () => 'not.a.jwt'],
  ];
  for (const [name, make] of cases) {
    it(`refuses a token ${name}`, async () => {
      const r = await verifier().verify(bearer(await make()));
      expect(refused(r)).toMatchObject({ status: 401, error: 'invalid_token', header: expect.stringMatching(/^Bearer error="invalid_token", error_description="[^"]+"$/) });
    });
  }

  it('refuses a malformed Authorization header with invalid_request (400)', async () => {
    const r = await verifier().verify({ method: 'GET', url: URL_, authorization: 'Basic abc' });
    expect(refused(r)).toMatchObject({ status: 400, error: 'invalid_request' });
  });
});

describe('DPoP-bound tokens (RFC 9449 §7)', () => {
  let dpopKey: CryptoKey;
  let dpopJwk: JWK;
  let jkt: string;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    dpopKey = pair.privateKey;
    dpopJwk = await exportJWK(pair.publicKey);
    jkt = await calculateJwkThumbprint(dpopJwk);
  });

  async function proof(accessToken: string, fields: Record<string, unknown> = {}, key = dpopKey): Promise<string> {
    return new SignJWT({ htm: 'POST', htu: URL_, iat: S, jti: randomUUID(), ath: createHash('sha256').update(accessToken).digest('base64url'), ...fields })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: dpopJwk })
      .sign(key);
  }
  const dpop = (t: string, p: string, method = 'POST', url = URL_) => ({ method, url, authorization: `DPoP ${t}`, dpop: p });

  it('accepts a good proof once, and refuses its replay', async () => {
    const v = verifier();
    const t = await token({ cnf: { jkt } });
    const p = await proof(t);
    expect((await v.verify(dpop(t, p))).ok).toBe(true);
    expect(refused(await v.verify(dpop(t, p)))).toMatchObject({ status: 401, error: 'invalid_dpop_proof', header: expect.stringContaining('jti was already used') });
  });

  it.each([
    ['htm', { htm: 'GET' }, /htm/],
    ['htu (another URL)', { htu: 'https://api.example.test/other' }, /htu/],
    ['iat (too old)', { iat: S - 600 }, /iat/],
    ['ath (another token)', { ath: 'x'.repeat(43) }, /ath/],
  ])('refuses a proof with the wrong %s', async (_name, fields, pattern) => {
    const t = await token({ cnf: { jkt } });
    const r = await verifier().verify(dpop(t, await proof(t, fields)));
    expect(refused(r)).toMatchObject({ status: 401, error: 'invalid_dpop_proof' });
    expect(r.ok ? '' : r.description).toMatch(pattern);
    expect(r.ok ? '' : r.wwwAuthenticate).toMatch(/^DPoP error="invalid_dpop_proof", .*algs="/);
  });

  it('ignores the query string when comparing htu (§4.3)', async () => {
    const t = await token({ cnf: { jkt } });
    expect((await verifier().verify(dpop(t, await proof(t), 'POST', `${URL_}?page=2`))).ok).toBe(true);
  });

  it('refuses a proof signed by another key than the token is bound to', async () => {
    const t = await token({ cnf: { jkt: 'x'.repeat(43) } });
    expect(refused(await verifier().verify(dpop(t, await proof(t))))?.error).toBe('invalid_dpop_proof');
  });

  it('refuses a bound token sent as Bearer, and an unbound token sent as DPoP', async () => {
    const bound = await token({ cnf: { jkt } });
    expect(refused(await verifier().verify(bearer(bound)))?.error).toBe('invalid_token');
    const unbound = await token();
    expect(refused(await verifier().verify(dpop(unbound, await proof(unbound))))?.error).toBe('invalid_token');
  });

  it('refuses a bound token without a proof', async () => {
    const t = await token({ cnf: { jkt } });
    expect(refused(await verifier().verify({ method: 'POST', url: URL_, authorization: `DPoP ${t}` }))?.error).toBe('invalid_dpop_proof');
  });
});
