/**
 * Issue 11, OAuth and OIDC: each client's policy, through real authorization requests on SQLite and
 * PostgreSQL (Fastify inject, the provider's cookies followed by a jar).
 * - OWASP ASVS 5.0 6.3.3: a client's minimum level (default phishing-resistant AAL2) is applied to
 *   requests that name no level; a session below it gets no code.
 * - 10.4.11: scope and resource allowlists, refused with invalid_scope / invalid_target at the
 *   authorization endpoint, PAR, client credentials and refresh.
 * - 7.6.2, 10.7.1: a client that is not first-party gets a code only after the person consents, again
 *   with prompt=consent or new scopes; denying answers access_denied.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ACR } from '../../src/core/assurance/level.ts';
import { createClient, updateClientPolicy, type ClientInput } from '../../src/oidc/clients.ts';
import { enrol, ORIGIN, sessionCookie, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { CookieJar, INJECT_REDIRECT, tokenRequest } from '../helpers/oidcInject.ts';
import { codeSignIn, enrolTotp, MEMBER_CODES_ENV } from '../codes/support.ts';

const API = 'https://api.example.test/';
const OTHER_API = 'https://other.example.test/';
const ENV = { KEYBOUND_OIDC_RESOURCES: `${API},${OTHER_API}`, KEYBOUND_OIDC_ALLOW_SHARED_SECRETS: 'true' };

/** Where an authorization request ended: back at the client (with its query), or on a Keybound page. */
type Outcome = { at: 'client'; params: URLSearchParams } | { at: 'page'; status: number; url: string; body: string };

async function makeClient(t: TestApp, input: Partial<ClientInput> = {}) {
  const created = await createClient(
    t.deps,
    { name: 'Ledger', redirectUris: [INJECT_REDIRECT], postLogoutRedirectUris: [], public: true, jwks: null, grantTypes: ['authorization_code', 'refresh_token'], requireDpop: false, ...input },
    async () => null,
  );
  if (!created.ok) throw new Error(created.message ?? created.code);
  return { clientId: created.value.client.clientId, secret: created.value.secret };
}

function authParams(clientId: string, extra: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const params = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: INJECT_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's', ...extra });
  return { params, verifier };
}

/** Follows redirects with the jar until the client's redirect URI or a page that is not a redirect. */
async function follow(t: TestApp, jar: CookieJar, url: string): Promise<Outcome> {
  for (let hop = 0; hop < 12; hop++) {
    const response = await t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
    jar.take(response);
    const location = response.headers.location;
    if ((response.statusCode !== 303 && response.statusCode !== 302) || typeof location !== 'string') return { at: 'page', status: response.statusCode, url, body: response.body };
    const next = new URL(location, 'http://localhost:8080');
    if (next.href.startsWith(INJECT_REDIRECT)) return { at: 'client', params: next.searchParams };
    url = `${next.pathname}${next.search}`;
  }
  throw new Error('too many redirects');
}

const authorize = (t: TestApp, jar: CookieJar, clientId: string, extra: Record<string, string> = {}) => follow(t, jar, `/oidc/auth?${authParams(clientId, extra).params}`);

/** Answers the consent page the outcome shows, and follows on. */
async function answerConsent(t: TestApp, jar: CookieJar, outcome: Outcome, decision: 'allow' | 'deny'): Promise<Outcome> {
  if (outcome.at !== 'page') throw new Error('no consent page');
  const response = await t.app.inject({ method: 'POST', url: `${outcome.url}/consent`, headers: { cookie: jar.header(), origin: ORIGIN, 'content-type': 'application/json' }, payload: { decision } });
  jar.take(response);
  expect(response.statusCode, response.body).toBe(200);
  const target = new URL((response.json() as { redirectTo: string }).redirectTo, 'http://localhost:8080');
  return follow(t, jar, `${target.pathname}${target.search}`);
}

const isConsentPage = (o: Outcome) => o.at === 'page' && o.status === 200 && o.body.includes('id="consent-form"');
const code = (o: Outcome) => (o.at === 'client' ? o.params.get('code') : null);
const error = (o: Outcome) => (o.at === 'client' ? o.params.get('error') : `page ${o.at === 'page' ? o.status : ''}`);

