/**
 * Account administration (issue 12) and OWASP ASVS 5.0 7.4.5, in-process on SQLite and PostgreSQL:
 * suspend refuses passkey, code and recovery-code sign-in until resumed; offboard revokes sessions,
 * grants, refresh tokens, passkeys, code factors, links and pending code sign-ins in one go and for
 * good; the admin API's gates (admin role, level, freshness) and its answers; an administrator ends
 * one account's or everyone's sessions and grants; every change is audited and told to the holder
 * through a real SMTP server on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/services/adminAccess.ts';
import { invite } from '../../src/services/invitations.ts';
import { offboardAccount, resumeAccount, revokeSessions, suspendAccount } from '../../src/services/lifecycle.ts';
import { completeSignIn } from '../../src/services/signIn.ts';
import { enrol, ManualClock, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { authorize, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';
import { codeSignIn, enrolTotp, MEMBER_CODES_ENV, startMailSink, type MailSink } from '../codes/support.ts';

const CONTEXT = { ip: '192.0.2.1', userAgent: 'test' };

describe.each(BACKENDS)('account lifecycle on %s', (backend) => {
  let t: TestApp;
  let mail: MailSink;
  let admin: { cookie: string; authenticator: import('../helpers/softAuthenticator.ts').SoftAuthenticator };
  let clientId: string;

  const api = (method: 'POST' | 'PATCH' | 'GET', url: string, body?: unknown, cookie = admin.cookie) =>
    t.app.inject({ method, url, ...(body !== undefined ? { payload: body as object } : {}), headers: { origin: ORIGIN, cookie, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) } });

  /** A refresh token and an opaque access token, through the browser signed in with `cookie`. */
  const tokensFor = async (cookie: string) => {
    const { code, verifier } = await authorize(t, clientId, cookie);
    const tokens = await tokenRequest(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId });
    expect(tokens.statusCode, tokens.body).toBe(200);
    return tokens.json() as { access_token: string; refresh_token: string };
  };
  const refreshWorks = async (token: string) => (await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: token, client_id: clientId })).statusCode === 200;
  const userinfo = (accessToken: string) => t.app.inject({ method: 'GET', url: '/oidc/me', headers: { authorization: `Bearer ${accessToken}` } });

  /** A member with a passkey, an authenticator app and recovery codes, and an email address. */
  const member = async (username: string) => {
    const invited = await invite(t.deps, { username, email: `${username}@example.test`, createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const enrolled = await enrol(t, username);
    const totp = await enrolTotp(t, enrolled.cookie);
    const codes = (await t.post('/api/v1/recovery-codes', {}, enrolled.cookie)).json().codes as string[];
    return { ...enrolled, totp, codes };
  };

  beforeAll(async () => {
    mail = await startMailSink();
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { ...MEMBER_CODES_ENV, KEYBOUND_SMTP_URL: mail.url, KEYBOUND_CODE_FREE_FAILURES: '1000' } });
    const root = await enrol(t, 'root', undefined, 'admin');
    admin = { cookie: root.cookie, authenticator: root.authenticator };
    clientId = await registerTestClient(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  /** A self-service recovery with one saved code (README "Recovery"): recovery codes never sign in. */
  async function recoverWith(username: string, code: string) {
    const start = await t.post('/api/v1/recovery/start', { username, factor: 'recovery' });
    return t.post('/api/v1/recovery/verify', { attemptId: start.json().attemptId, code });
  }

  it('suspend: the session, refresh token and access token end at once; passkey, code and recovery-code sign-in are refused; resume restores sign-in', async () => {
    const m = await member('sus');
    const tokens = await tokensFor(m.cookie);
    // A code sign-in begun before the suspension, finished after it.
    const begun = (await t.post('/api/v1/codes/sign-in/start', { username: 'sus', factor: 'totp' })).json().attemptId as string;
    const seen = mail.messages.length;

    const suspended = await api('POST', '/api/v1/admin/accounts/sus/suspend', { reason: 'laptop stolen' });
    expect(suspended.statusCode, suspended.body).toBe(200);
    expect(suspended.json()).toMatchObject({ account: { username: 'sus', status: 'suspended' }, from: 'active', revoked: { sessions: 1, grants: 1, passkeys: 0, codeFactors: 0 } });
    expect((await t.get('/api/v1/session', m.cookie)).json().error).toBe('session_expired');
    expect(await refreshWorks(tokens.refresh_token)).toBe(false);
    expect((await userinfo(tokens.access_token)).statusCode).toBe(401);

    const passkey = await signIn(t, m.authenticator);
    expect(passkey.statusCode).toBe(403);
    expect(passkey.json().error).toBe('account_not_active');
    t.clock.advance(30_000);
    const late = await t.post('/api/v1/codes/sign-in/verify', { attemptId: begun, code: m.totp.code(t.clock.now) });
    expect(late.json().error).toBe('account_not_active');
    // Started after: the answer is the one an unknown username gets (nothing to tell a stranger).
    expect((await codeSignIn(t, 'sus', 'totp', m.totp.code(t.clock.now))).json().error).toBe('code_invalid');
    expect((await recoverWith('sus', m.codes[0]!)).json().error).toBe('code_invalid');
    // No enrolment link either.
    expect(await invite(t.deps, { username: 'sus', createdBy: 'test' })).toMatchObject({ ok: false, code: 'account_not_active' });

    const notice = await mail.messageFor('sus@example.test', seen);
    expect(notice.raw).toMatch(/Subject: Your account was suspended/);
    expect(notice.raw).toMatch(/laptop stolen/);
    const [event] = await t.store.audit.list({ type: 'account.suspended', limit: 1 });
    expect(event).toMatchObject({ reason: 'laptop stolen', details: { by: 'admin:root', username: 'sus', from: 'active', to: 'suspended', reason: 'laptop stolen' } });

    // Resume: every factor signs in again; what the suspension ended stays ended.
    const resumed = await api('POST', '/api/v1/admin/accounts/sus/resume', {});
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json()).toMatchObject({ account: { status: 'active' }, from: 'suspended' });
    expect((await api('POST', '/api/v1/admin/accounts/sus/resume', {})).json().error).toBe('account_status_conflict');
    expect((await signIn(t, m.authenticator)).statusCode).toBe(200);
    t.clock.advance(30_000);
    expect((await codeSignIn(t, 'sus', 'totp', m.totp.code(t.clock.now))).statusCode).toBe(200);
    expect((await recoverWith('sus', m.codes[0]!)).statusCode).toBe(200);
    expect((await t.get('/api/v1/session', m.cookie)).statusCode).toBe(401);
    expect(await refreshWorks(tokens.refresh_token)).toBe(false);
  });

  it('offboard: one transaction revokes sessions, grants, passkeys, code factors, links and pending code sign-ins, for good, and says until when JWTs stay valid', async () => {
    const m = await member('gone');
    const second = sessionCookie(await signIn(t, m.authenticator));
    const tokens = await tokensFor(second);
    // A pending link for a new device (invite refuses an active account: README "Recovery").
    expect((await t.post('/api/v1/devices/link', {}, m.cookie)).statusCode).toBe(201);
    const pending = (await t.post('/api/v1/codes/sign-in/start', { username: 'gone', factor: 'totp' })).json().attemptId as string;
    const account = (await t.store.accounts.findByUsername('gone'))!;

    const result = await offboardAccount(t.deps, { username: 'gone', actor: CLI_ACTOR, context: CONTEXT, reason: 'left the company' });
    if (!result.ok) throw new Error(result.code);
    expect(result.value.revoked).toEqual({ sessions: 2, grants: 1, passkeys: 1, codeFactors: 2, invitations: 1, pendingCodeSignIns: 1, pendingApprovals: 0, workloads: 0, apiKeys: 0, delegations: 0, machinesTransferredTo: null });
    expect(result.value.account.status).toBe('offboarded');
    expect(result.value.selfContained.accessTokensValidUntil).toBe(t.clock.now + t.config.oidc.accessTokenTtlS * 1000);

    for (const cookie of [m.cookie, second]) expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(401);
    expect(await refreshWorks(tokens.refresh_token)).toBe(false);
    expect((await userinfo(tokens.access_token)).statusCode).toBe(401);
    expect((await t.store.passkeys.listByAccount(account.id)).map((p) => p.status)).toEqual(['disabled']);
    expect((await t.store.authenticators.listBound(account.id)).map((a) => a.status)).toEqual(['disabled', 'disabled']);
    expect(await t.store.invitations.hasUsable(account.id, t.clock.now)).toBe(false);
    t.clock.advance(30_000);
    expect((await t.post('/api/v1/codes/sign-in/verify', { attemptId: pending, code: m.totp.code(t.clock.now) })).json().error).toBe('code_expired');
    expect((await signIn(t, m.authenticator)).json().error).toBe('passkey_flagged');
    // For good: nothing brings it back or changes it.
    for (const [method, url, body] of [
      ['POST', '/api/v1/admin/accounts/gone/resume', {}],
      ['POST', '/api/v1/admin/accounts/gone/offboard', {}],
      ['POST', '/api/v1/admin/accounts/gone/suspend', {}],
      ['POST', '/api/v1/admin/accounts/gone/role', { role: 'member' }],
      ['PATCH', '/api/v1/admin/accounts/gone', { displayName: 'Back' }],
    ] as const) {
      const refused = await api(method, url, body);
      expect(refused.statusCode, `${url}: ${refused.body}`).toBe(409);
      expect(refused.json().error).toBe('account_status_conflict');
    }
    expect(await invite(t.deps, { username: 'gone', createdBy: 'test' })).toMatchObject({ ok: false, code: 'account_not_active' });
    const [event] = await t.store.audit.list({ type: 'account.offboarded', limit: 1 });
    expect(event?.details).toMatchObject({ by: 'cli', from: 'active', to: 'offboarded', reason: 'left the company', revoked: result.value.revoked });
  });

  it('admin API gates: a member gets 403 admin_required; a stale admin session may read but not change (fresh_auth_required)', async () => {
    const m = await member('plain');
    for (const [method, url, body] of [
      ['GET', '/api/v1/admin/accounts', undefined],
      ['GET', '/api/v1/admin/accounts/root', undefined],
      ['POST', '/api/v1/admin/accounts/root/suspend', {}],
      ['POST', '/api/v1/admin/sessions/revoke', { all: true }],
    ] as const) {
      const refused = await api(method, url, body, m.cookie);
      expect(refused.statusCode, url).toBe(403);
      expect(refused.json().error).toBe('admin_required');
    }
    expect((await api('GET', '/api/v1/admin/accounts', undefined, '')).statusCode).toBe(401);
    // The services refuse a member's session themselves too (a new route could not skip it).
    const active = { session: (await t.store.sessions.findById(m.cookie.split('=')[1]!.split('.')[0]!))!, account: (await t.store.accounts.findByUsername('plain'))! };
    expect(await revokeSessions(t.deps, { target: { all: true }, actor: { kind: 'admin', active }, context: CONTEXT })).toMatchObject({ ok: false, code: 'admin_required' });

    const stale = sessionCookie(await signIn(t, admin.authenticator));
    t.clock.advance(t.config.freshAuthMaxAgeMs + 1000);
    expect((await api('GET', '/api/v1/admin/accounts/plain', undefined, stale)).statusCode).toBe(200);
    const refused = await api('POST', '/api/v1/admin/accounts/plain/suspend', {}, stale);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('fresh_auth_required');
    expect((await t.store.accounts.findByUsername('plain'))?.status).toBe('active');
    admin.cookie = sessionCookie(await signIn(t, admin.authenticator));
    // An administrator cannot suspend themselves (nobody would be left to resume them).
    expect((await api('POST', '/api/v1/admin/accounts/root/suspend', {})).json().error).toBe('account_status_conflict');
    // Bad input: 400, never a 5xx.
    for (const [method, url, body] of [
      ['POST', '/api/v1/admin/accounts/plain/role', { role: 'owner' }],
      ['PATCH', '/api/v1/admin/accounts/plain', {}],
      ['PATCH', '/api/v1/admin/accounts/plain', { email: 'not an address' }],
      ['POST', '/api/v1/admin/sessions/revoke', { username: 'plain', all: true }],
      ['POST', '/api/v1/admin/accounts/plain/suspend', { reason: 'x'.repeat(501) }],
      ['GET', '/api/v1/admin/accounts/bad%20name', undefined],
    ] as const) {
      const answer = await api(method, url, body);
      expect(answer.statusCode, `${url} ${JSON.stringify(body)}: ${answer.body}`).toBe(400);
    }
    expect((await api('GET', '/api/v1/admin/accounts/nobody')).json().error).toBe('account_not_found');
  });

  it('admin API reads: list with ?query=, status, last sign-in and factors; one account with passkeys, code factors, sessions, grants and links', async () => {
    const m = await member('shown');
    await tokensFor(m.cookie);
    expect((await t.post('/api/v1/devices/link', {}, m.cookie)).statusCode).toBe(201);
    const listed = await api('GET', '/api/v1/admin/accounts?query=SHOW');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().accounts).toEqual([
      expect.objectContaining({ username: 'shown', status: 'active', role: 'member', lastSignInAt: expect.any(String), factors: { passkeys: 1, deviceBoundPasskeys: 1, codeFactors: expect.arrayContaining(['totp', 'recovery_codes']) } }),
    ]);
    expect((await api('GET', '/api/v1/admin/accounts?query=%25')).json().accounts).toEqual([]);
    const shown = (await api('GET', '/api/v1/admin/accounts/shown')).json();
    expect(shown).toMatchObject({
      username: 'shown',
      email: 'shown@example.test',
      passkeys: [{ kind: 'device-bound', status: 'active', nickname: 'Test key', lastUsedAt: expect.any(String) }],
      sessions: [{ aal: expect.any(Number) }],
      grants: [{ clientId, offline: false }],
      pendingLinks: [{ createdBy: 'shown' }],
    });
    expect(shown.codeFactors).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'totp', status: 'active' }), expect.objectContaining({ kind: 'recovery_codes', status: 'active', recoveryCodesLeft: 10 })]),
    );
    // Nothing secret: no token, hash, key or seed.
    expect(JSON.stringify(shown)).not.toMatch(/secret|publicKey|hash/i);
  });

  it('admin API changes: details and role (raising to admin awaits a second administrator: 202; test/api/assistedRecovery.test.ts), each audited with old and new values and told to the holder', async () => {
    await member('edit');
    const seen = mail.messages.length;
    const patched = await api('PATCH', '/api/v1/admin/accounts/edit', { email: 'edit.new@example.test', displayName: 'Edith' });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ email: 'edit.new@example.test', displayName: 'Edith' });
    // Both the old and the new address hear of it.
    expect((await mail.messageFor('edit@example.test', seen)).raw).toMatch(/Subject: Your account details changed/);
    expect((await mail.messageFor('edit.new@example.test', seen)).raw).toMatch(/email address and display name/);
    const [updated] = await t.store.audit.list({ type: 'account.updated', limit: 1 });
    expect(updated?.details).toMatchObject({ by: 'admin:root', changes: { email: { from: 'edit@example.test', to: 'edit.new@example.test' }, displayName: { from: 'edit', to: 'Edith' } } });

    const raised = await api('POST', '/api/v1/admin/accounts/edit/role', { role: 'admin' });
    expect(raised.statusCode, raised.body).toBe(202);
    expect(raised.json()).toEqual({ approval: { id: expect.any(String), state: 'awaiting_approval' } });
    expect((await t.store.accounts.findByUsername('edit'))?.role).toBe('member');

    // Lowering works (an admin made by the operator's CLI, lowered through the API).
    const other = await enrol(t, 'second-admin', undefined, 'admin');
    await t.store.accounts.update(other.account.id, { email: 'second@example.test' }, t.clock.now);
    const before = mail.messages.length;
    const lowered = await api('POST', '/api/v1/admin/accounts/second-admin/role', { role: 'member' });
    expect(lowered.json()).toEqual({ username: 'second-admin', role: 'member', from: 'admin' });
    const [changed] = await t.store.audit.list({ type: 'account.role_changed', limit: 1 });
    expect(changed?.details).toMatchObject({ username: 'second-admin', from: 'admin', to: 'member', by: 'admin:root' });
    expect((await mail.messageFor('second@example.test', before)).raw).toMatch(/changed your role from admin to member/);
  });

  it('ASVS 7.4.5: an administrator ends one account\'s sessions and grants, or everyone\'s', async () => {
    const a = await member('rev-a');
    const b = await member('rev-b');
    const aTokens = await tokensFor(a.cookie);
    const bTokens = await tokensFor(b.cookie);
    const one = await api('POST', '/api/v1/admin/sessions/revoke', { username: 'rev-a' });
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toEqual({ accounts: 1, sessions: 1, grants: 1 });
    expect((await t.get('/api/v1/session', a.cookie)).statusCode).toBe(401);
    expect(await refreshWorks(aTokens.refresh_token)).toBe(false);
    expect((await t.get('/api/v1/session', b.cookie)).statusCode).toBe(200);
    // The account stays active: it signs in again.
    expect((await signIn(t, a.authenticator)).statusCode).toBe(200);

    const all = await api('POST', '/api/v1/admin/sessions/revoke', { all: true });
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json().sessions).toBeGreaterThanOrEqual(3);
    for (const cookie of [b.cookie, admin.cookie]) expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(401);
    expect(await refreshWorks(bTokens.refresh_token)).toBe(false);
    expect(await t.store.sessions.accountsWithLive(t.clock.now)).toEqual([]);
    const [event] = await t.store.audit.list({ type: 'sessions.revoked_by_admin', limit: 1 });
    expect(event?.details).toMatchObject({ by: 'admin:root', scope: 'all' });
    admin.cookie = sessionCookie(await signIn(t, admin.authenticator));
  });
});

