/**
 * Issue 10, finding 6: refresh tokens and the provider's session end with the Keybound session that
 * authorized them. Each way a session ends (sign-out, revocation from another device, removing the
 * passkey, the passkey flagged by clone detection, a change of the account's state) is tried with a
 * live refresh grant, on SQLite and PostgreSQL; `offline_access` grants outlive the session but not
 * the passkey or the account's state. (Two instances on one PostgreSQL:
 * test/reliability/grantRevocation.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/core/tokens.ts';
import { endAccountGrants } from '../../src/services/grants.ts';
import { enrol, ManualClock, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { authorize, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';

const sessionId = (cookie: string) => cookie.split('=')[1]!.split('.')[0]!;

/** An application's refresh token obtained through the browser signed in with `cookie`. */
async function refreshGrant(t: TestApp, clientId: string, cookie: string, extra: Record<string, string> = {}): Promise<string> {
  const { code, verifier } = await authorize(t, clientId, cookie, extra);
  const tokens = await tokenRequest(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId });
  expect(tokens.statusCode, tokens.body).toBe(200);
  const refreshToken = (tokens.json() as { refresh_token?: string }).refresh_token;
  if (!refreshToken) throw new Error(`no refresh token: ${tokens.body}`);
  return refreshToken;
}

/** Uses the refresh token once; returns the rotated one, or the error. */
async function refresh(t: TestApp, clientId: string, refreshToken: string): Promise<{ ok: true; token: string } | { ok: false; error: string }> {
  const response = await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
  const body = response.json() as { refresh_token?: string; error?: string };
  return response.statusCode === 200 ? { ok: true, token: body.refresh_token! } : { ok: false, error: body.error ?? String(response.statusCode) };
}

async function addPasskey(t: TestApp, cookie: string, authenticator: SoftAuthenticator, nickname: string): Promise<string> {
  const options = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
  const verify = await t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json()), nickname }, cookie);
  expect(verify.statusCode, verify.body).toBe(201);
  const listed = (await t.get('/api/v1/passkeys', cookie)).json().passkeys as { id: string; nickname: string }[];
  return listed.find((p) => p.nickname === nickname)!.id;
}