describe.each(BACKENDS)('OpenID client policy on %s', (backend) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const start = async (env: Record<string, string> = {}) => (t = await startTestApp({ backend, env: { ...ENV, ...env } }));

  it('6.3.3: a request without acr_values is raised to the client minimum (AAL2 phishing-resistant by default): a code session gets no code, only a step-up', async () => {
    const t = await start(MEMBER_CODES_ENV);
    const { cookie } = await enrol(t, 'mia');
    const app = await enrolTotp(t, cookie);
    const signedIn = await codeSignIn(t, 'mia', 'totp', app.code(t.clock.now));
    expect(signedIn.json().acr).toBe(ACR.aal1);
    const { clientId } = await makeClient(t, { firstParty: true });
    const jar = () => new CookieJar(sessionCookie(signedIn));
    // Before the fix the AAL1 session got a code here (no acr_values: no requirement).
    const plain = await authorize(t, jar(), clientId);
    expect(code(plain)).toBeNull();
    expect(plain).toMatchObject({ at: 'page', status: 200 });
    expect(plain.at === 'page' && plain.body).toMatch(/Continue with a passkey/);
    expect(plain.at === 'page' && plain.body).toContain('phishing-resistant');
    // A weaker acr_values is raised too; prompt=none cannot step up and says so (Core §3.1.2.6).
    expect(code(await authorize(t, jar(), clientId, { acr_values: ACR.aal1 }))).toBeNull();
    expect(error(await authorize(t, jar(), clientId, { prompt: 'none' }))).toBe('login_required');
    // A client whose minimum is AAL1 serves the same session (the minimum is the client's).
    const { clientId: lenient } = await makeClient(t, { firstParty: true, minAcr: ACR.aal1 });
    expect(code(await authorize(t, jar(), lenient))).not.toBeNull();
    // The passkey session meets the default and gets its code without any acr_values.
    expect(code(await authorize(t, new CookieJar(cookie), clientId))).not.toBeNull();
  });

  it('6.3.3: a session that cannot reach the client minimum is refused, never given a code', async () => {
    const t = await start();
    const { cookie } = await enrol(t, 'ana');
    const { clientId } = await makeClient(t, { firstParty: true, minAcr: ACR.aal3 });
    const jar = new CookieJar(cookie);
    const outcome = await authorize(t, jar, clientId);
    expect(code(outcome)).toBeNull();
    expect(outcome).toMatchObject({ at: 'page', status: 403 });
    expect(outcome.at === 'page' && outcome.body).toContain('data-error="acr_unreachable"');
    // Cancelling from that page tells the client why (unmet_authentication_requirements).
    const abort = await t.app.inject({ method: 'POST', url: `${outcome.at === 'page' ? outcome.url : ''}/abort`, headers: { cookie: jar.header(), origin: ORIGIN, 'content-type': 'application/json' }, payload: {} });
    const back = await follow(t, jar, new URL((abort.json() as { redirectTo: string }).redirectTo, 'http://localhost:8080').pathname);
    expect(error(back)).toBe('unmet_authentication_requirements');
  });

  it('10.4.11: a client-credentials client asking for a scope or an API it is not allowed is refused', async () => {
    const t = await start();
    const { clientId, secret } = await makeClient(t, { public: false, grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], resources: [API] });
    const basic = `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
    const cc = (body: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/oidc/token', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'client_credentials', ...body }).toString() });
    const allowed = await cc({ resource: API, scope: 'read' });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.json().scope).toBe('read');
    // Before the fix this answered 200 with scope "write".
    const write = await cc({ resource: API, scope: 'write' });
    expect([write.statusCode, write.json().error]).toEqual([400, 'invalid_scope']);
    expect(write.json().access_token).toBeUndefined();
    const both = await cc({ resource: API, scope: 'read write' });
    expect(both.json().error).toBe('invalid_scope');
    const other = await cc({ resource: OTHER_API, scope: 'read' });
    expect([other.statusCode, other.json().error]).toEqual([400, 'invalid_target']);
    const openid = await cc({ scope: 'openid' });
    expect(openid.json().error).toBe('invalid_scope');
  });

  it('10.4.11: an authorization request and a pushed one naming another scope or resource are refused', async () => {
    const t = await start();
    const { cookie } = await enrol(t, 'ben');
    const { clientId } = await makeClient(t, { firstParty: true, scopes: ['openid', 'read'], resources: [API] });
    expect(code(await authorize(t, new CookieJar(cookie), clientId, { scope: 'openid read', resource: API }))).not.toBeNull();
    expect(error(await authorize(t, new CookieJar(cookie), clientId, { scope: 'openid email' }))).toBe('invalid_scope');
    expect(error(await authorize(t, new CookieJar(cookie), clientId, { scope: 'openid write', resource: API }))).toBe('invalid_scope');
    expect(error(await authorize(t, new CookieJar(cookie), clientId, { scope: 'openid read', resource: OTHER_API }))).toBe('invalid_target');
    const par = (extra: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/oidc/request', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: authParams(clientId, extra).params.toString() });
    expect((await par({ scope: 'openid read', resource: API })).statusCode).toBe(201);
    const parScope = await par({ scope: 'openid profile' });
    expect([parScope.statusCode, parScope.json().error]).toEqual([400, 'invalid_scope']);
    const parTarget = await par({ resource: OTHER_API });
    expect([parTarget.statusCode, parTarget.json().error]).toEqual([400, 'invalid_target']);
  });

  it('10.4.11: a refresh is refused once the client is no longer allowed what the grant holds', async () => {
    const t = await start();
    const { cookie } = await enrol(t, 'cleo');
    const { clientId } = await makeClient(t, { firstParty: true, scopes: ['openid', 'read'], resources: [API] });
    const { params, verifier } = authParams(clientId, { scope: 'openid read', resource: API });
    const done = await follow(t, new CookieJar(cookie), `/oidc/auth?${params}`);
    const tokens = await tokenRequest(t, { grant_type: 'authorization_code', code: code(done)!, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId, resource: API });
    expect(tokens.statusCode, tokens.body).toBe(200);
    const refreshToken = tokens.json().refresh_token as string;
    const refreshed = await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, resource: API, scope: 'read write' });
    expect(refreshed.json().error).toBe('invalid_scope');
    const narrowed = await updateClientPolicy(t.deps, clientId, { scopes: ['openid'] });
    expect(narrowed.ok).toBe(true);
    const after = await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
    expect([after.statusCode, after.json().error]).toEqual([400, 'invalid_scope']);
  });

  it('7.6.2, 10.7.1: a client that is not first-party gets a code only after consent; again with prompt=consent or new scopes; deny is access_denied', async () => {
    const t = await start();
    const { cookie } = await enrol(t, 'dana');
    const { clientId } = await makeClient(t, { scopes: ['openid', 'profile', 'offline_access', 'read'], resources: [API] });
    const jar = new CookieJar(cookie);
    // Before the fix the code came back at once, with no page.
    const first = await authorize(t, jar, clientId, { scope: 'openid profile' });
    expect(code(first)).toBeNull();
    expect(isConsentPage(first)).toBe(true);
    expect(first.at === 'page' && first.body).toContain('Allow Ledger access to your account?');
    expect(first.at === 'page' && first.body).toContain('data-scope="profile"');
    // A cross-site answer is refused.
    const forged = await t.app.inject({ method: 'POST', url: `${first.at === 'page' ? first.url : ''}/consent`, headers: { cookie: jar.header(), origin: 'https://evil.example', 'content-type': 'application/json' }, payload: { decision: 'allow' } });
    expect(forged.statusCode).toBe(403);
    expect(code(await answerConsent(t, jar, first, 'allow'))).not.toBeNull();
    // Granted: the same scopes again need no page.
    expect(code(await authorize(t, jar, clientId, { scope: 'openid profile' }))).not.toBeNull();
    // prompt=consent asks again.
    expect(isConsentPage(await authorize(t, jar, clientId, { scope: 'openid profile', prompt: 'consent' }))).toBe(true);
    // New scopes ask again: an API with its scope, offline_access.
    const api = await authorize(t, jar, clientId, { scope: 'openid read', resource: API });
    expect(isConsentPage(api)).toBe(true);
    expect(api.at === 'page' && api.body).toContain(`data-resource="${API}"`);
    const offline = await authorize(t, jar, clientId, { scope: 'openid offline_access', prompt: 'consent' });
    expect(isConsentPage(offline)).toBe(true);
    expect(offline.at === 'page' && offline.body).toContain('data-scope="offline_access"');
    // Deny (the latest request: a browser has one interaction at a time): the client hears access_denied, no code.
    const denied = await answerConsent(t, jar, offline, 'deny');
    expect(error(denied)).toBe('access_denied');
    expect(code(denied)).toBeNull();
    const events = await t.store.audit.list({ limit: 20 });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['oidc.consent.granted', 'oidc.consent.denied']));
  });

  it('10.7.1: a first-party client never shows the consent page, not even with prompt=consent', async () => {
    const t = await start();
    const { cookie } = await enrol(t, 'eli');
    const { clientId } = await makeClient(t, { firstParty: true });
    const jar = new CookieJar(cookie);
    expect(code(await authorize(t, jar, clientId, { scope: 'openid profile' }))).not.toBeNull();
    expect(code(await authorize(t, jar, clientId, { scope: 'openid profile', prompt: 'consent' }))).not.toBeNull();
  });
});
