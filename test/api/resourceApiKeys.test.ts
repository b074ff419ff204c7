/**
 * `keybound/resource` checks API keys as well as access tokens (issue 15, docs/nhi.md "Checking a
 * key"), on SQLite and PostgreSQL: the verifier sends a `kb_...` key to the provider's RFC 7662
 * introspection as the resource server's client and keeps the answer a bounded time in a bounded
 * cache. A valid key is accepted with its scopes; expired, revoked and rotated-out (after the
 * overlap) keys are refused; a look-alike with a bad checksum is refused without asking the provider.
 */
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/oidc/clients.ts';
import { createVerifier, type VerifierOptions } from '../../src/resource/index.ts';
import { createApiKey, revokeApiKey, rotateApiKey } from '../../src/services/nhi/apiKeys.ts';
import { createWorkload } from '../../src/services/nhi/workloads.ts';
import { enrol, ManualClock, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { clientCredentials, machineKey, type MachineKey } from '../helpers/machines.ts';

const RESOURCE = 'https://api.example.test/';
const URL_ = `${RESOURCE}reports`;

describe.each(BACKENDS)('keybound/resource with API keys on %s', (backend) => {
  let t: TestApp;
  let rs: { clientId: string; key: MachineKey };
  let calls = 0;

  /** The verifier's introspection requests go to the in-process app, counted. */
  const verifier = (extra: Partial<NonNullable<VerifierOptions['apiKeys']>> = {}) =>
    createVerifier({
      issuer: t.config.oidc.issuer,
      audience: RESOURCE,
      now: t.clock.read,
      jwks: async (...args) => createLocalJWKSet((await t.app.inject({ method: 'GET', url: '/oidc/jwks' })).json() as JSONWebKeySet)(...args),
      apiKeys: {
        clientId: rs.clientId,
        privateKey: rs.key.privateKey,
        fetch: async (url, init) => {
          calls++;
          const answer = await t.app.inject({ method: 'POST', url: new URL(url).pathname, headers: init.headers, payload: init.body });
          return { status: answer.statusCode, json: async () => answer.json() };
        },
        ...extra,
      },
    });
  const bearer = (value: string) => ({ method: 'GET', url: URL_, authorization: `Bearer ${value}` });
  const newKey = async (scopes = ['read', 'write'], expiresInMs: number | null = null) => {
    const made = await createApiKey(t.deps, { owner: 'olive', name: 'Reports sync', scopes, expiresInMs, by: 'test' });
    if (!made.ok) throw new Error(made.code);
    return made.value;
  };

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_RESOURCES: RESOURCE, KEYBOUND_API_KEY_ENV: 'test' } });
    await enrol(t, 'olive');
    const key = await machineKey();
    const made = await createClient(t.deps, { name: 'Reports API', redirectUris: [], postLogoutRedirectUris: [], public: false, jwks: key.jwks, grantTypes: ['client_credentials'], requireDpop: false, resourceServer: RESOURCE }, async () => null);
    if (!made.ok) throw new Error(made.code);
    rs = { clientId: made.value.client.clientId, key };
  }, 60_000);
  afterAll(async () => t?.close());

  it('accepts a valid key with its scopes and owner, and a JWT access token alike', async () => {
    const made = await newKey();
    const v = verifier();
    const olive = await t.store.accounts.findByUsername('olive');
    const result = await v.verify(bearer(made.key), { scopes: ['read'] });
    expect(result).toMatchObject({ ok: true, kind: 'api_key', token: { sub: olive!.id, client_id: made.id, scope: 'read write' }, apiKey: { username: 'olive', keybound_api_key_id: made.id } });
    const lacking = await v.verify(bearer(made.key), { scopes: ['admin'] });
    expect(lacking).toMatchObject({ ok: false, status: 403, error: 'insufficient_scope' });
    // A key carries no sign-in, so a route asking for a level refuses it.
    expect(await v.verify(bearer(made.key), { acr: 'urn:keybound:aal2' })).toMatchObject({ ok: false, error: 'insufficient_user_authentication' });
    expect(await v.verify({ ...bearer(made.key), authorization: `DPoP ${made.key}` })).toMatchObject({ ok: false, error: 'invalid_token' });

    const workloadKey = await machineKey();
    const w = await createWorkload(t.deps, { name: 'Sync', owner: 'olive', kind: 'service', jwks: workloadKey.jwks, audiences: [RESOURCE], scopes: ['read'], by: 'test' }, async () => null);
    if (!w.ok) throw new Error(w.code);
    const issued = await clientCredentials(t, w.value.client_id, workloadKey.privateKey, { resource: RESOURCE, scope: 'read' });
    expect(issued.statusCode, issued.body).toBe(200);
    const jwt = await v.verify(bearer((issued.json() as { access_token: string }).access_token), { scopes: ['read'] });
    expect(jwt).toMatchObject({ ok: true, kind: 'access_token', token: { client_id: w.value.client_id } });
  });

  it('refuses a look-alike with a bad checksum without asking the provider', async () => {
    const made = await newKey();
    const v = verifier();
    const before = calls;
    const flipped = `${made.key.slice(0, -1)}${made.key.endsWith('A') ? 'B' : 'A'}`;
    expect(await v.verify(bearer(flipped))).toMatchObject({ ok: false, status: 401, error: 'invalid_token', description: expect.stringContaining('checksum') });
    expect(await v.verify(bearer('kb_test_not-a-key'))).toMatchObject({ ok: false, error: 'invalid_token' });
    expect(calls).toBe(before);
    // Without the apiKeys option, keys are refused too.
    const plain = createVerifier({ issuer: t.config.oidc.issuer, audience: RESOURCE, jwks: createLocalJWKSet({ keys: [] }) });
    expect(await plain.verify(bearer(made.key))).toMatchObject({ ok: false, error: 'invalid_token', description: 'API keys are not accepted here' });
  });

  it('refuses a revoked key once the cached answer ends (cacheTtlS), and at once without a cache', async () => {
    const made = await newKey();
    const cached = verifier({ cacheTtlS: 10 });
    const uncached = verifier({ cacheTtlS: 0 });
    expect((await cached.verify(bearer(made.key))).ok).toBe(true);
    expect((await uncached.verify(bearer(made.key))).ok).toBe(true);
    expect((await revokeApiKey(t.deps, { id: made.id, by: 'test' })).ok).toBe(true);
    expect(await uncached.verify(bearer(made.key))).toMatchObject({ ok: false, error: 'invalid_token' });
    // The answer kept for at most 10 s, then asked again.
    expect((await cached.verify(bearer(made.key))).ok).toBe(true);
    t.clock.advance(10_001);
    expect(await cached.verify(bearer(made.key))).toMatchObject({ ok: false, error: 'invalid_token' });
  });

  it('refuses an expired key, and a rotated-out key after the overlap', async () => {
    const short = await newKey(['read'], 60_000);
    const v = verifier({ cacheTtlS: 0 });
    expect((await v.verify(bearer(short.key))).ok).toBe(true);
    t.clock.advance(60_001);
    expect(await v.verify(bearer(short.key))).toMatchObject({ ok: false, error: 'invalid_token' });

    const old = await newKey();
    const rotated = await rotateApiKey(t.deps, { id: old.id, overlapMs: 3_600_000, by: 'test' });
    if (!rotated.ok) throw new Error(rotated.code);
    expect((await v.verify(bearer(old.key))).ok).toBe(true);
    expect((await v.verify(bearer(rotated.value.key))).ok).toBe(true);
    t.clock.advance(3_600_001);
    expect(await v.verify(bearer(old.key))).toMatchObject({ ok: false, error: 'invalid_token' });
    expect((await v.verify(bearer(rotated.value.key))).ok).toBe(true);
  });

  it('keeps at most cacheEntries answers: the oldest is asked for again', async () => {
    const [a, b, c] = [await newKey(), await newKey(), await newKey()];
    const v = verifier({ cacheEntries: 2, cacheTtlS: 60 });
    const before = calls;
    for (const k of [a, b, a, b]) expect((await v.verify(bearer(k.key))).ok).toBe(true);
    expect(calls - before).toBe(2);
    expect((await v.verify(bearer(c.key))).ok).toBe(true);
    expect((await v.verify(bearer(a.key))).ok).toBe(true);
    expect(calls - before).toBe(4);
  });
});
