import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { enrol, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';

describe('sessions and the account holder’s own passkeys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('sets a HttpOnly, SameSite=Lax session cookie holding id.secret, and stores only a hash of the secret', async () => {
    const { cookie } = await enrol(t, 'cookie');
    const token = cookie.split('=')[1]!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    const [id, secret] = token.split('.') as [string, string];
    const stored = await t.store.sessions.findById(id);
    expect(stored?.secretHash).toBeDefined();
    expect(stored?.secretHash).not.toContain(secret);
    const options = await t.post('/api/v1/passkeys/authentication/options', {});
    expect(options.statusCode).toBe(200);
    const { authenticator } = await enrol(t, 'cookie-attrs');
    const response = await signIn(t, authenticator);
    const set = String(response.headers['set-cookie']);
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Lax/i);
    expect(set).toMatch(/Path=\//);
    expect(set).not.toMatch(/Secure/); // plain-HTTP localhost only
  });

  it('refuses a token whose secret is wrong, even with a valid id', async () => {
    const { cookie } = await enrol(t, 'forger');
    const [name, token] = cookie.split('=') as [string, string];
    const forged = `${name}=${token.split('.')[0]}.${'A'.repeat(43)}`;
    expect((await t.get('/api/v1/session', forged)).statusCode).toBe(401);
    expect((await t.get('/api/v1/session', `${name}=garbage`)).json().error).toBe('session_required');
    expect((await t.get('/api/v1/session')).statusCode).toBe(401);
  });

  it('ends an AAL2 session after an hour idle, but keeps it alive while it is used, up to 24 hours', async () => {
    const { cookie } = await enrol(t, 'idle');
    for (let i = 0; i < 28; i++) {
      t.clock.advance(50 * 60 * 1000);
      expect((await t.get('/api/v1/session', cookie)).statusCode, `after ${(i + 1) * 50} min`).toBe(200);
    }
    // 24 h 10 min after sign-in, 50 min after the last use: the absolute limit, not the idle one, ends it.
    t.clock.advance(50 * 60 * 1000);
    const expired = await t.get('/api/v1/session', cookie);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error).toBe('session_expired');

    const other = await enrol(t, 'idle2');
    t.clock.advance(60 * 60 * 1000 + 1);
    expect((await t.get('/api/v1/session', other.cookie)).json().error).toBe('session_expired');
  });

  it('signs out, lists and revokes own sessions, and cannot touch another account’s', async () => {
    const { cookie, authenticator } = await enrol(t, 'multi');
    const second = sessionCookie(await signIn(t, authenticator));
    const listed = await t.get('/api/v1/sessions', cookie);
    expect(listed.json().sessions).toHaveLength(2);
    expect(listed.json().sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const secondId = second.split('=')[1]!.split('.')[0]!;
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/v1/sessions/${secondId}`, headers: { cookie, origin: ORIGIN } });
    expect(revoke.statusCode).toBe(204);
    expect((await t.get('/api/v1/session', second)).statusCode).toBe(401);
    const { cookie: stranger } = await enrol(t, 'stranger');
    const strangerId = stranger.split('=')[1]!.split('.')[0]!;
    const cross = await t.app.inject({ method: 'DELETE', url: `/api/v1/sessions/${strangerId}`, headers: { cookie, origin: ORIGIN } });
    expect(cross.json().error).toBe('session_not_found');
    expect((await t.get('/api/v1/session', stranger)).statusCode).toBe(200);
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/keybound_session=;/);
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(401);
    const audit = await t.store.audit.list({ limit: 100 });
    expect(audit.filter((e) => e.type === 'session.revoked').length).toBeGreaterThanOrEqual(2);
  });

  it('adds a passkey only after a recent sign-in, renames, and never removes the last one', async () => {
    const { cookie, account } = await enrol(t, 'manager');
    const added = new SoftAuthenticator();
    const options = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
    expect(options.statusCode, options.body).toBe(200);
    expect(options.json().excludeCredentials).toHaveLength(1);
    const verify = await t.post('/api/v1/passkeys/registration/verify', { response: added.create(options.json()), nickname: 'Phone' }, cookie);
    expect(verify.statusCode, verify.body).toBe(201);
    expect(verify.cookies).toHaveLength(0);
    const list = (await t.get('/api/v1/passkeys', cookie)).json().passkeys as { id: string; nickname: string }[];
    expect(list.map((p) => p.nickname)).toEqual(['Test key', 'Phone']);
    const rename = await t.app.inject({ method: 'PATCH', url: `/api/v1/passkeys/${list[1]!.id}`, payload: { nickname: 'Work phone' }, headers: { cookie, origin: ORIGIN } });
    expect(rename.statusCode).toBe(204);
    const remove = (id: string, c = cookie) => t.app.inject({ method: 'DELETE', url: `/api/v1/passkeys/${id}`, headers: { cookie: c, origin: ORIGIN } });
    // The other one: removing the passkey this session signed in with would leave it no longer fresh.
    expect((await remove(list[1]!.id)).statusCode).toBe(204);
    const last = await remove(list[0]!.id);
    expect(last.statusCode).toBe(409);
    expect(last.json().error).toBe('passkey_last_one');
    expect(await t.store.passkeys.listByAccount(account.id)).toHaveLength(1);

    // Removing a passkey ends the sessions it signed in, on other devices, but not the one asking.
    const lost = new SoftAuthenticator();
    const addLost = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
    expect((await t.post('/api/v1/passkeys/registration/verify', { response: lost.create(addLost.json()), nickname: 'Lost phone' }, cookie)).statusCode).toBe(201);
    const lostSession = sessionCookie(await signIn(t, lost));
    expect((await t.get('/api/v1/session', lostSession)).statusCode).toBe(200);
    const lostId = ((await t.get('/api/v1/passkeys', cookie)).json().passkeys as { id: string; nickname: string }[]).find((p) => p.nickname === 'Lost phone')!.id;
    expect((await remove(lostId)).statusCode).toBe(204);
    expect((await t.get('/api/v1/session', lostSession)).json().error).toBe('session_expired');
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(200);

    t.clock.advance(5 * 60 * 1000 + 1);
    const stale = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('fresh_auth_required');
  });

  it('refuses a cookie-authenticated change from a foreign or missing Origin (CSRF)', async () => {
    const { cookie } = await enrol(t, 'csrf');
    const foreign = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: 'https://evil.example' } });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error).toBe('origin_not_allowed');
    const missing = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } });
    expect(missing.json().error).toBe('origin_not_allowed');
    const sameOrigin = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'sec-fetch-site': 'same-origin' } });
    expect(sameOrigin.statusCode).toBe(204);
  });

  it('records every enrolment, sign-in (with failure reasons) and passkey change in an intact audit chain', async () => {
    const { account, authenticator } = await enrol(t, 'audited');
    await signIn(t, authenticator, { origin: 'https://evil.example' });
    await signIn(t, authenticator);
    const events = (await t.store.audit.list({ accountId: account.id, limit: 50 })).reverse();
    expect(events.map((e) => `${e.type}:${e.outcome}${e.reason ? `:${e.reason}` : ''}`)).toEqual([
      'account.created:success',
      'invitation.created:success',
      'passkey.registered:success',
      'account.enrolled:success',
      'sign_in:success',
      'sign_in:failure:passkey_origin_mismatch',
      'sign_in:success',
    ]);
    const signInEvent = events[6]!;
    expect(signInEvent).toMatchObject({ ip: '127.0.0.1', accountId: account.id });
    expect(signInEvent.userAgent).toBeTypeOf('string');
    expect(signInEvent.details).toMatchObject({ method: 'passkey', acr: 'urn:keybound:aal2:phr' });
    const { verifyChain } = await import('../../src/core/audit/chain.ts');
    const all = await t.store.audit.scan(1, 10_000);
    expect(verifyChain(all.map((e) => ({ ...e, details: e.detailsJson }))).ok).toBe(true);
  });

  it('enrolment links: unknown 404, expired 410, used 410, each with a clear page and code', async () => {
    const unknown = await t.get('/enrol/AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('enrolment_token_unknown');
    expect((await t.get('/enrol/not-a-token')).statusCode).toBe(404);
    const expiring = await invite(t.deps, { username: 'late', createdBy: 'test', ttlMs: 60_000 });
    if (!expiring.ok) throw new Error();
    const fine = await t.get(`/enrol/${expiring.value.token}`);
    expect(fine.statusCode).toBe(200);
    expect(fine.body).toContain('Create passkey');
    t.clock.advance(60_001);
    const expired = await t.get(`/enrol/${expiring.value.token}`);
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('enrolment_token_expired');
    expect((await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: expiring.value.token })).json().error).toBe('enrolment_token_expired');
    const { token } = await enrol(t, 'used-link');
    const used = await t.get(`/enrol/${token}`);
    expect(used.statusCode).toBe(410);
    expect(used.body).toContain('enrolment_token_used');
    expect(used.body).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});
