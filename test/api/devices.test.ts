/**
 * Issue 12, "Devices": adding a device by a single-use link from a fresh session, and reporting a
 * lost device, through the JSON API on SQLite and PostgreSQL, with notices delivered to a real SMTP
 * server and an HTTP SMS gateway on loopback (test/codes/support.ts). The level cap of a device link
 * with trusted attestation: test/api/deviceLevel.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/core/tokens.ts';
import { CLI_ACTOR } from '../../src/services/adminAccess.ts';
import { invite } from '../../src/services/invitations.ts';
import { offboardAccount, resumeAccount, suspendAccount } from '../../src/services/lifecycle.ts';
import { enrol, ManualClock, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { authorize, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { startMailSink, startSmsSink, type MailSink, type SmsSink } from '../codes/support.ts';

const TEN_MINUTES = 10 * 60_000;
const CONTEXT = { ip: '192.0.2.1', userAgent: 'test' };
const sessionId = (cookie: string) => cookie.split('=')[1]!.split('.')[0]!;
const tokenOf = (url: string) => url.slice(url.indexOf('/enrol/') + '/enrol/'.length);

describe.each(BACKENDS)('devices on %s', (backend) => {
  let t: TestApp;
  let mail: MailSink;
  let sms: SmsSink;
  let clientId: string;
  let n = 0;

  beforeAll(async () => {
    [mail, sms] = await Promise.all([startMailSink(), startSmsSink()]);
    // The provider reads real time for its tokens: the clock starts now and moves only by hand.
    t = await startTestApp({
      backend,
      clock: new ManualClock(Date.now()),
      env: { KEYBOUND_SMTP_URL: mail.url, KEYBOUND_SMS_PROVIDER: 'http', KEYBOUND_SMS_URL: sms.url, KEYBOUND_MEMBER_CODE_FACTORS: 'totp,sms', KEYBOUND_MEMBER_MIN_AAL: '1' },
    });
    clientId = await registerTestClient(t);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([mail?.close(), sms?.close()]);
  });

  /** A new member with an email address and a passkey, signed in. */
  async function member(options: { phone?: string } = {}) {
    const username = `holder-${++n}`;
    const email = `${username}@example.test`;
    const invited = await invite(t.deps, { username, email, createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const enrolled = await enrol(t, username);
    if (options.phone) await bindPhone(enrolled.cookie, options.phone);
    return { ...enrolled, username, email };
  }

  async function bindPhone(cookie: string, phone: string) {
    const seen = sms.received.length;
    const begun = await t.post('/api/v1/sms', { phone }, cookie);
    expect(begun.statusCode, begun.body).toBe(202);
    const code = await sms.codeFor(phone, seen);
    const bound = await t.post('/api/v1/sms/confirm', { attemptId: begun.json().attemptId, code }, cookie);
    expect(bound.statusCode, bound.body).toBe(201);
  }

  const issue = (cookie: string) => t.post('/api/v1/devices/link', {}, cookie);

  /** Redeems a link with `authenticator`, as the other device's browser would (no cookie). */
  async function redeem(url: string, authenticator = new SoftAuthenticator(), nickname = 'Phone') {
    const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: tokenOf(url) });
    if (options.statusCode !== 200) return options;
    return t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json()), nickname });
  }

  const lost = (cookie: string, passkeyId: string) => t.app.inject({ method: 'POST', url: `/api/v1/passkeys/${passkeyId}/lost`, headers: { cookie, origin: ORIGIN } });
  const passkeyIds = async (accountId: string) => (await t.store.passkeys.listByAccount(accountId)).map((p) => p.id);
  const events = async (accountId: string, type: string) => (await t.store.audit.list({ accountId, type, limit: 100 })).reverse();

  it('a fresh session gets 201 {url, qrSvg, expiresAt}: a 10-minute link whose token is stored only as a hash', async () => {
    const { cookie, account } = await member();
    const response = await issue(cookie);
    expect(response.statusCode, response.body).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json() as { url: string; qrSvg: string; expiresAt: string };
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'qrSvg', 'url']);
    expect(body.url).toMatch(new RegExp(`^${ORIGIN}/enrol/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect(body.expiresAt).toBe(new Date(t.clock.now + TEN_MINUTES).toISOString());
    expect(body.qrSvg).toMatch(/^<svg [^>]*viewBox="0 0 \d+ \d+"/);
    expect(body.qrSvg).toMatch(/<path [^>]*d="M/);
    const [id, secret] = tokenOf(body.url).split('.') as [string, string];
    const stored = await t.store.invitations.find(id);
    expect(stored).toMatchObject({ accountId: account.id, kind: 'device', maxAal: 2, usedAt: null, secretHash: hashSecret(secret) });
    expect(JSON.stringify(stored)).not.toContain(secret);
    const [issued] = await events(account.id, 'device_link.issued');
    expect(issued?.details).toMatchObject({ invitation: id, maxAal: 2, session: sessionId(cookie) });
    expect(JSON.stringify(issued)).not.toContain(secret);
  });

  it('the link enrols a passkey on another device into the same account, signs that device in, is audited and told by email and SMS', async () => {
    const { cookie, account, email } = await member({ phone: '+447700900101' });
    const link = (await issue(cookie)).json() as { url: string };
    const [mailSeen, smsSeen] = [mail.messages.length, sms.received.length];
    const added = await redeem(link.url, new SoftAuthenticator(), 'Tablet');
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json()).toMatchObject({ account: { id: account.id }, aal: 2, passkey: { nickname: 'Tablet' } });
    const tablet = sessionCookie(added);
    expect((await t.get('/api/v1/session', tablet)).json()).toMatchObject({ account: { id: account.id } });
    expect(await passkeyIds(account.id)).toHaveLength(2);
    const [redeemed] = await events(account.id, 'device_link.redeemed');
    expect(redeemed?.details).toMatchObject({ invitation: tokenOf(link.url).split('.')[0], passkey: added.json().passkey.id, maxAal: 2 });
    // Told on both bound channels: the account's address and the bound phone.
    const notice = await mail.messageFor(email, mailSeen);
    expect(notice.raw).toMatch(/^Subject: A device was added to your account/m);
    expect(notice.raw).toMatch(/Tablet/);
    const text = sms.received.slice(smsSeen).find((m) => m.to === '+447700900101');
    expect(text?.message).toMatch(/A device was added to your account.*Tablet/s);
    expect((await t.store.audit.list({ accountId: account.id, typePrefix: 'notice.', limit: 20 })).filter((e) => e.details.notice === 'passkey_added_by_link').map((e) => `${e.type}:${e.outcome}`).sort()).toEqual(['notice.email:success', 'notice.sms:success']);
  });

  it('a second use is refused (410 enrolment_token_used), at the page, at options and at verify', async () => {
    const { cookie, account } = await member();
    const link = (await issue(cookie)).json() as { url: string };
    // Options for a second device fetched before the first one finishes.
    const early = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: tokenOf(link.url) });
    expect(early.statusCode).toBe(200);
    expect((await redeem(link.url)).statusCode).toBe(201);
    const late = await t.post('/api/v1/passkeys/registration/verify', { response: new SoftAuthenticator().create(early.json()) });
    expect(late.statusCode, late.body).toBe(410);
    expect(late.json()).toMatchObject({ error: 'enrolment_token_used', message: expect.stringMatching(/device link has already been used/) });
    const again = await redeem(link.url);
    expect(again.statusCode).toBe(410);
    expect(again.json().error).toBe('enrolment_token_used');
    const page = await t.get(new URL(link.url).pathname);
    expect(page.statusCode).toBe(410);
    expect(page.body).toContain('enrolment_token_used');
    expect(await passkeyIds(account.id)).toHaveLength(2);
  });

  it('10 parallel redemptions of one link: exactly one enrols', async () => {
    const { cookie, account } = await member();
    const link = (await issue(cookie)).json() as { url: string };
    const authenticators = Array.from({ length: 10 }, () => new SoftAuthenticator());
    const options = await Promise.all(authenticators.map(() => t.post('/api/v1/passkeys/registration/options', { enrolmentToken: tokenOf(link.url) })));
    expect(options.map((o) => o.statusCode)).toEqual(Array(10).fill(200));
    const responses = await Promise.all(authenticators.map((a, i) => t.post('/api/v1/passkeys/registration/verify', { response: a.create(options[i]!.json()) })));
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([201, ...Array(9).fill(410)]);
    expect(responses.filter((r) => r.statusCode === 410).every((r) => r.json().error === 'enrolment_token_used')).toBe(true);
    expect(await passkeyIds(account.id)).toHaveLength(2);
    expect(await events(account.id, 'device_link.redeemed')).toHaveLength(1);
    expect((await t.store.sessions.listActive(account.id, t.clock.now)).length).toBe(2);
  });

  /** A holder with a laptop passkey and a phone passkey added by link; the phone signed in twice and authorized an app. */
  async function withPhone() {
    const holder = await member({ phone: `+4477009002${String(n).padStart(2, '0')}` });
    const link = (await issue(holder.cookie)).json() as { url: string };
    const phone = new SoftAuthenticator();
    const added = await redeem(link.url, phone, 'Phone');
    expect(added.statusCode, added.body).toBe(201);
    const phoneId = added.json().passkey.id as string;
    const phoneSessions = [sessionCookie(added), sessionCookie(await signIn(t, phone))];
    const { code, verifier } = await authorize(t, clientId, phoneSessions[1]!);
    const tokens = await tokenRequest(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId });
    expect(tokens.statusCode, tokens.body).toBe(200);
    const offline = await authorize(t, clientId, phoneSessions[0]!, { scope: 'openid offline_access', prompt: 'consent' });
    const offlineTokens = await tokenRequest(t, { grant_type: 'authorization_code', code: offline.code, code_verifier: offline.verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId });
    expect(offlineTokens.statusCode, offlineTokens.body).toBe(200);
    const refreshTokens = [tokens.json().refresh_token as string, offlineTokens.json().refresh_token as string];
    expect(refreshTokens.every((r) => typeof r === 'string' && r.length > 0)).toBe(true);
    return { ...holder, phone, phoneId, phoneSessions, refreshTokens, accessToken: tokens.json().access_token as string };
  }

  const refresh = async (refreshToken: string) => (await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })).json() as { error?: string; refresh_token?: string };

  it('lost device: removes the passkey, ends at once every session it signed in and every grant they made, audits and tells every channel', async () => {
    const holder = await withPhone();
    const laptop = sessionCookie(await signIn(t, holder.authenticator));
    // The grants are alive before the report (refresh tokens rotate: keep the new one).
    const alive = await refresh(holder.refreshTokens[0]!);
    expect(alive.refresh_token).toEqual(expect.any(String));
    holder.refreshTokens[0] = alive.refresh_token!;
    const [mailSeen, smsSeen] = [mail.messages.length, sms.received.length];

    const reported = await lost(laptop, holder.phoneId);
    expect(reported.statusCode, reported.body).toBe(204);

    expect(await passkeyIds(holder.account.id)).not.toContain(holder.phoneId);
    for (const phoneSession of holder.phoneSessions) expect((await t.get('/api/v1/session', phoneSession)).json().error).toBe('session_expired');
    for (const token of holder.refreshTokens) expect((await refresh(token)).error).toBe('invalid_grant');
    expect(await t.store.oidcGrantSessions.findByPasskey(holder.phoneId)).toEqual([]);
    // The laptop's sessions, signed in with another passkey, carry on.
    expect((await t.get('/api/v1/session', laptop)).statusCode).toBe(200);
    expect((await t.get('/api/v1/session', holder.cookie)).statusCode).toBe(200);
    // Audited: the report, and each session ended with its reason.
    const [report] = await events(holder.account.id, 'passkey.lost');
    expect(report?.details).toMatchObject({ passkey: holder.phoneId, nickname: 'Phone', by: sessionId(laptop), endedGrants: expect.any(Number) });
    expect([...(report!.details.endedSessions as string[])].sort()).toEqual(holder.phoneSessions.map(sessionId).sort());
    const ended = (await events(holder.account.id, 'session.revoked')).filter((e) => e.reason === 'passkey_lost');
    expect(ended.map((e) => e.details.session).sort()).toEqual(holder.phoneSessions.map(sessionId).sort());
    // Told on every bound channel.
    const notice = await mail.messageFor(holder.email, mailSeen);
    expect(notice.raw).toMatch(/^Subject: A passkey was reported lost and removed/m);
    expect(sms.received.slice(smsSeen).some((m) => /reported lost/.test(m.message))).toBe(true);
    // The lost passkey signs in no more.
    expect((await signIn(t, holder.phone)).json().error).toBe('passkey_unknown_credential');
  });

  it('lost device: a device link made from the lost passkey stops working', async () => {
    const holder = await withPhone();
    const fromPhone = (await issue(holder.phoneSessions[0]!)).json() as { url: string };
    const laptop = sessionCookie(await signIn(t, holder.authenticator));
    expect((await lost(laptop, holder.phoneId)).statusCode).toBe(204);
    const refused = await redeem(fromPhone.url);
    expect(refused.statusCode).toBe(410);
    expect(refused.json().error).toBe('enrolment_token_expired');
    expect(await passkeyIds(holder.account.id)).toHaveLength(1);
  });

  it('lost device refusals: from a session of that passkey (403), someone else\'s passkey (404), a stale session (403)', async () => {
    const holder = await withPhone();
    const own = await lost(holder.phoneSessions[1]!, holder.phoneId);
    expect(own.statusCode, own.body).toBe(403);
    expect(own.json().error).toBe('passkey_lost_own_session');

    const stranger = await member();
    const foreign = await lost(stranger.cookie, holder.phoneId);
    expect(foreign.statusCode, foreign.body).toBe(404);
    expect(foreign.json().error).toBe('passkey_not_found');
    const unknown = await lost(stranger.cookie, 'no-such-passkey');
    expect(unknown.statusCode).toBe(404);

    t.clock.advance(t.config.freshAuthMaxAgeMs + 1000);
    const stale = await lost(holder.cookie, holder.phoneId);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('fresh_auth_required');

    // Nothing was removed or ended by any refusal.
    expect(await passkeyIds(holder.account.id)).toContain(holder.phoneId);
    expect((await t.get('/api/v1/session', holder.phoneSessions[1]!)).statusCode).toBe(200);
    expect((await refresh(holder.refreshTokens[1]!)).error).toBeUndefined();
    expect(await events(holder.account.id, 'passkey.lost')).toHaveLength(0);
  });

  // These move the clock: they come last, after the tests that drive the OpenID provider (real time).
  it('expires after 10 minutes (at options, and at verify for options fetched in time); a new link ends the older one', async () => {
    const { cookie, account } = await member();
    const first = (await issue(cookie)).json() as { url: string };
    const second = (await issue(cookie)).json() as { url: string };
    const replaced = await redeem(first.url);
    expect(replaced.statusCode).toBe(410);
    expect(replaced.json()).toMatchObject({ error: 'enrolment_token_expired', message: expect.stringMatching(/device link has expired or was replaced/) });
    t.clock.advance(TEN_MINUTES - 60_000);
    const inTime = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: tokenOf(second.url) });
    expect(inTime.statusCode, inTime.body).toBe(200);
    t.clock.advance(60_000);
    const late = await t.post('/api/v1/passkeys/registration/verify', { response: new SoftAuthenticator().create(inTime.json()) });
    expect(late.statusCode, late.body).toBe(410);
    expect(late.json().error).toBe('enrolment_token_expired');
    expect((await redeem(second.url)).json().error).toBe('enrolment_token_expired');
    expect(await passkeyIds(account.id)).toHaveLength(1);
  });

  it('refuses a session that is not fresh, or not signed in with a passkey (403 fresh_auth_required)', async () => {
    const { cookie, account, authenticator } = await member();
    const codes = await t.post('/api/v1/recovery-codes', {}, cookie);
    expect(codes.statusCode, codes.body).toBe(201);
    t.clock.advance(t.config.freshAuthMaxAgeMs + 1000);
    const stale = await issue(cookie);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('fresh_auth_required');
    // A recovery session (README "Recovery") is no passkey sign-in, and may only add a passkey here.
    const start = await t.post('/api/v1/recovery/start', { username: (await t.store.accounts.findById(account.id))!.username, factor: 'recovery' });
    const recovered = await t.post('/api/v1/recovery/verify', { attemptId: start.json().attemptId, code: codes.json().codes[0] });
    expect(recovered.statusCode, recovered.body).toBe(200);
    expect((await issue(sessionCookie(recovered))).json().error).toBe('recovery_session_limited');
    expect(await events(account.id, 'device_link.issued')).toHaveLength(0);
    // A fresh passkey sign-in may.
    expect((await issue(sessionCookie(await signIn(t, authenticator)))).statusCode).toBe(201);
  });

  it('account notices reach every bound channel: suspension, and offboarding after its factors are disabled; a removed number is told', async () => {
    const holder = await member({ phone: '+447700900177' });
    const text = (seen: number, pattern: RegExp) => sms.received.slice(seen).some((m) => m.to === '+447700900177' && pattern.test(m.message));

    let [mailSeen, smsSeen] = [mail.messages.length, sms.received.length];
    expect((await suspendAccount(t.deps, { username: holder.username, actor: CLI_ACTOR, context: CONTEXT })).ok).toBe(true);
    expect((await mail.messageFor(holder.email, mailSeen)).raw).toMatch(/^Subject: Your account was suspended/m);
    expect(text(smsSeen, /Your account was suspended/)).toBe(true);
    expect((await resumeAccount(t.deps, { username: holder.username, actor: CLI_ACTOR, context: CONTEXT })).ok).toBe(true);

    [mailSeen, smsSeen] = [mail.messages.length, sms.received.length];
    const offboarded = await offboardAccount(t.deps, { username: holder.username, actor: CLI_ACTOR, context: CONTEXT });
    expect(offboarded.ok && offboarded.value.revoked.codeFactors).toBe(1);
    expect((await mail.messageFor(holder.email, mailSeen)).raw).toMatch(/^Subject: Your account was closed/m);
    expect(text(smsSeen, /Your account was closed/)).toBe(true);
    const delivered = (await t.store.audit.list({ accountId: holder.account.id, typePrefix: 'notice.', limit: 50 })).filter((e) => e.details.notice === 'account_offboarded');
    expect(delivered.map((e) => `${e.type}:${e.outcome}`).sort()).toEqual(['notice.email:success', 'notice.sms:success']);

    // Removing a number tells that number as well as the address left.
    const other = await member({ phone: '+447700900178' });
    const factor = (await t.store.authenticators.listBound(other.account.id)).find((f) => f.kind === 'sms_code')!;
    smsSeen = sms.received.length;
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/v1/factors/${factor.id}`, headers: { cookie: other.cookie, origin: ORIGIN } });
    expect(removed.statusCode, removed.body).toBe(204);
    expect(sms.received.slice(smsSeen).some((m) => m.to === '+447700900178' && /removed/.test(m.message))).toBe(true);
  });
});
