/**
 * Issue 3, required test 3: client credentials with `private_key_jwt` (RFC 7523) and DPoP
 * (RFC 9449) through openid-client against `keybound serve`; a replayed client assertion and a DPoP
 * proof for another URL are refused; the resource helper accepts the token with its proof.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/resource/index.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { discover } from '../helpers/oidc.ts';

const RESOURCE = 'https://api.example.test/';
const API_URL = 'https://api.example.test/reports';

describe('a service signs in with private_key_jwt and gets DPoP-bound tokens', () => {
  let server: ServerProcess;
  let clientId: string;
  let clientKey: CryptoKey;
  let issuer: string;
  let tokenEndpoint: string;

  beforeAll(async () => {
    server = await startServer({ env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } });
    issuer = `${server.baseUrl}/oidc`;
    tokenEndpoint = `${issuer}/token`;
    const pair = await generateKeyPair('ES256', { extractable: true });
    clientKey = pair.privateKey;
    const file = join(mkdtempSync(join(tmpdir(), 'keybound-jwks-')), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), alg: 'ES256', use: 'sig' }] }));
    const created = await server.cliJson<{ client_id: string; token_endpoint_auth_method: string; grant_types: string[]; shared_secret: boolean }>(
      ['clients', 'create', '--name', 'Reporting service', '--jwks', file, '--grant-types', 'client_credentials', '--resource', RESOURCE, '--scope', 'read', '--json'],
    );
    expect(created).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], shared_secret: false });
    clientId = created.client_id;
  });

  afterAll(async () => server?.stop());

  /** A client assertion as RFC 7523 §3 describes it. */
  const assertion = (jti = randomUUID()) =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(clientId).setSubject(clientId).setAudience(issuer).setJti(jti).setIssuedAt().setExpirationTime('60s').sign(clientKey);
  const tokenRequest = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) });
  const ccBody = async () => ({
    grant_type: 'client_credentials',
    resource: RESOURCE,
    scope: 'read',
    client_id: clientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await assertion(),
  });

  it('gets a DPoP-bound JWT access token through openid-client, which the resource helper accepts with a proof', async () => {
    const config = await discover(server, clientId, client.PrivateKeyJwt(clientKey), { token_endpoint_auth_method: 'private_key_jwt' });
    const dpopKeys = await client.randomDPoPKeyPair('ES256');
    const tokens = await client.clientCredentialsGrant(config, { resource: RESOURCE, scope: 'read' }, { DPoP: client.getDPoPHandle(config, dpopKeys) });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const claims = decodeJwt(tokens.access_token);
    const jwk = await exportJWK(dpopKeys.publicKey);
    expect(claims).toMatchObject({ aud: RESOURCE, client_id: clientId, sub: clientId, scope: 'read', cnf: { jkt: await calculateJwkThumbprint(jwk) } });
    expect(claims.acr).toBeUndefined(); // no person signed in

    const verifier = createVerifier({ issuer, audience: RESOURCE });
    const proof = await new SignJWT({ htm: 'GET', htu: API_URL, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ath: await sha256(tokens.access_token) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: jwk as JWK })
      .sign(dpopKeys.privateKey);
    const request = { method: 'GET', url: API_URL, authorization: `DPoP ${tokens.access_token}`, dpop: proof };
    const ok = await verifier.verify(request, { scopes: ['read'] });
    expect(ok.ok && ok.token.client_id).toBe(clientId);
    const replayed = await verifier.verify(request, { scopes: ['read'] });
    expect(replayed.ok ? null : replayed.error).toBe('invalid_dpop_proof');
  });

  it('refuses a replayed client assertion (its jti is used once)', async () => {
    const body = await ccBody();
    const first = await tokenRequest(body);
    expect(first.status, await first.clone().text()).toBe(200);
    const again = await tokenRequest(body);
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('accepts exactly one of many concurrent requests carrying the same client assertion', async () => {
    const body = await ccBody();
    const statuses = (await Promise.all(Array.from({ length: 8 }, () => tokenRequest(body)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(7);
  });

  it('refuses a DPoP proof made for another URL, and a replayed DPoP proof', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const proof = (htu: string) =>
      new SignJWT({ htm: 'POST', htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(privateKey);

    const elsewhere = await tokenRequest(await ccBody(), { dpop: await proof(`${server.baseUrl}/oidc/elsewhere`) });
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.json()).toMatchObject({ error: 'invalid_dpop_proof' });

    const good = await proof(tokenEndpoint);
    const first = await tokenRequest(await ccBody(), { dpop: good });
    expect(first.status, await first.clone().text()).toBe(200);
    expect((await first.json()).token_type).toBe('DPoP');
    // oidc-provider reports a replayed proof at the token endpoint as invalid_grant.
    const replay = await tokenRequest(await ccBody(), { dpop: good });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    // The same request with a fresh proof is fine: it was the proof's jti that was refused.
    expect((await tokenRequest(await ccBody(), { dpop: await proof(tokenEndpoint) })).status).toBe(200);
  });

  it('refuses client credentials to a client that is not registered for them, and shared secrets by default', async () => {
    const unknown = await tokenRequest({ grant_type: 'client_credentials', client_id: 'nobody' });
    expect(unknown.status).toBeGreaterThanOrEqual(400);
    expect(await unknown.json()).toMatchObject({ error: 'invalid_client' });
    const basic = await tokenRequest({ grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${clientId}:secret`).toString('base64')}` });
    expect(basic.status).toBe(401);
    expect(await basic.json()).toMatchObject({ error: 'invalid_client' });
    const secret = await server.cli(['clients', 'create', '--name', 'Legacy', '--grant-types', 'client_credentials']);
    expect(secret.code).toBe(1);
    expect(secret.stderr).toContain('KEYBOUND_OIDC_ALLOW_SHARED_SECRETS');
  });
});

async function sha256(value: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(value).digest('base64url');
}
