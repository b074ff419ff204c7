/**
 * Assisted recovery with two-person approval, and raising a role to admin with a second
 * administrator's approval (issue 12; README "Recovery", "Account lifecycle"), through the JSON API
 * on SQLite and PostgreSQL, with every notice to the holder delivered through a real SMTP server on
 * loopback. The clock is moved by hand past the delay (KEYBOUND_MEMBER_RECOVERY_DELAY=10m).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { approveRecovery, cancelRecovery } from '../../src/services/recovery/assisted.ts';
import { enrol, ManualClock, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { startMailSink, type MailSink } from '../codes/support.ts';

const DELAY_MS = 10 * 60_000;
const tokenOf = (url: string) => url.slice(url.indexOf('/enrol/') + '/enrol/'.length);

interface Person {
  username: string;
  email: string;
  cookie: string;
  authenticator: SoftAuthenticator;
  accountId: string;
}

describe.each(BACKENDS)('assisted recovery on %s', (backend) => {
  let t: TestApp;
  let mail: MailSink;
  let root: Person;
  let second: Person;
  let n = 0;

  const call = (method: 'POST' | 'GET', url: string, cookie: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { origin: ORIGIN, cookie, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { payload: (body ?? {}) as object } : {}) });

  async function person(role: 'admin' | 'member' = 'member'): Promise<Person> {
    const username = `${role}-${++n}`;
    const email = `${username}@example.test`;
    const invited = await invite(t.deps, { username, email, role, createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const enrolled = await enrol(t, username, new SoftAuthenticator(), role);
    return { username, email, cookie: enrolled.cookie, authenticator: enrolled.authenticator, accountId: invited.value.account.id };
  }

  /** A new passkey sign-in, so the session is fresh again after the clock moved. */
  async function refresh(p: Person): Promise<Person> {
    const signedIn = await signIn(t, p.authenticator);
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    p.cookie = sessionCookie(signedIn);
    return p;
  }

  const request = (by: Person, username: string, revokeExisting = false) => call('POST', '/api/v1/admin/recoveries', by.cookie, { username, reason: 'ticket 42: lost phone, identified by video call', revokeExisting });
  const approve = (by: Person, id: string) => call('POST', `/api/v1/admin/recoveries/${id}/approve`, by.cookie);
  const link = (by: Person, id: string) => call('POST', `/api/v1/admin/recoveries/${id}/link`, by.cookie);
  const events = async (accountId: string, type: string) => (await t.store.audit.list({ accountId, type, limit: 50 })).reverse();
  const subjectOf = (raw: string) => /^Subject: (.*)$/m.exec(raw)?.[1];

  async function redeem(url: string, authenticator = new SoftAuthenticator()) {
    const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: tokenOf(url) });
    if (options.statusCode !== 200) return options;
    return t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json()), nickname: 'Replacement' });
  }

  beforeAll(async () => {
    mail = await startMailSink();
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_SMTP_URL: mail.url, KEYBOUND_MEMBER_RECOVERY_DELAY: '10m' } });
    root = await person('admin');
    second = await person('admin');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  it('request -> approve -> wait -> link -> enrol: the holder signs in with the new passkey; told at request, approval, release and completion; every step audited', async () => {
    const holder = await person();
    const seen = mail.messages.length;
    const requested = await request(root, holder.username, true);
    expect(requested.statusCode, requested.body).toBe(201);
    const { id, state } = requested.json() as { id: string; state: string };
    expect(state).toBe('awaiting_approval');
    expect(subjectOf((await mail.messageFor(holder.email, seen)).raw)).toBe('An account recovery was requested for your account');
    expect((await mail.messageFor(holder.email, seen)).raw).toContain(`${ORIGIN}/account`);

    // Before approval, the link is refused (no delay has started).
    expect((await link(root, id)).json().error).toBe('recovery_not_released');

    const seenApproval = mail.messages.length;
    const approved = await approve(second, id);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toEqual({ state: 'waiting', releaseAt: new Date(t.clock.now + DELAY_MS).toISOString() });
    expect(subjectOf((await mail.messageFor(holder.email, seenApproval)).raw)).toBe('An account recovery for your account was approved');
    expect((await call('GET', `/api/v1/admin/recoveries/${id}`, root.cookie)).json()).toMatchObject({ id, username: holder.username, state: 'waiting', requestedBy: `admin:${root.username}`, approvedBy: `admin:${second.username}`, revokeExisting: true });

    // Before release: 409 with retry_after.
    t.clock.advance(DELAY_MS - 30_000);
    await refresh(root);
    const early = await link(root, id);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ error: 'recovery_not_released', retry_after: 30 });
    expect(early.headers['retry-after']).toBe('30');
    // Only the requester gets the link.
    t.clock.advance(30_000);
    await refresh(second);
    expect((await link(second, id)).json().error).toBe('approval_not_allowed');

    const seenRelease = mail.messages.length;
    const issued = await link(root, id);
    expect(issued.statusCode, issued.body).toBe(201);
    expect(issued.headers['cache-control']).toBe('no-store');
    const body = issued.json() as { url: string; expiresAt: string };
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'url']);
    expect(body.url).toMatch(new RegExp(`^${ORIGIN}/enrol/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect(body.expiresAt).toBe(new Date(t.clock.now + 15 * 60_000).toISOString());
    expect(subjectOf((await mail.messageFor(holder.email, seenRelease)).raw)).toBe('An account recovery for your account is released');
    // Once: a second call is refused.
    const again = await link(root, id);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('recovery_link_issued');

    const seenDone = mail.messages.length;
    const replacement = new SoftAuthenticator();
    const enrolled = await redeem(body.url, replacement);
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    const cookie = sessionCookie(enrolled);
    expect((await t.get('/api/v1/session', cookie)).json()).toMatchObject({ account: { id: holder.accountId } });
    expect(subjectOf((await mail.messageFor(holder.email, seenDone)).raw)).toBe('Your account was recovered with a new passkey');
    // revokeExisting: the old passkey and the old session are gone; the new passkey signs in.
    expect((await t.get('/api/v1/session', holder.cookie)).statusCode).toBe(401);
    expect((await signIn(t, holder.authenticator)).statusCode).not.toBe(200);
    expect((await signIn(t, replacement)).statusCode).toBe(200);
    const passkeys = await t.store.passkeys.listByAccount(holder.accountId);
    expect(passkeys.filter((p) => p.status === 'active').map((p) => p.nickname)).toEqual(['Replacement']);
    // Single use: a second redemption is refused.
    expect((await redeem(body.url)).statusCode).toBe(410);

    const trail = [
      ...(await events(holder.accountId, 'assisted_recovery.requested')),
      ...(await events(holder.accountId, 'assisted_recovery.approved')),
      ...(await events(holder.accountId, 'assisted_recovery.released')),
      ...(await events(holder.accountId, 'assisted_recovery.link_issued')),
      ...(await events(holder.accountId, 'assisted_recovery.redeemed')),
    ];
    expect(trail.map((e) => `${e.type}:${e.outcome}`)).toEqual([
      'assisted_recovery.requested:success',
      'assisted_recovery.approved:success',
      'assisted_recovery.released:success',
      'assisted_recovery.link_issued:success',
      'assisted_recovery.redeemed:success',
    ]);
    for (const e of trail.slice(1)) expect(e.details).toMatchObject({ approval: id, requestedBy: `admin:${root.username}`, approvedBy: `admin:${second.username}`, reason: 'ticket 42: lost phone, identified by video call' });
    expect(trail[4]!.details).toMatchObject({ revokeExisting: true, revoked: { sessions: 1, passkeys: 1 } });
    expect(JSON.stringify(trail)).not.toContain(tokenOf(body.url).split('.')[1]);
    expect((await call('GET', '/api/v1/admin/recoveries?state=linked', root.cookie)).json().recoveries.map((r: { id: string }) => r.id)).toContain(id);
  }, 60_000);

  it('approval by the requester or by the holder: 403 approval_not_allowed (audited); an approved request: 409', async () => {
    const holder = await person('admin');
    const id = (await request(root, holder.username)).json().id as string;
    const byRequester = await approve(root, id);
    expect(byRequester.statusCode).toBe(403);
    expect(byRequester.json().error).toBe('approval_not_allowed');
    const byHolder = await approve(holder, id);
    expect(byHolder.statusCode).toBe(403);
    expect(byHolder.json().error).toBe('approval_not_allowed');
    expect((await events(holder.accountId, 'assisted_recovery.approved')).map((e) => `${e.outcome}:${e.reason}:${e.details.approvedBy}`)).toEqual([
      `failure:approval_not_allowed:admin:${root.username}`,
      `failure:approval_not_allowed:admin:${holder.username}`,
    ]);
    expect((await approve(second, id)).statusCode).toBe(200);
    const twice = await approve(second, id);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error).toBe('approval_conflict');
    // An administrator cannot request their own recovery; a member cannot use the admin API.
    expect((await request(holder, holder.username)).json().error).toBe('approval_not_allowed');
    const member = await person();
    expect((await request(member, holder.username)).statusCode).toBe(403);
    expect((await call('POST', `/api/v1/admin/recoveries/${id}/cancel`, second.cookie)).statusCode).toBe(200);
  }, 60_000);

  it('20 parallel approvals give exactly one 200; the rest 409', async () => {
    const holder = await person();
    const id = (await request(root, holder.username)).json().id as string;
    const answers = await Promise.all(Array.from({ length: 20 }, () => approve(second, id)));
    const codes = answers.map((a) => a.statusCode).sort();
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(19);
    expect((await events(holder.accountId, 'assisted_recovery.approved')).filter((e) => e.outcome === 'success')).toHaveLength(1);
    expect((await call('POST', `/api/v1/admin/recoveries/${id}/cancel`, root.cookie)).statusCode).toBe(200);
  }, 60_000);

  it('the holder sees the pending recovery on /account and cancels it from a passkey session; it then neither approves nor links; told by email', async () => {
    const holder = await person();
    const other = await person();
    const id = (await request(root, holder.username)).json().id as string;
    expect((await approve(second, id)).statusCode).toBe(200);
    const page = await t.get('/account', holder.cookie);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`data-recovery="${id}"`);
    expect(page.body).toContain(`class="cancel-recovery" data-id="${id}"`);
    expect((await call('GET', '/api/v1/account/recoveries', holder.cookie)).json().recoveries).toEqual([expect.objectContaining({ id, state: 'waiting' })]);
    expect((await call('GET', `/api/v1/admin/accounts/${holder.username}`, root.cookie)).json().pendingApprovals).toEqual([{ id, kind: 'recovery', state: 'waiting', requestedBy: `admin:${root.username}`, releaseAt: expect.any(String) }]);
    // Another account's holder cannot see or cancel it.
    expect((await call('POST', `/api/v1/account/recoveries/${id}/cancel`, other.cookie)).statusCode).toBe(404);
    const seen = mail.messages.length;
    const cancelled = await call('POST', `/api/v1/account/recoveries/${id}/cancel`, holder.cookie);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ id, state: 'cancelled' });
    expect(subjectOf((await mail.messageFor(holder.email, seen)).raw)).toBe('An account recovery for your account was cancelled');
    const [event] = await events(holder.accountId, 'assisted_recovery.cancelled');
    expect(event?.details).toMatchObject({ approval: id, cancelledBy: `holder:${holder.username}`, requestedBy: `admin:${root.username}`, approvedBy: `admin:${second.username}` });
    t.clock.advance(DELAY_MS + 1000);
    await refresh(root);
    await refresh(second);
    expect((await link(root, id)).json().error).toBe('approval_conflict');
    expect((await approve(second, id)).json().error).toBe('approval_conflict');
    expect((await t.get('/account', (await refresh(holder)).cookie)).body).not.toContain('data-recovery=');
  }, 60_000);

  it('a suspended or offboarded account cannot be recovered; an approval needs a fresh passkey session', async () => {
    const holder = await person();
    expect((await call('POST', `/api/v1/admin/accounts/${holder.username}/suspend`, root.cookie, {})).statusCode).toBe(200);
    const refused = await request(root, holder.username);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ error: 'account_status_conflict', message: expect.stringMatching(/suspended; it cannot be recovered/) });

    const later = await person();
    const id = (await request(root, later.username)).json().id as string;
    t.clock.advance(t.config.freshAuthMaxAgeMs + 1000);
    const stale = await approve(second, id);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('fresh_auth_required');
    await refresh(root);
    await refresh(second);
    // Offboarding cancels the pending recovery, and it can never be approved.
    const offboarded = await call('POST', `/api/v1/admin/accounts/${later.username}/offboard`, root.cookie, {});
    expect(offboarded.json().revoked).toMatchObject({ pendingApprovals: 1 });
    expect((await approve(second, id)).json().error).toBe('account_status_conflict');
    expect((await t.store.approvals.find(id))?.state).toBe('cancelled');
  }, 60_000);

  it('no scheduler: the release notice goes once, at the first read after releaseAt (the holder\'s /account here), never before', async () => {
    await refresh(root);
    await refresh(second);
    const holder = await person();
    const id = (await request(root, holder.username)).json().id as string;
    expect((await approve(second, id)).statusCode).toBe(200);
    const released = () => events(holder.accountId, 'assisted_recovery.released');
    expect((await call('GET', `/api/v1/admin/recoveries/${id}`, root.cookie)).json().state).toBe('waiting');
    expect(await released()).toEqual([]);
    t.clock.advance(DELAY_MS);
    const seen = mail.messages.length;
    const page = await t.get('/account', (await refresh(holder)).cookie);
    expect(page.body).toContain(`data-recovery="${id}"`);
    expect(subjectOf((await mail.messageFor(holder.email, seen)).raw)).toBe('An account recovery for your account is released');
    await refresh(root);
    expect((await call('GET', `/api/v1/admin/recoveries?state=released`, root.cookie)).json().recoveries.map((r: { id: string }) => r.id)).toContain(id);
    expect((await call('GET', `/api/v1/admin/recoveries/${id}`, root.cookie)).json().state).toBe('released');
    expect(await released()).toHaveLength(1);
    expect(mail.messages.slice(seen).filter((m) => m.to.includes(holder.email))).toHaveLength(1);
    expect((await call('POST', `/api/v1/admin/recoveries/${id}/cancel`, root.cookie)).statusCode).toBe(200);
  }, 60_000);

  it('the services refuse an approval, and a holder\'s cancel, from a session not signed in with a passkey (a code or recovery session)', async () => {
    await refresh(root);
    await refresh(second);
    const holder = await person();
    const id = (await request(root, holder.username)).json().id as string;
    const sessionOf = async (p: Person) => (await t.store.sessions.findById(p.cookie.split('=')[1]!.split('.')[0]!))!;
    const adminAccount = (await t.store.accounts.findById(second.accountId))!;
    const holderAccount = (await t.store.accounts.findById(holder.accountId))!;
    const context = { ip: '192.0.2.9', userAgent: 'test' };
    for (const variant of [{ passkeyId: null }, { purpose: 'recovery' as const }]) {
      const codeSession = { ...(await sessionOf(second)), ...variant };
      const refused = await approveRecovery(t.deps, { id, actor: { kind: 'admin', active: { session: codeSession, account: adminAccount } }, context });
      expect(refused).toMatchObject({ ok: false, code: 'fresh_auth_required' });
      const holderSession = { ...(await sessionOf(holder)), ...variant };
      expect(await cancelRecovery(t.deps, { id, by: { holder: { session: holderSession, account: holderAccount } }, context })).toMatchObject({ ok: false, code: 'fresh_auth_required' });
    }
    expect((await t.store.approvals.find(id))?.state).toBe('awaiting_approval');
    expect((await approve(second, id)).statusCode).toBe(200);
  }, 60_000);

  it('raising a role to admin: 202 awaiting approval; refused to the requester; a second administrator applies it, audited with both and told to the holder', async () => {
    await refresh(root);
    await refresh(second);
    const holder = await person();
    const seen = mail.messages.length;
    const asked = await call('POST', `/api/v1/admin/accounts/${holder.username}/role`, root.cookie, { role: 'admin' });
    expect(asked.statusCode, asked.body).toBe(202);
    const { approval } = asked.json() as { approval: { id: string; state: string } };
    expect(approval.state).toBe('awaiting_approval');
    expect((await t.store.accounts.findById(holder.accountId))?.role).toBe('member');
    expect(subjectOf((await mail.messageFor(holder.email, seen)).raw)).toBe('A request to make you an administrator');
    expect((await call('POST', `/api/v1/admin/approvals/${approval.id}/approve`, root.cookie)).json().error).toBe('approval_not_allowed');
    // A recovery's endpoint does not approve a role change.
    expect((await approve(second, approval.id)).statusCode).toBe(404);
    const seenChange = mail.messages.length;
    const applied = await call('POST', `/api/v1/admin/approvals/${approval.id}/approve`, second.cookie);
    expect(applied.statusCode, applied.body).toBe(200);
    expect(applied.json()).toMatchObject({ username: holder.username, role: 'admin', from: 'member', approval: { id: approval.id, state: 'applied' } });
    expect((await t.store.accounts.findById(holder.accountId))?.role).toBe('admin');
    const [changed] = await events(holder.accountId, 'account.role_changed');
    expect(changed?.details).toMatchObject({ from: 'member', to: 'admin', requestedBy: `admin:${root.username}`, approvedBy: `admin:${second.username}` });
    expect(subjectOf((await mail.messageFor(holder.email, seenChange)).raw)).toBe('Your role changed');
    expect((await call('POST', `/api/v1/admin/approvals/${approval.id}/approve`, second.cookie)).statusCode).toBe(409);
    // Lowering a role needs no approval.
    const lowered = await call('POST', `/api/v1/admin/accounts/${holder.username}/role`, root.cookie, { role: 'member' });
    expect(lowered.statusCode, lowered.body).toBe(200);
  }, 60_000);
});