describe.each(BACKENDS)('OpenID grants end with their Keybound session on %s', (backend) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (env: Record<string, string> = {}) => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env });
    return { t, clientId: await registerTestClient(t) };
  };

  it('finding 6: sign-out ends the refresh grant', async () => {
    const { t, clientId } = await start();
    const { cookie } = await enrol(t, 'leaver');
    let token = await refreshGrant(t, clientId, cookie);
    const once = await refresh(t, clientId, token);
    expect(once.ok).toBe(true);
    if (once.ok) token = once.token;
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } });
    expect(out.statusCode).toBe(204);
    expect(await refresh(t, clientId, token)).toEqual({ ok: false, error: 'invalid_grant' });
    // The provider's own session ended too: nothing the sign-in made is left.
    expect(await t.store.oidcGrantSessions.findBySessions([sessionId(cookie)])).toEqual([]);
  });

  it('finding 6: session revocation from another device ends the refresh grant', async () => {
    const { t, clientId } = await start();
    const { cookie, authenticator } = await enrol(t, 'two-devices');
    const laptop = sessionCookie(await signIn(t, authenticator));
    const token = await refreshGrant(t, clientId, laptop);
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/v1/sessions/${sessionId(laptop)}`, headers: { cookie, origin: ORIGIN } });
    expect(revoke.statusCode).toBe(204);
    // The issue measured three refreshes succeeding after this point.
    for (let i = 0; i < 3; i++) expect(await refresh(t, clientId, token)).toEqual({ ok: false, error: 'invalid_grant' });
    // A grant made from the device that stays signed in lives on.
    const kept = await refreshGrant(t, clientId, cookie);
    expect((await refresh(t, clientId, kept)).ok).toBe(true);
  });

  it('a sign-in that replaces the browser\'s session (ASVS 7.2.4) carries its grants over; they end with the new session', async () => {
    const { t, clientId } = await start();
    const { cookie, authenticator } = await enrol(t, 'signs-in-again');
    let token = await refreshGrant(t, clientId, cookie);
    // The same browser signs in again, presenting its cookie: the old session ends, its grant does not.
    const options = await t.post('/api/v1/passkeys/authentication/options', {}, cookie);
    const again = await t.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json()) }, cookie);
    expect(again.statusCode, again.body).toBe(200);
    const replacement = sessionCookie(again);
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(401);
    const carried = await refresh(t, clientId, token);
    expect(carried.ok).toBe(true);
    if (carried.ok) token = carried.token;
    expect((await t.store.oidcGrantSessions.findBySessions([sessionId(replacement)])).length).toBe(1);
    // Signing out of the new session ends it.
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: replacement, origin: ORIGIN } });
    expect(out.statusCode).toBe(204);
    expect(await refresh(t, clientId, token)).toEqual({ ok: false, error: 'invalid_grant' });
  });

  it('finding 6: passkey removal ends the refresh grant, offline_access included', async () => {
    const { t, clientId } = await start();
    const { cookie } = await enrol(t, 'loses-phone');
    const phone = new SoftAuthenticator();
    const phoneId = await addPasskey(t, cookie, phone, 'Phone');
    const phoneSession = sessionCookie(await signIn(t, phone));
    const token = await refreshGrant(t, clientId, phoneSession);
    const offline = await refreshGrant(t, clientId, phoneSession, { scope: 'openid offline_access', prompt: 'consent' });
    const remove = await t.app.inject({ method: 'DELETE', url: `/api/v1/passkeys/${phoneId}`, headers: { cookie, origin: ORIGIN } });
    expect(remove.statusCode, remove.body).toBe(204);
    expect(await refresh(t, clientId, token)).toEqual({ ok: false, error: 'invalid_grant' });
    expect(await refresh(t, clientId, offline)).toEqual({ ok: false, error: 'invalid_grant' });
  });

  it('finding 6: passkey flagged by clone detection ends the sessions and refresh grants it signed in', async () => {
    const { t, clientId } = await start();
    const { cookie, authenticator, account } = await enrol(t, 'cloned');
    const signedIn = sessionCookie(await signIn(t, authenticator));
    const token = await refreshGrant(t, clientId, signedIn);
    const offline = await refreshGrant(t, clientId, signedIn, { scope: 'openid offline_access', prompt: 'consent' });
    // A clone presents a counter no higher than the one stored (WebAuthn §6.1.1).
    const stored = (await t.store.passkeys.listByAccount(account.id))[0]!;
    const regressed = await signIn(t, authenticator, { signCount: stored.signCount });
    expect(regressed.json().error).toBe('passkey_sign_count_regressed');
    expect((await t.get('/api/v1/session', signedIn)).json().error).toBe('session_expired');
    expect((await t.get('/api/v1/session', cookie)).json().error).toBe('session_expired');
    expect(await refresh(t, clientId, token)).toEqual({ ok: false, error: 'invalid_grant' });
    expect(await refresh(t, clientId, offline)).toEqual({ ok: false, error: 'invalid_grant' });
  });

  it('finding 6: account state change ends the refresh grant, offline_access included, even after reactivation', async () => {
    const { t, clientId } = await start();
    const { cookie, account } = await enrol(t, 'suspended');
    const token = await refreshGrant(t, clientId, cookie);
    const offline = await refreshGrant(t, clientId, cookie, { scope: 'openid offline_access', prompt: 'consent' });
    // What a suspension does: the status changes and every session ends, in one transaction.
    await t.store.transaction(async (tx) => {
      await tx.accounts.setStatus(account.id, 'suspended', t.clock.now);
      await tx.sessions.revokeAllForAccount(account.id, t.clock.now);
      await endAccountGrants(tx, account.id);
    });
    expect(await refresh(t, clientId, token)).toEqual({ ok: false, error: 'invalid_grant' });
    await t.store.accounts.setStatus(account.id, 'active', t.clock.now);
    // Reactivated: nothing issued before the suspension comes back.
    expect(await refresh(t, clientId, token)).toEqual({ ok: false, error: 'invalid_grant' });
    expect(await refresh(t, clientId, offline)).toEqual({ ok: false, error: 'invalid_grant' });
  });

  it('finding 6: a suspension that only revokes the sessions still ends the (non-offline) refresh grant after reactivation', async () => {
    const { t, clientId } = await start();
    const { cookie, account } = await enrol(t, 'bare-suspension');
    const token = await refreshGrant(t, clientId, cookie);
    await t.store.accounts.setStatus(account.id, 'suspended', t.clock.now);
    await t.store.sessions.revokeAllForAccount(account.id, t.clock.now);
    await t.store.accounts.setStatus(account.id, 'active', t.clock.now);
    expect(await refresh(t, clientId, token)).toEqual({ ok: false, error: 'invalid_grant' });
  });

  it('finding 6: offline_access outlives sign-out, not the passkey', async () => {
    const { t, clientId } = await start();
    const { cookie } = await enrol(t, 'offline');
    const offline = await refreshGrant(t, clientId, cookie, { scope: 'openid offline_access', prompt: 'consent' });
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } })).statusCode).toBe(204);
    const after = await refresh(t, clientId, offline);
    expect(after.ok).toBe(true);
  });

  it("finding 6: a refresh token never outlives its session's absolute limit", async () => {
    // A refresh-token lifetime far past the AAL2 session's 24 h.
    const { t, clientId } = await start({ KEYBOUND_OIDC_REFRESH_TOKEN_TTL: String(30 * 86400) });
    const { cookie } = await enrol(t, 'long-lived');
    const session = await t.store.sessions.findById(sessionId(cookie));
    expect(session!.aal).toBe(2);
    const token = await refreshGrant(t, clientId, cookie);
    // Lifetime given to a refresh token (exp - iat), against what is left of the session (the
    // provider stamps iat from the real clock, the session lives on the test's clock).
    const lifetime = async (value: string) => {
      const stored = await t.store.oidcPayloads.find('RefreshToken', hashSecret(value), t.clock.now);
      const { exp, iat } = JSON.parse(stored!.payload) as { exp: number; iat: number };
      return exp - iat;
    };
    const left = () => Math.ceil((session!.expiresAt - t.clock.now) / 1000);
    expect(await lifetime(token)).toBeLessThanOrEqual(left());
    // Twenty hours on, a rotated token gets only what is left of the session.
    t.clock.advance(20 * 3600 * 1000);
    const rotated = await refresh(t, clientId, token);
    expect(rotated.ok).toBe(true);
    if (!rotated.ok) return;
    expect(await lifetime(rotated.token)).toBeLessThanOrEqual(left());
    // Past the session's absolute limit, the refresh token is dead.
    t.clock.advance(4 * 3600 * 1000 + 1000);
    expect(await refresh(t, clientId, rotated.token)).toEqual({ ok: false, error: 'invalid_grant' });
  });
});