describe.each(BACKENDS)('a sign-in racing a suspension on %s', (backend) => {
  let t: TestApp | undefined;
  afterAll(async () => t?.close());

  it('a sign-in that read the account as active before a suspension committed is refused, so resuming brings no session of it back', async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()) });
    const app = t;
    const { body } = await enrol(app, 'racer');
    const passkeyId = body.passkey.id as string;
    // What the sign-in read before its transaction: the account, active.
    const stale = (await app.store.accounts.findByUsername('racer'))!;
    expect(stale.status).toBe('active');
    // The suspension commits before the sign-in's transaction begins.
    expect(await suspendAccount(app.deps, { username: 'racer', actor: CLI_ACTOR, context: CONTEXT })).toMatchObject({ ok: true });
    const signedIn = await completeSignIn(app.deps, {
      account: stale,
      method: 'passkey',
      factors: [{ kind: 'passkey', userPresent: true, userVerified: true, backupEligible: false, attestationTrusted: false }],
      passkeyId,
      context: CONTEXT,
    });
    expect(signedIn).toMatchObject({ ok: false, code: 'account_not_active' });
    expect(await resumeAccount(app.deps, { username: 'racer', actor: CLI_ACTOR, context: CONTEXT })).toMatchObject({ ok: true });
    expect(await app.store.sessions.listActive(stale.id, app.clock.now)).toEqual([]);
  });
});
