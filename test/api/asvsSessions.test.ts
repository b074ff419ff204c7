/**
 * OWASP ASVS 5.0 Level 2, V7 session management (issue 11): a sign-in ends the session it replaces
 * (7.2.4), a per-account session limit (7.1.2), and who may end which sessions, and when (7.4.3,
 * 7.5.2).
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrol, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import type { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { codeSignIn, enrolTotp, MEMBER_CODES_ENV } from '../codes/support.ts';
import { CookieJar, INJECT_REDIRECT, registerTestClient } from '../helpers/oidcInject.ts';

const FRESH_MS = 5 * 60 * 1000;

/** The session id inside a `name=id.secret` cookie. */
const idOf = (cookie: string) => cookie.split('=')[1]!.split('.')[0]!;

/** A usernameless passkey sign-in that carries `cookie`, as a browser that is already signed in would. */
async function signInCarrying(t: TestApp, authenticator: SoftAuthenticator, cookie: string): Promise<LightMyRequestResponse> {
  const options = await t.post('/api/v1/passkeys/authentication/options', {}, cookie);
  return t.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json()) }, cookie);
}

const del = (t: TestApp, url: string, cookie: string) => t.app.inject({ method: 'DELETE', url, headers: { cookie, origin: ORIGIN } });
const status = async (t: TestApp, cookie: string) => (await t.get('/api/v1/session', cookie)).statusCode;

