/**
 * OWASP ASVS 5.0 16.3.1 (and 16.3.2 at the provider): OAuth client authentication, successful or
 * not, goes to the audit trail with client id, method, outcome and reason, and failures are logged
 * at warn; neither ever holds the assertion or the secret. A client revoking another client's token
 * is audited as a refused authorization. In-process, on SQLite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { MockInstance } from 'vitest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient } from '../../src/oidc/clients.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS, type Backend } from '../helpers/db.ts';

const RESOURCE = 'https://api.example.test/';
type Warn = MockInstance<(fields: Record<string, unknown>, message: string) => void>;

describe.each(BACKENDS)('OAuth client authentication in the audit trail (%s)', (backend: Backend) => {
  let t: TestApp;
  let warn: Warn;
  let jwtClient: string;
  let key: CryptoKey;
  let secretClient: string;
  let secret: string;

  const form = (url: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(body).toString() });
  const assertion = (signer: CryptoKey = key, clientId = jwtClient) =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(clientId).setSubject(clientId).setAudience(t.config.oidc.issuer).setJti(randomUUID()).setIssuedAt().setExpirationTime('60s').sign(signer);
  const withAssertion = (jwt: string, extra: Record<string, string> = {}) => ({
    client_id: jwtClient,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: jwt,
    ...extra,
  });
  const ccGrant = { grant_type: 'client_credentials', scope: 'read', resource: RESOURCE };
  const basic = (id: string, s: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${s}`).toString('base64')}` });
  const trail = async (client: string) => (await t.store.audit.list({ type: 'oidc.client.authentication', limit: 100 })).filter((e) => e.details.client === client).reverse();
  const failures = () => warn.mock.calls.map(([fields]) => fields).filter((f) => f.event === 'oidc.client_auth_failed');

  beforeAll(async () => {
    t = await startTestApp({ backend, env: { KEYBOUND_OIDC_RESOURCES: RESOURCE, KEYBOUND_OIDC_ALLOW_SHARED_SECRETS: 'true' } });
    warn = vi.spyOn(t.deps.log, 'warn').mockImplementation(() => undefined) as Warn;
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), alg: 'ES256', use: 'sig' }] };
    const base = { redirectUris: [], postLogoutRedirectUris: [], public: false, grantTypes: ['client_credentials'] as const, requireDpop: false, scopes: ['read'], resources: [RESOURCE] };
    const made = await createClient(t.deps, { ...base, name: 'Reporting', jwks }, async () => null);
    const shared = await createClient(t.deps, { ...base, name: 'Legacy', jwks: null }, async () => null);
    if (!made.ok || !shared.ok) throw new Error('client not created');
    jwtClient = made.value.client.clientId;
    secretClient = shared.value.client.clientId;
    secret = shared.value.secret!;
  });
  afterAll(async () => t?.close());

  it('ASVS 16.3.1: a private_key_jwt success and failures are audited with client, method, outcome and reason; failures warn; no assertion anywhere', async () => {
    warn.mockClear();
    const good = await assertion();
    const ok = await form('/oidc/token', { ...ccGrant, ...withAssertion(good) });
    expect(ok.statusCode, ok.body).toBe(200);
    const replayed = await form('/oidc/token', { ...ccGrant, ...withAssertion(good) });
    expect(replayed.json().error).toBe('invalid_client');
    const stranger = (await generateKeyPair('ES256')).privateKey;
    const forged = await assertion(stranger);
    expect((await form('/oidc/token', { ...ccGrant, ...withAssertion(forged) })).json().error).toBe('invalid_client');
    // Introspection authenticates the same way.
    const introspected = await form('/oidc/token/introspection', { token: 'nothing', ...withAssertion(await assertion()) });
    expect(introspected.statusCode).toBeLessThan(500);

    const events = await trail(jwtClient);
    expect(events.map((e) => [e.outcome, e.reason, e.details.method, e.details.endpoint])).toEqual([
      ['success', null, 'private_key_jwt', 'token'],
      ['failure', 'assertion_replayed', 'private_key_jwt', 'token'],
      ['failure', 'assertion_signature_invalid', 'private_key_jwt', 'token'],
      ['success', null, 'private_key_jwt', 'introspection'],
    ]);
    expect(events[0]!.ip).toBeTruthy();
    expect(failures()).toEqual([
      expect.objectContaining({ client: jwtClient, method: 'private_key_jwt', reason: 'assertion_replayed', endpoint: 'token', audited: true }),
      expect.objectContaining({ client: jwtClient, method: 'private_key_jwt', reason: 'assertion_signature_invalid', endpoint: 'token', audited: true }),
    ]);
    const written = JSON.stringify([events, warn.mock.calls]);
    for (const jwt of [good, forged]) {
      expect(written).not.toContain(jwt);
      expect(written).not.toContain(jwt.split('.')[2]);
    }
  });

  it('ASVS 16.3.1: client_secret_basic and client_secret_post are audited; the secret is never written', async () => {
    warn.mockClear();
    expect((await form('/oidc/token', ccGrant, basic(secretClient, secret))).statusCode).toBe(200);
    const wrong = `${secret.slice(0, -4)}AAAA`;
    expect((await form('/oidc/token', ccGrant, basic(secretClient, wrong))).json().error).toBe('invalid_client');
    expect((await form('/oidc/token', { ...ccGrant, client_id: secretClient, client_secret: wrong })).json().error).toBe('invalid_client');
    const events = await trail(secretClient);
    expect(events.map((e) => [e.outcome, e.reason, e.details.method])).toEqual([
      ['success', null, 'client_secret_basic'],
      ['failure', 'secret_invalid', 'client_secret_basic'],
      ['failure', 'secret_invalid', 'client_secret_post'],
    ]);
    expect(failures()).toHaveLength(2);
    const written = JSON.stringify([events, warn.mock.calls]);
    expect(written).not.toContain(secret);
    expect(written).not.toContain(wrong);
  });

  it('ASVS 16.3.1: an unknown client is logged at warn with the id it claimed, and not audited', async () => {
    warn.mockClear();
    const before = (await t.store.audit.list({ limit: 1000 })).length;
    expect((await form('/oidc/token', ccGrant, basic('no-such-client', 'whatever-secret'))).json().error).toBe('invalid_client');
    expect(failures()).toEqual([expect.objectContaining({ client: 'no-such-client', reason: 'client_unknown', method: 'client_secret_basic', audited: false })]);
    expect(await t.store.audit.list({ limit: 1000 })).toHaveLength(before);
  });

  it('ASVS 16.3.2: revoking another client\'s token is refused, audited as authorization.refused and logged at warn', async () => {
    warn.mockClear();
    const issued = await form('/oidc/token', { grant_type: 'client_credentials', scope: 'read' }, basic(secretClient, secret));
    expect(issued.statusCode, issued.body).toBe(200);
    const token = issued.json().access_token as string;
    const revoked = await form('/oidc/token/revocation', { token, ...withAssertion(await assertion()) });
    expect(revoked.statusCode).toBe(400);
    const [refused] = await t.store.audit.list({ type: 'authorization.refused', limit: 1 });
    expect(refused).toMatchObject({ outcome: 'failure', reason: 'token_of_another_client', details: { client: jwtClient, tokenClient: secretClient } });
    expect(JSON.stringify(refused)).not.toContain(token);
    expect(warn.mock.calls.map(([f]) => f)).toContainEqual(expect.objectContaining({ event: 'authorization.refused', reason: 'token_of_another_client', client: jwtClient }));
  });
});
