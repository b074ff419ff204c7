/**
 * Issue 3, required test 5: bad input at the OpenID provider (in-process, SQLite). An unregistered
 * redirect_uri gets an error page and never a redirect (RFC 6749 §4.1.2.1); unknown acr_values are
 * a voluntary request and are ignored (OpenID Connect Core §3.1.2.1, §5.5.1.1); oversized and
 * malformed requests get 4xx, never 5xx.
 */
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_URL_BYTES } from '../../src/http/connections.ts';
import { openDatabase } from '../../src/store/db.ts';
import { enrol, ManualClock, ORIGIN, startTestApp, type TestApp } from '../helpers/app.ts';
import { authorize, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';

describe('bad input at the provider', () => {
  let t: TestApp;
  let clientId: string;
  let cookie: string;
  const authUrl = (extra: Record<string, string> = {}) =>
    `/oidc/auth?${new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: INJECT_REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's', ...extra })}`;
  const redeem = async (code: string, verifier: string) =>
    (await tokenRequest(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId })).json() as { id_token: string };

  beforeAll(async () => {
    t = await startTestApp({ clock: new ManualClock(Date.now()) });
    clientId = await registerTestClient(t);
    ({ cookie } = await enrol(t, 'bad-bob'));
  });
  afterAll(async () => t?.close());

  it('shows an error page for an unregistered redirect_uri and never redirects', async () => {
    for (const redirect of ['https://evil.example.test/callback', `${INJECT_REDIRECT}/extra`, 'not a url']) {
      const response = await t.get(authUrl({ redirect_uri: redirect }), cookie);
      expect(response.statusCode).toBe(400);
      expect(response.headers.location).toBeUndefined();
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('data-error="invalid_redirect_uri"');
      expect(response.body).not.toContain('evil.example.test');
      expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    }
  });

  it('shows an error page for an unknown client', async () => {
    const response = await t.get(authUrl({ client_id: 'nobody' }), cookie);
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).toContain('data-error="invalid_client"');
  });

  it('sends protocol errors back to a registered redirect_uri: no PKCE, plain PKCE, unsupported response type', async () => {
    const missing = new URLSearchParams(authUrl().split('?')[1]);
    missing.delete('code_challenge');
    missing.delete('code_challenge_method');
    for (const url of [`/oidc/auth?${missing}`, authUrl({ code_challenge_method: 'plain' }), authUrl({ response_type: 'token' })]) {
      const response = await t.get(url, cookie);
      expect(response.statusCode).toBe(303);
      const location = new URL(String(response.headers.location));
      expect(`${location.origin}${location.pathname}`).toBe(INJECT_REDIRECT);
      // response_type=token would use the fragment (its default response mode); the error lands there.
      const params = location.hash ? new URLSearchParams(location.hash.slice(1)) : location.searchParams;
      expect(['invalid_request', 'unsupported_response_type']).toContain(params.get('error'));
      expect(params.get('code')).toBeNull();
    }
  });

  it('ignores unknown acr_values (a voluntary request) and says in the ID token which level was reached', async () => {
    const unknown = await authorize(t, clientId, cookie, { acr_values: 'urn:example:unknown-level' });
    expect(decodeJwt((await redeem(unknown.code, unknown.verifier)).id_token).acr).toBe('urn:keybound:aal2:phr');
    // Known values among unknown ones still count: here AAL2 is asked for and met.
    const mixed = await authorize(t, clientId, cookie, { acr_values: 'urn:example:gold urn:keybound:aal2' });
    expect(decodeJwt((await redeem(mixed.code, mixed.verifier)).id_token).acr).toBe('urn:keybound:aal2:phr');
  });

  it('answers prompt=none with login_required when no session, or when the session is below acr_values', async () => {
    for (const [extra, withCookie] of [[{}, false], [{ acr_values: 'urn:keybound:aal3' }, true]] as const) {
      const response = await t.get(authUrl({ prompt: 'none', ...extra }), withCookie ? cookie : undefined);
      expect(response.statusCode).toBe(303);
      expect(new URL(String(response.headers.location)).searchParams.get('error')).toBe('login_required');
    }
  });

  it('gives 4xx for oversized and malformed token requests', async () => {
    const huge = await t.app.inject({ method: 'POST', url: '/oidc/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=authorization_code&code=${'a'.repeat(2_000_000)}` });
    expect(huge.statusCode).toBeGreaterThanOrEqual(400);
    expect(huge.statusCode).toBeLessThan(500);
    const json = await t.app.inject({ method: 'POST', url: '/oidc/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":' });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ error: 'invalid_request' });
    const unknownGrant = await tokenRequest(t, { grant_type: 'password', client_id: clientId, username: 'a', password: 'b' });
    expect(unknownGrant.statusCode).toBe(400);
    expect(unknownGrant.json()).toMatchObject({ error: 'unsupported_grant_type' });
    const badCode = await tokenRequest(t, { grant_type: 'authorization_code', code: 'nope', code_verifier: 'x'.repeat(43), redirect_uri: INJECT_REDIRECT, client_id: clientId });
    expect(badCode.json()).toMatchObject({ error: 'invalid_grant' });
    const dupes = await t.app.inject({ method: 'POST', url: '/oidc/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=refresh_token&grant_type=refresh_token&client_id=${clientId}` });
    expect(dupes.statusCode).toBe(400);
    const wrongMethod = await t.app.inject({ method: 'GET', url: '/oidc/token' });
    expect(wrongMethod.statusCode).toBeGreaterThanOrEqual(400);
    expect(wrongMethod.statusCode).toBeLessThan(500);
  });

  it('refuses an address past 8 KiB with 414 before the provider stores any of its parameters', async () => {
    const db = openDatabase(t.database.url);
    const stored = async () => Number((await sql<{ n: number | string }>`select count(*) as n from oidc_payloads`.execute(db.kysely)).rows[0]!.n);
    try {
      const before = await stored();
      const padded = (length: number) => {
        const base = authUrl({ nonce: '' });
        return base.replace('nonce=', `nonce=${'n'.repeat(length - base.length)}`);
      };
      // Just within the bound: the provider reads it, but its parameters are past what one request
      // may store (4 KiB, issue 10 finding 10): refused to the application, nothing kept.
      const within = await t.get(padded(MAX_URL_BYTES), cookie);
      expect(within.statusCode).toBe(303);
      expect(new URL(String(within.headers.location)).searchParams.get('error')).toBe('invalid_request');
      const after = await stored();
      expect(after).toBe(before);
      // One byte more, and %00 that would grow sixfold as JSON: refused, nothing stored.
      for (const url of [padded(MAX_URL_BYTES + 1), authUrl({ state: '\u0000'.repeat(3_000) })]) {
        const refused = await t.get(url, cookie);
        expect(refused.statusCode).toBe(414);
        expect(refused.json()).toMatchObject({ error: 'uri_too_long' });
      }
      expect(await stored()).toBe(after);
      // Pages answer the same refusal as a page.
      const page = await t.get(`/login?next=${'x'.repeat(MAX_URL_BYTES)}`);
      expect(page.statusCode).toBe(414);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('data-error="uri_too_long"');
    } finally {
      await db.close();
    }
  });

  it('refuses interaction calls without the interaction cookie, and from other origins', async () => {
    const page = await t.get('/interaction/not-a-real-uid');
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain('interaction_expired');
    const verify = await t.post('/interaction/not-a-real-uid/verify', { response: {} });
    expect(verify.statusCode).toBe(400);
    const foreign = await t.app.inject({ method: 'POST', url: '/interaction/x/abort', headers: { origin: 'https://evil.example.test', 'content-type': 'application/json' }, payload: '{}' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toMatchObject({ error: 'origin_not_allowed' });
    const expired = await t.app.inject({ method: 'POST', url: '/interaction/x/abort', headers: { origin: ORIGIN, 'content-type': 'application/json' }, payload: '{}' });
    expect(expired.json()).toMatchObject({ error: 'interaction_expired', message: expect.any(String) });
  });
});