describe('ASVS V7 sessions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: MEMBER_CODES_ENV });
  });
  afterAll(async () => t?.close());

  it('ASVS 7.2.4: a passkey sign-in carrying a live session of the same account ends that session', async () => {
    const { cookie: old, authenticator, account } = await enrol(t, 'asvs-renew');
    const renewed = await signInCarrying(t, authenticator, old);
    expect(renewed.statusCode, renewed.body).toBe(200);
    const fresh = sessionCookie(renewed);
    expect(idOf(fresh)).not.toBe(idOf(old));
    expect(await status(t, old)).toBe(401);
    expect(await status(t, fresh)).toBe(200);
    const events = await t.store.audit.list({ accountId: account.id, limit: 10 });
    expect(events.find((e) => e.type === 'session.revoked')).toMatchObject({ reason: 'replaced', details: { session: idOf(old), by: idOf(fresh) } });
    expect(events.find((e) => e.type === 'sign_in' && e.outcome === 'success')?.details).toMatchObject({ session: idOf(fresh), replaced: idOf(old) });

    // A cookie of another account is left alone: the new cookie overwrites it in this browser anyway.
    const { cookie: strangers } = await enrol(t, 'asvs-renew-other');
    expect((await signInCarrying(t, authenticator, strangers)).statusCode).toBe(200);
    expect(await status(t, strangers)).toBe(200);
  });

  it('ASVS 7.2.4: a code sign-in carrying a live session of the same account ends that session', async () => {
    const { cookie: old } = await enrol(t, 'asvs-renew-code');
    const app = await enrolTotp(t, old);
    t.clock.advance(60_000); // past the step the binding used
    const renewed = await codeSignIn(t, 'asvs-renew-code', 'totp', app.code(t.clock.now), old);
    expect(renewed.statusCode, renewed.body).toBe(200);
    expect(await status(t, old)).toBe(401);
    expect(await status(t, sessionCookie(renewed))).toBe(200);
  });

  it('ASVS 7.2.4: a sign-in at the OpenID provider carrying a live session of the same account ends that session', async () => {
    const { cookie: old, authenticator } = await enrol(t, 'asvs-renew-oidc');
    const clientId = await registerTestClient(t);
    // max_age=0 asks for a new sign-in although the browser has a session.
    const params = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: INJECT_REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's', max_age: '0' });
    const jar = new CookieJar(old);
    let url = `/oidc/auth?${params}`;
    for (let hop = 0; hop < 6 && !url.startsWith('/interaction/'); hop++) {
      const response = await t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
      jar.take(response);
      url = new URL(String(response.headers.location), 'http://localhost:8080').pathname;
    }
    expect(url).toMatch(/^\/interaction\/[^/]+$/);
    const post = (path: string, body: unknown) =>
      t.app.inject({ method: 'POST', url: `${url}${path}`, payload: body as object, headers: { cookie: jar.header(), origin: ORIGIN, 'content-type': 'application/json' } });
    const options = await post('/options', {});
    expect(options.statusCode, options.body).toBe(200);
    const verified = await post('/verify', { response: authenticator.get(options.json()) });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(await status(t, old)).toBe(401);
    expect(await status(t, sessionCookie(verified))).toBe(200);
  });

  it('ASVS 7.5.2: ending every other session needs a fresh sign-in; then the others end and this one stays', async () => {
    const { cookie: first, authenticator } = await enrol(t, 'asvs-all');
    const second = sessionCookie(await signIn(t, authenticator));
    const third = sessionCookie(await signIn(t, authenticator));
    t.clock.advance(FRESH_MS + 1);
    const stale = await del(t, '/api/v1/sessions', first);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('fresh_auth_required');
    expect(await status(t, second)).toBe(200);

    const current = sessionCookie(await signIn(t, authenticator));
    const ended = await del(t, '/api/v1/sessions', current);
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json()).toEqual({ ended: 3 });
    for (const other of [first, second, third]) expect(await status(t, other)).toBe(401);
    expect(await status(t, current)).toBe(200);
    expect((await t.get('/api/v1/sessions', current)).json().sessions).toHaveLength(1);
  });

  it('ASVS 7.5.2: ending another single session needs a fresh sign-in; signing yourself out never does', async () => {
    const { cookie: stale, authenticator } = await enrol(t, 'asvs-one');
    const other = sessionCookie(await signIn(t, authenticator));
    t.clock.advance(FRESH_MS + 1);
    const refused = await del(t, `/api/v1/sessions/${idOf(other)}`, stale);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('fresh_auth_required');
    expect(await status(t, other)).toBe(200);
    expect((await del(t, `/api/v1/sessions/${idOf(stale)}`, stale)).statusCode).toBe(204);
    expect(await status(t, stale)).toBe(401);

    const fresh = sessionCookie(await signIn(t, authenticator));
    expect((await del(t, `/api/v1/sessions/${idOf(other)}`, fresh)).statusCode).toBe(204);
    expect(await status(t, other)).toBe(401);
    expect(await status(t, fresh)).toBe(200);
  });

  it('ASVS 7.4.3: a session signed in with a one-time code cannot end a passkey session', async () => {
    const { cookie: passkeySession } = await enrol(t, 'asvs-weak');
    const app = await enrolTotp(t, passkeySession);
    t.clock.advance(60_000);
    const coded = await codeSignIn(t, 'asvs-weak', 'totp', app.code(t.clock.now));
    expect(coded.statusCode, coded.body).toBe(200);
    const codeSession = sessionCookie(coded);
    const refused = await del(t, `/api/v1/sessions/${idOf(passkeySession)}`, codeSession);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'session_end_not_allowed', message: expect.stringMatching(/passkey/) });
    expect((await del(t, '/api/v1/sessions', codeSession)).json().error).toBe('fresh_auth_required');
    expect(await status(t, passkeySession)).toBe(200);
    // It may still sign itself out.
    expect((await del(t, `/api/v1/sessions/${idOf(codeSession)}`, codeSession)).statusCode).toBe(204);
  });

  it('ASVS 7.4.3: after an authenticator change the account page offers "Sign out everywhere else"', async () => {
    const { cookie, authenticator } = await enrol(t, 'asvs-offer');
    const alone = await t.get('/account?changed=1', cookie);
    expect(alone.body).not.toContain('sign-out-others');
    await signIn(t, authenticator);
    const page = await t.get('/account?changed=1', cookie);
    expect(page.body).toMatch(/<p class="notice" id="changed-offer">[^]*<button type="button" class="sign-out-others">Sign out everywhere else<\/button>/);
    const plain = await t.get('/account', cookie);
    expect(plain.body).toContain('<p class="notice" id="changed-offer" hidden>');
    expect(plain.body).toMatch(/class="sign-out-others">Sign out everywhere else<\/button> ends your 1 other session/);
  });
});

