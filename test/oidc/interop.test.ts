/**
 * Issue 10, findings 10, 14 and 15, in-process: the per-address limit on authorization requests
 * and PAR and the size cap on what one may store; introspection only for a client's own API; and
 * the interoperability items (RS256 for ID tokens, prompt=none answering login_required, the auth
 * methods published for introspection and revocation, JWT access tokens not introspectable, the
 * `claims` parameter with an essential `acr`, `/oidc/auth/<uid>` redacted in logs).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/http/app.ts';
import { createClient, type ClientInput } from '../../src/oidc/clients.ts';
import { enrol, ManualClock, startTestApp, type TestApp } from '../helpers/app.ts';
import { authorize, CookieJar, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';

const RESOURCE = 'https://api.example.test/';

function authParams(clientId: string, extra: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: INJECT_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's', ...extra });
}

async function makeClient(t: TestApp, input: Partial<ClientInput>) {
  const created = await createClient(
    t.deps,
    { name: 'client', redirectUris: [INJECT_REDIRECT], postLogoutRedirectUris: [], public: false, jwks: null, grantTypes: ['authorization_code', 'refresh_token'], requireDpop: false, firstParty: true, ...input },
    async () => null,
  );
  if (!created.ok) throw new Error(created.message ?? created.code);
  return { clientId: created.value.client.clientId, secret: created.value.secret };
}

/** Follows redirects with one cookie jar until the application's redirect URI (or a non-redirect). */
async function follow(t: TestApp, jar: CookieJar, url: string): Promise<{ status: number; location: URL | null }> {
  for (let hop = 0; hop < 12; hop++) {
    const response = await t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
    jar.take(response);
    const location = response.headers.location;
    if ((response.statusCode !== 303 && response.statusCode !== 302) || typeof location !== 'string') return { status: response.statusCode, location: null };
    const next = new URL(location, 'http://localhost:8080');
    if (next.href.startsWith(INJECT_REDIRECT)) return { status: response.statusCode, location: next };
    url = `${next.pathname}${next.search}`;
  }
  throw new Error('too many redirects');
}

