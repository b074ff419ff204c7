/**
 * Issue 11, OWASP ASVS 5.0 10.7.3 and 10.4.9: a person sees the applications holding a grant on
 * their account (`GET /api/v1/grants`, Connected apps on /account) and ends one
 * (`DELETE /api/v1/grants/{id}`: the grant, its refresh tokens and its opaque access tokens), on
 * SQLite and PostgreSQL, with grants made through real authorization requests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { enrol, ManualClock, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { authorize, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';

const API = 'https://api.example.test/';

const del = (t: TestApp, url: string, cookie: string) => t.app.inject({ method: 'DELETE', url, headers: { cookie, origin: ORIGIN } });

/** Tokens from an authorization request made by the browser signed in with `cookie`. */
async function tokensFor(t: TestApp, clientId: string, cookie: string, extra: Record<string, string> = {}) {
  const { code, verifier } = await authorize(t, clientId, cookie, extra);
  const response = await tokenRequest(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { access_token: string; refresh_token: string };
}

interface ListedGrant {
  id: string;
  clientId: string;
  clientName: string;
  scopes: string[];
  resources: { resource: string; scopes: string[] }[];
  createdAt: string;
  lastUsedAt: string;
}

describe.each(BACKENDS)('connected apps (OpenID grants) on %s', (backend) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('lists the grants of the signed-in person and ends one with its refresh and access tokens', async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_RESOURCES: API } });
    const app = t;
    const clientId = await registerTestClient(app, { name: 'Expense tracker' });
    const { cookie, authenticator } = await enrol(app, 'alice');
    const { cookie: bobCookie } = await enrol(app, 'bob');
    const tokens = await tokensFor(app, clientId, cookie, { scope: 'openid profile' });
    await tokensFor(app, clientId, bobCookie);

    const me = () => app.app.inject({ method: 'GET', url: '/oidc/me', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await me()).statusCode).toBe(200);
    // Before the fix: 404 not_found (no such route).
    const listed = await app.get('/api/v1/grants', cookie);
    expect(listed.statusCode, listed.body).toBe(200);
    const grants = listed.json().grants as ListedGrant[];
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ clientId, clientName: 'Expense tracker', scopes: ['openid', 'profile'], resources: [] });
    expect(Date.parse(grants[0]!.createdAt)).toBeLessThanOrEqual(Date.parse(grants[0]!.lastUsedAt));
    const grantId = grants[0]!.id;
    const bobGrant = ((await app.get('/api/v1/grants', bobCookie)).json().grants as ListedGrant[])[0]!;
    expect(bobGrant.id).not.toBe(grantId);

    // The account page lists it with a revoke button.
    const page = await app.get('/account', cookie);
    expect(page.body).toContain('Connected apps');
    expect(page.body).toContain(`data-grant="${grantId}"`);
    expect(page.body).toMatch(/class="revoke-grant"[^>]*aria-label="Revoke access of Expense tracker"/);

    // Someone else's grant is not found, and stays.
    const foreign = await del(app, `/api/v1/grants/${bobGrant.id}`, cookie);
    expect([foreign.statusCode, foreign.json().error]).toEqual([404, 'grant_not_found']);
    expect(((await app.get('/api/v1/grants', bobCookie)).json().grants as ListedGrant[]).map((g) => g.id)).toEqual([bobGrant.id]);

    // Ending a grant is a destructive session action: it needs a fresh sign-in.
    app.clock.advance(app.config.freshAuthMaxAgeMs + 1000);
    const stale = await del(app, `/api/v1/grants/${grantId}`, cookie);
    expect([stale.statusCode, stale.json().error]).toEqual([403, 'fresh_auth_required']);
    // A new passkey sign-in (another session: the one that made the grant stays).
    const fresh = sessionCookie(await signIn(app, authenticator));
    const ended = await del(app, `/api/v1/grants/${grantId}`, fresh);
    expect(ended.statusCode, ended.body).toBe(204);

    // The refresh token and the opaque access token are dead; the list is empty; bob's grant lives.
    const refresh = await tokenRequest(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId });
    expect(refresh.json().error).toBe('invalid_grant');
    expect((await me()).statusCode).toBe(401);
    expect((await app.get('/api/v1/grants', fresh)).json().grants).toEqual([]);
    expect((await app.get('/api/v1/grants', bobCookie)).json().grants).toHaveLength(1);
    const again = await del(app, `/api/v1/grants/${grantId}`, fresh);
    expect(again.statusCode).toBe(404);
    const events = await app.store.audit.list({ limit: 10 });
    expect(events.find((e) => e.type === 'oidc.grant.revoked')).toMatchObject({ details: { grant: grantId, clientId } });
  });

  it('shows the API a grant holds, and asks for a session', async () => {
    t = await startTestApp({ backend, env: { KEYBOUND_OIDC_RESOURCES: API } });
    const clientId = await registerTestClient(t);
    const { cookie } = await enrol(t, 'carol');
    await authorize(t, clientId, cookie, { scope: 'openid read', resource: API });
    const grants = (await t.get('/api/v1/grants', cookie)).json().grants as ListedGrant[];
    expect(grants[0]).toMatchObject({ scopes: ['openid'], resources: [{ resource: API, scopes: ['read'] }] });
    expect((await t.get('/api/v1/grants')).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/grants/${grants[0]!.id}`, headers: { origin: ORIGIN } })).statusCode).toBe(401);
    // A cross-site DELETE is refused before anything else.
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/grants/${grants[0]!.id}`, headers: { cookie, origin: 'https://evil.example' } })).statusCode).toBe(403);
  });

  it('is declared in the OpenAPI document', async () => {
    t = await startTestApp({ backend });
    const doc = (await t.get('/api/v1/openapi.json')).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/grants'] ?? {})).toContain('get');
    expect(Object.keys(doc.paths['/api/v1/grants/{id}'] ?? {})).toContain('delete');
  });
});