describe('ASVS 7.1.2: the per-account session limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ...MEMBER_CODES_ENV, KEYBOUND_SESSION_MAX_PER_ACCOUNT: '3' } });
  });
  afterAll(async () => t?.close());

  it('ASVS 7.1.2: a sign-in at the limit ends the least recently used session and succeeds', async () => {
    const { cookie: first, authenticator, account } = await enrol(t, 'asvs-limit');
    t.clock.advance(2 * 60_000);
    const second = sessionCookie(await signIn(t, authenticator));
    t.clock.advance(2 * 60_000);
    const third = sessionCookie(await signIn(t, authenticator));
    t.clock.advance(2 * 60_000);
    expect(await status(t, first)).toBe(200); // now used more recently than the second
    const fourth = await signIn(t, authenticator);
    expect(fourth.statusCode, fourth.body).toBe(200);
    expect(await status(t, second)).toBe(401);
    for (const live of [first, third, sessionCookie(fourth)]) expect(await status(t, live)).toBe(200);
    const ended = (await t.store.audit.list({ accountId: account.id, limit: 10 })).filter((e) => e.type === 'session.revoked');
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ reason: 'session_limit', details: { session: idOf(second), by: idOf(sessionCookie(fourth)) } });
  });

  it('ASVS 7.1.2: a code sign-in at the limit ends only code sessions, and is refused when passkey sessions fill it', async () => {
    const { cookie: first, authenticator } = await enrol(t, 'asvs-limit-code');
    const app = await enrolTotp(t, first);
    t.clock.advance(60_000);
    const coded = await codeSignIn(t, 'asvs-limit-code', 'totp', app.code(t.clock.now));
    expect(coded.statusCode, coded.body).toBe(200);
    t.clock.advance(2 * 60_000);
    const second = sessionCookie(await signIn(t, authenticator));
    // Full (3): the first passkey session is the least recently used, but a code sign-in ends the code session.
    t.clock.advance(60_000);
    const again = await codeSignIn(t, 'asvs-limit-code', 'totp', app.code(t.clock.now));
    expect(again.statusCode, again.body).toBe(200);
    expect(await status(t, sessionCookie(coded))).toBe(401);
    for (const live of [first, second, sessionCookie(again)]) expect(await status(t, live)).toBe(200);
    // Passkey sessions alone fill the limit: a code sign-in cannot end one, so it is refused.
    t.clock.advance(2 * 60_000);
    for (const used of [first, second]) expect(await status(t, used)).toBe(200); // `again` is now the least recently used
    const third = sessionCookie(await signIn(t, authenticator));
    expect(await status(t, sessionCookie(again))).toBe(401);
    t.clock.advance(60_000);
    const refused = await codeSignIn(t, 'asvs-limit-code', 'totp', app.code(t.clock.now));
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'session_limit_reached', message: expect.stringMatching(/passkey/) });
    for (const live of [first, second, third]) expect(await status(t, live)).toBe(200);
  });

  it('ASVS 7.1.2: the default limit is 20 sessions, and 0 lifts it', async () => {
    const { loadConfig } = await import('../../src/config/load.ts');
    expect(t.config.sessionMaxPerAccount).toBe(3);
    expect(loadConfig({ KEYBOUND_DATABASE_URL: t.database.url }).sessionMaxPerAccount).toBe(20);
    expect(loadConfig({ KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_SESSION_MAX_PER_ACCOUNT: '0' }).sessionMaxPerAccount).toBe(0);
  });
});