describe('OpenID provider interoperability and limits', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('finding 10: authorization requests and PAR are limited per client address', async () => {
    t = await startTestApp({ env: { KEYBOUND_RATE_LIMIT_OIDC_AUTH: '4', KEYBOUND_RATE_LIMIT_WINDOW: '3600' } });
    const app = t;
    const clientId = await registerTestClient(app);
    const get = () => app.app.inject({ method: 'GET', url: `/oidc/auth?${authParams(clientId)}`, remoteAddress: '203.0.113.9' });
    const par = () =>
      app.app.inject({ method: 'POST', url: '/oidc/request', remoteAddress: '203.0.113.9', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: authParams(clientId).toString() });
    for (let i = 0; i < 3; i++) expect((await get()).statusCode).toBe(303);
    expect((await par()).statusCode).toBe(201);
    const refused = await get();
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await par()).statusCode).toBe(429);
    // Another address has its own budget.
    expect((await app.app.inject({ method: 'GET', url: `/oidc/auth?${authParams(clientId)}`, remoteAddress: '203.0.113.10' })).statusCode).toBe(303);
  });

  it('finding 10: one authorization request cannot make the provider store more than 4 KiB', async () => {
    t = await startTestApp();
    const clientId = await registerTestClient(t);
    const big = await t.app.inject({ method: 'GET', url: `/oidc/auth?${authParams(clientId, { state: 'x'.repeat(6000) })}` });
    // Refused back to the application (its redirect URI is known good), not stored as an interaction.
    expect(big.statusCode).toBe(303);
    const location = new URL(big.headers.location as string);
    expect(location.href.startsWith(INJECT_REDIRECT)).toBe(true);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    // An ordinary request still goes to the sign-in.
    const ordinary = await t.app.inject({ method: 'GET', url: `/oidc/auth?${authParams(clientId, { state: 'x'.repeat(500) })}` });
    expect(String(ordinary.headers.location)).toMatch(/^\/interaction\//);
  });

  it('finding 14: introspection only for clients marked as resource servers, for tokens of their own audience', async () => {
    t = await startTestApp({ clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_ALLOW_SHARED_SECRETS: 'true', KEYBOUND_OIDC_RESOURCES: RESOURCE } });
    const app = t;
    const clientId = await registerTestClient(app);
    const { cookie } = await enrol(app, 'introspected');
    const { code, verifier } = await authorize(app, clientId, cookie);
    const tokens = (await tokenRequest(app, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId })).json() as { access_token: string; refresh_token: string };
    const introspect = (token: string, auth: { clientId: string; secret?: string | null }) =>
      app.app.inject({
        method: 'POST',
        url: '/oidc/token/introspection',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth.secret ? { authorization: `Basic ${Buffer.from(`${auth.clientId}:${auth.secret}`).toString('base64')}` } : {}) },
        payload: new URLSearchParams({ token, ...(auth.secret ? {} : { client_id: auth.clientId }) }).toString(),
      });

    // The application itself (not a resource server) learns nothing, of its own tokens either.
    expect((await introspect(tokens.access_token, { clientId })).json()).toEqual({ active: false });
    expect((await introspect(tokens.refresh_token, { clientId })).json()).toEqual({ active: false });
    // A confidential client that is not a resource server learns nothing of others' tokens.
    const other = await makeClient(app, { name: 'other' });
    expect((await introspect(tokens.access_token, other)).json()).toEqual({ active: false });
    // A resource server learns nothing of a token whose audience is not its API (this one is for userinfo).
    const api = await makeClient(app, { name: 'api', grantTypes: ['client_credentials'], redirectUris: [], resourceServer: RESOURCE });
    expect((await introspect(tokens.access_token, api)).json()).toEqual({ active: false });
    // Only an API Keybound issues tokens for can be named.
    await expect(makeClient(app, { name: 'bad', grantTypes: ['client_credentials'], redirectUris: [], resourceServer: 'https://elsewhere.example/' })).rejects.toThrow(/KEYBOUND_OIDC_RESOURCES/);
  });

  it('finding 15: RS256 is available for ID tokens (OIDC Discovery §3); ES256 stays the default', async () => {
    t = await startTestApp({ clock: new ManualClock(Date.now()) });
    const app = t;
    const discovery = (await app.app.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration' })).json() as Record<string, string[]>;
    expect(discovery.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'RS256']));
    const { cookie } = await enrol(app, 'rsa');
    const idTokenOf = async (clientId: string) => {
      const { code, verifier } = await authorize(app, clientId, cookie);
      return ((await tokenRequest(app, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId })).json() as { id_token: string }).id_token;
    };
    const jwks = createLocalJWKSet((await app.app.inject({ method: 'GET', url: '/oidc/jwks' })).json() as JSONWebKeySet);
    expect(decodeProtectedHeader(await idTokenOf(await registerTestClient(app))).alg).toBe('ES256');
    const rsa = await makeClient(app, { name: 'rsa', public: true, idTokenSigningAlg: 'RS256' });
    const token = await idTokenOf(rsa.clientId);
    expect(decodeProtectedHeader(token).alg).toBe('RS256');
    expect((await jwtVerify(token, jwks, { issuer: app.config.oidc.issuer, audience: rsa.clientId })).payload.sub).toBeTruthy();
  });

  it('finding 15: prompt=none answers login_required when the Keybound session behind single sign-on has ended', async () => {
    t = await startTestApp({ clock: new ManualClock(Date.now()) });
    const app = t;
    const clientId = await registerTestClient(app);
    const { cookie, account } = await enrol(app, 'silent');
    const jar = new CookieJar(cookie);
    const first = await follow(app, jar, `/oidc/auth?${authParams(clientId)}`);
    expect(first.location?.searchParams.get('code')).toBeTruthy();
    // The Keybound session ends without the provider hearing of it (expiry, or any other instance).
    await app.store.sessions.revokeAllForAccount(account.id, app.clock.now);
    const silent = await follow(app, jar, `/oidc/auth?${authParams(clientId, { prompt: 'none' })}`);
    expect(silent.location?.searchParams.get('error')).toBe('login_required');
    // No session at all: login_required as well.
    const stranger = await follow(app, new CookieJar(), `/oidc/auth?${authParams(clientId, { prompt: 'none' })}`);
    expect(stranger.location?.searchParams.get('error')).toBe('login_required');
  });

  it('finding 15: introspection and revocation auth methods are published; JWT access tokens are refused by introspection as documented', async () => {
    t = await startTestApp({ clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } });
    const app = t;
    const discovery = (await app.app.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration' })).json() as Record<string, unknown>;
    expect(discovery.introspection_endpoint_auth_methods_supported).toEqual(['private_key_jwt']);
    expect(discovery.revocation_endpoint_auth_methods_supported).toEqual(['none', 'private_key_jwt']);
    expect(discovery.pushed_authorization_request_endpoint).toBe(`${app.config.oidc.issuer}/request`);

    const clientId = await registerTestClient(app);
    const { cookie } = await enrol(app, 'jwt-at');
    const { code, verifier } = await authorize(app, clientId, cookie, { resource: RESOURCE, scope: 'openid read' });
    const tokens = (await tokenRequest(app, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId, resource: RESOURCE })).json() as { access_token: string };
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    const answer = await app.app.inject({ method: 'POST', url: '/oidc/token/introspection', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token: tokens.access_token, client_id: clientId }).toString() });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error).toBe('unsupported_token_type');
  });

  it('finding 15: the claims parameter is enabled and an essential acr is honoured like acr_values', async () => {
    t = await startTestApp({ clock: new ManualClock(Date.now()) });
    const app = t;
    const clientId = await registerTestClient(app);
    const { cookie } = await enrol(app, 'essential');
    const discovery = (await app.app.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration' })).json() as Record<string, unknown>;
    expect(discovery.claims_parameter_supported).toBe(true);
    // A software passkey reaches AAL2; an essential AAL3 cannot be met silently.
    const claims = JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:keybound:aal3' } } });
    const stopped = await follow(app, new CookieJar(cookie), `/oidc/auth?${authParams(clientId, { claims })}`);
    expect(stopped.location).toBeNull();
    expect(stopped.status).toBe(403);
    // An essential level the session has is met at once.
    const met = await follow(app, new CookieJar(cookie), `/oidc/auth?${authParams(clientId, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:keybound:aal1' } } }) })}`);
    expect(met.location?.searchParams.get('code')).toBeTruthy();
  });

  it('finding 15: /oidc/auth/<uid> is redacted in logs', () => {
    expect(redactUrl('/oidc/auth/Xk3nQ9pLr2?x=1')).toBe('/oidc/auth/[redacted]?[redacted]');
    expect(redactUrl('/oidc/auth?client_id=a')).toBe('/oidc/auth?[redacted]');
  });
});
