/**
 * Issue 12, "Recovery" (self-service): a saved recovery code opens a recovery session whose only
 * powers are to bind a new passkey and to see and end sessions; an AAL2 role needs a second,
 * independent proof; binding the passkey signs in and ends every other session; the holder is told
 * on every bound channel, through a real SMTP server and an HTTP SMS gateway on loopback. Both
 * databases. The browser path: test/browser/recovery.browser.test.ts.
 *
 * Seen failing without each rule (the src change undone, the test run, the change restored):
 * without the recovery line in http/gates.ts `admit`, the route-table test (GET /api/v1/passkeys
 * and the rest answer a recovery session); with `recoveryProofsMet` accepting a code alone, the
 * AAL2 test (200 for a code alone); with the recovery binding ending only the recovery session,
 * the binding test (the old passkey session still 200); with the interaction using `authenticate`,
 * the OpenID test (303 back to the application instead of the sign-in page). On the code before
 * this work none of these routes or sessions exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/core/model.ts';
import { API_ROUTES } from '../../src/http/routes/index.ts';
import { invite } from '../../src/services/invitations.ts';
import { enrol, ManualClock, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { codeSignIn, enrolTotp, startMailSink, startSmsSink, type MailSink, type SmsSink } from '../codes/support.ts';
import { sample } from '../helpers/schemaSample.ts';

/** A body that passes a route's JSON Schema (required properties, or the first of `minProperties`), so the request reaches its gate. */

describe.each(BACKENDS)('self-service recovery on %s', (backend) => {
  let t: TestApp;
  let mail: MailSink;
  let sms: SmsSink;
  let n = 0;

  beforeAll(async () => {
    [mail, sms] = await Promise.all([startMailSink(), startSmsSink()]);
    t = await startTestApp({
      backend,
      clock: new ManualClock(Date.now()),
      // member: AAL1 sign-ins allowed, so one saved code recovers it (the default for AAL1 roles);
      // admin: AAL2 (the default), so a saved code and a second proof (the default for AAL2 roles).
      env: {
        KEYBOUND_SMTP_URL: mail.url,
        KEYBOUND_SMS_PROVIDER: 'http',
        KEYBOUND_SMS_URL: sms.url,
        KEYBOUND_MEMBER_CODE_FACTORS: 'totp',
        KEYBOUND_MEMBER_MIN_AAL: '1',
        KEYBOUND_CODE_FREE_FAILURES: '1000',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([mail?.close(), sms?.close()]);
  });

  /** A new account with an email address, a passkey session and a set of recovery codes. */
  async function holder(role: Role = 'member') {
    const username = `${role}-${backend}-${++n}`;
    const email = `${username}@example.test`;
    const invited = await invite(t.deps, { username, email, role, createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const enrolled = await enrol(t, username, new SoftAuthenticator(), role);
    const made = await t.post('/api/v1/recovery-codes', {}, enrolled.cookie);
    expect(made.statusCode, made.body).toBe(201);
    return { ...enrolled, username, email, codes: made.json().codes as string[] };
  }

  async function start(username: string, factor: string): Promise<string> {
    const started = await t.post('/api/v1/recovery/start', { username, factor });
    expect(started.statusCode, started.body).toBe(200);
    return started.json().attemptId;
  }

  async function recover(username: string, code: string, proof?: { factor: string; code: (attemptId: string) => Promise<string> | string }, cookie?: string) {
    const attemptId = await start(username, 'recovery');
    let proofBody = {};
    if (proof) {
      const proofAttempt = await start(username, proof.factor);
      proofBody = { proof: { attemptId: proofAttempt, code: await proof.code(proofAttempt) } };
    }
    return t.post('/api/v1/recovery/verify', { attemptId, code, ...proofBody }, cookie);
  }

  const request = (method: string, url: string, cookie: string, body?: unknown) =>
    t.app.inject({ method: method as 'GET', url, headers: { cookie, origin: ORIGIN, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: body as object } : {}) });

  it('a recovery session can do nothing but bind a passkey and see and end sessions: every other session route answers 403 recovery_session_limited', async () => {
    const { username, codes, cookie: passkeyCookie } = await holder();
    const recovered = await recover(username, codes[0]!);
    expect(recovered.statusCode, recovered.body).toBe(200);
    expect(recovered.json().session).toMatchObject({ purpose: 'recovery', aal: 1 });
    const cookie = sessionCookie(recovered);

    const limited = API_ROUTES.filter((r) => r.access !== 'anyone' && !r.recovery);
    expect(limited.length).toBeGreaterThan(10);
    for (const r of limited) {
      const url = r.path.replace(/:[a-zA-Z]+/g, 'x');
      const answer = await request(r.method, url, cookie, r.method === 'GET' ? undefined : (sample((r.body as { schema?: unknown } | undefined)?.schema) ?? {}));
      expect([r.method, r.path, answer.statusCode, answer.json().error]).toEqual([r.method, r.path, 403, 'recovery_session_limited']);
    }
    // The same routes answer otherwise for a passkey session: the refusal is the recovery session's.
    expect((await t.get('/api/v1/passkeys', passkeyCookie)).statusCode).toBe(200);

    // What it may do: see itself and its sessions, start a registration with {}.
    expect((await t.get('/api/v1/session', cookie)).json().session).toMatchObject({ purpose: 'recovery' });
    expect((await t.get('/api/v1/sessions', cookie)).json().sessions).toHaveLength(2);
    const options = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
    expect(options.statusCode, options.body).toBe(200);
    expect(options.json().challenge).toBeTypeOf('string');
    // Its page shows only those two things.
    const page = await t.get('/account', cookie);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="recovery-session"');
    expect(page.body).toContain('id="add-passkey-form"');
    expect(page.body).not.toContain('Lost device');
    expect(page.body).not.toContain('recovery-generate');
  });

  it('the OpenID provider never takes a recovery session for a sign-in', async () => {
    const { username, codes } = await holder();
    const cookie = sessionCookie(await recover(username, codes[0]!));
    const { registerTestClient, INJECT_REDIRECT } = await import('../helpers/oidcInject.ts');
    const clientId = await registerTestClient(t);
    const params = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: INJECT_REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's' });
    const auth = await t.app.inject({ method: 'GET', url: `/oidc/auth?${params}`, headers: { cookie } });
    expect(auth.statusCode).toBe(303);
    const interaction = new URL(String(auth.headers.location), ORIGIN);
    expect(interaction.pathname).toMatch(/^\/interaction\//);
    const jar = [cookie, ...auth.cookies.map((c) => `${c.name}=${c.value}`)].join('; ');
    const shown = await t.app.inject({ method: 'GET', url: interaction.pathname, headers: { cookie: jar } });
    // The sign-in page, not a redirect back to the application with a code.
    expect(shown.statusCode, shown.body.slice(0, 200)).toBe(200);
    expect(shown.body).toContain('Sign in with your passkey to continue.');
  });

  it('a recovery code never gives a normal session: the code sign-in refuses it', async () => {
    const { username, codes } = await holder();
    const refused = await codeSignIn(t, username, 'recovery', codes[0]!);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('factor_not_allowed');
    expect(refused.cookies.find((c) => c.name.endsWith('keybound_session'))).toBeUndefined();
    // The code was not spent: it still opens a recovery session.
    expect((await recover(username, codes[0]!)).statusCode).toBe(200);
  });

  it('an AAL2 role with only a saved code gets no recovery session until a second, independent proof', async () => {
    const { username, codes, cookie, account } = await holder('admin');
    const app = await enrolTotp(t, cookie);
    const set = await t.store.authenticators.findBound(account.id, 'recovery_codes');

    const alone = await recover(username, codes[0]!);
    expect(alone.statusCode).toBe(403);
    expect(alone.json().error).toBe('recovery_proof_required');
    expect(alone.cookies.find((c) => c.name.endsWith('keybound_session'))).toBeUndefined();
    expect(await t.store.recoveryCodes.countUnused(set!.id)).toBe(10);

    // The same channel twice is not a second proof: a second recovery code.
    const twice = await recover(username, codes[0]!, { factor: 'recovery', code: () => codes[1]! });
    expect(twice.statusCode).toBe(403);
    expect(twice.json().error).toBe('recovery_proof_required');
    // Nor the same attempt given twice.
    const attemptId = await start(username, 'recovery');
    const same = await t.post('/api/v1/recovery/verify', { attemptId, code: codes[0]!, proof: { attemptId, code: codes[0]! } });
    expect(same.json().error).toBe('recovery_proof_required');
    // Nor another account's proof.
    const other = await holder('admin');
    const otherApp = await enrolTotp(t, other.cookie);
    const foreign = await t.post('/api/v1/recovery/verify', {
      attemptId: await start(username, 'recovery'),
      code: codes[0]!,
      proof: { attemptId: await start(other.username, 'totp'), code: otherApp.code(t.clock.now) },
    });
    expect(foreign.json().error).toBe('recovery_proof_required');
    expect(await t.store.recoveryCodes.countUnused(set!.id)).toBe(10);
    const liveBefore = await t.store.sessions.listActive(account.id, t.clock.now);
    expect(liveBefore.every((s) => s.purpose === 'sign_in')).toBe(true);

    // A code from the authenticator app still bound: a recovery session, and both proofs spent.
    const recovered = await recover(username, codes[0]!, { factor: 'totp', code: () => app.code(t.clock.now) });
    expect(recovered.statusCode, recovered.body).toBe(200);
    expect(recovered.json().session.purpose).toBe('recovery');
    expect(await t.store.recoveryCodes.countUnused(set!.id)).toBe(9);
    expect((await recover(username, codes[0]!, { factor: 'totp', code: () => app.code(t.clock.now) })).json().error).toBe('code_invalid');
  });

  it('an AAL2 role: a code sent to the verified email address is a second proof', async () => {
    const { username, email, codes, cookie } = await holder('admin');
    let seen = mail.messages.length;
    const begun = await t.post('/api/v1/email-codes', {}, cookie);
    expect(begun.statusCode, begun.body).toBe(202);
    const bound = await t.post('/api/v1/email-codes/confirm', { attemptId: begun.json().attemptId, code: await mail.codeFor(email, seen) }, cookie);
    expect(bound.statusCode, bound.body).toBe(201);
    // An AAL2 role binds it for recovery only: it never signs in on its own.
    expect((await codeSignIn(t, username, 'email', async () => mail.codeFor(email, seen))).statusCode).not.toBe(200);
    seen = mail.messages.length;
    const recovered = await recover(username, codes[2]!, { factor: 'email', code: async () => mail.codeFor(email, seen) });
    expect(recovered.statusCode, recovered.body).toBe(200);
    expect((await mail.messageFor(email, seen)).raw).toMatch(/Subject: Your account recovery code for Keybound/);
  });

  it('binding a passkey ends the recovery session and every other session, signs in with it, tells the holder on every channel, and /account says when and from where', async () => {
    const { username, email, codes, cookie: passkeyCookie, account } = await holder();
    const app = await enrolTotp(t, passkeyCookie);
    const codeSession = await codeSignIn(t, username, 'totp', app.code(t.clock.now));
    expect(codeSession.statusCode, codeSession.body).toBe(200);
    t.clock.advance(30_000);
    const otherCode = await codeSignIn(t, username, 'totp', app.code(t.clock.now));
    expect(otherCode.statusCode, otherCode.body).toBe(200);
    const recovered = await recover(username, codes[0]!);
    expect(recovered.statusCode, recovered.body).toBe(200);
    const cookie = sessionCookie(recovered);
    const sessionOf = (c: string) => c.split('=')[1]!.split('.')[0]!;

    // Sessions: a recovery session ends a code session, never a passkey session (ASVS 7.4.3).
    expect((await request('DELETE', `/api/v1/sessions/${sessionOf(sessionCookie(otherCode))}`, cookie)).statusCode).toBe(204);
    const refused = await request('DELETE', `/api/v1/sessions/${sessionOf(passkeyCookie)}`, cookie);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('session_end_not_allowed');
    expect((await t.get('/api/v1/session', passkeyCookie)).statusCode).toBe(200);

    // Bind a passkey from the recovery session: {} works, and the verify signs in with it.
    const seen = mail.messages.length;
    const smsSeen = sms.received.length;
    const options = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
    expect(options.statusCode, options.body).toBe(200);
    const authenticator = new SoftAuthenticator();
    const verified = await t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json()), nickname: 'New phone' }, cookie);
    expect(verified.statusCode, verified.body).toBe(201);
    // A passkey above the recovery session's AAL1: the documented exception to passkey_above_session_level.
    expect(verified.json()).toMatchObject({ aal: 2, session: { purpose: 'sign_in' } });
    const newCookie = sessionCookie(verified);

    // Every earlier session ended: the recovery session, the passkey session, the code session.
    for (const old of [cookie, passkeyCookie, sessionCookie(codeSession)]) expect((await t.get('/api/v1/session', old)).statusCode).toBe(401);
    const live = await t.store.sessions.listActive(account.id, t.clock.now);
    expect(live.map((s) => s.id)).toEqual([sessionOf(newCookie)]);
    // The new session is a normal passkey sign-in.
    expect((await t.get('/api/v1/passkeys', newCookie)).json().passkeys).toHaveLength(2);
    expect((await signIn(t, authenticator)).statusCode).toBe(200);

    // Audited, with the sessions ended and why.
    const events = await t.store.audit.list({ accountId: account.id, limit: 100 });
    expect(events.find((e) => e.type === 'recovery.completed')?.details).toMatchObject({ sessionsEnded: 3 });
    expect(events.filter((e) => e.type === 'session.revoked' && e.reason === 'recovered')).toHaveLength(3);
    expect(events.find((e) => e.type === 'recovery.session_started')).toBeDefined();

    // Told by email, through the real SMTP server (this account has no SMS number bound).
    const notice = await mail.messageFor(email, seen);
    expect(notice.raw).toMatch(/Subject: Your account was recovered with a new passkey/);
    expect(notice.raw).toContain('New phone');
    expect(sms.received.length).toBe(smsSeen);

    // /account says when and from where.
    const page = await t.get('/account', newCookie);
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/id="last-recovery">Recovered with a new passkey at <time datetime="[^"]+">[^<]+<\/time> from 127\.0\.0\.1/);
  });

  it('the holder is told on every bound channel when a recovery starts (email and SMS)', async () => {
    const { username, email, codes, cookie } = await holder('admin');
    const begun = await t.post('/api/v1/sms', { phone: '+447700900123' }, cookie);
    expect(begun.statusCode, begun.body).toBe(202);
    const confirmed = await t.post('/api/v1/sms/confirm', { attemptId: begun.json().attemptId, code: await sms.codeFor('+447700900123') }, cookie);
    expect(confirmed.statusCode, confirmed.body).toBe(201);
    const seen = mail.messages.length;
    const smsSeen = sms.received.length;
    const recovered = await recover(username, codes[0]!, { factor: 'sms', code: () => sms.codeFor('+447700900123', smsSeen) });
    expect(recovered.statusCode, recovered.body).toBe(200);
    expect((await mail.messageFor(email, seen)).raw).toMatch(/Subject: A recovery code was used on your account/);
    expect(sms.received.slice(smsSeen).some((m) => /A recovery code was used/.test(m.message))).toBe(true);
  });

  it('one recovery code opens one recovery session however many requests race with it', async () => {
    const { username, codes, account } = await holder();
    const attempts = await Promise.all(Array.from({ length: 8 }, () => start(username, 'recovery')));
    const answers = await Promise.all(attempts.map((attemptId) => t.post('/api/v1/recovery/verify', { attemptId, code: codes[5]! })));
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(1);
    for (const a of answers.filter((x) => x.statusCode !== 200)) expect(a.json().error).toMatch(/^code_(invalid|used)$/);
    const live = await t.store.sessions.listActive(account.id, t.clock.now);
    expect(live.filter((s) => s.purpose === 'recovery')).toHaveLength(1);
  });

  it('a recovery session ends every other session but a passkey one, and lasts 15 minutes, then binds nothing', async () => {
    const { username, codes, cookie: passkeyCookie, account } = await holder();
    const app = await enrolTotp(t, passkeyCookie);
    const codeSession = sessionCookie(await codeSignIn(t, username, 'totp', app.code(t.clock.now)));
    const cookie = sessionCookie(await recover(username, codes[0]!));
    const ended = await request('DELETE', '/api/v1/sessions', cookie);
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json()).toEqual({ ended: 1 });
    expect((await t.get('/api/v1/session', codeSession)).statusCode).toBe(401);
    expect((await t.get('/api/v1/session', passkeyCookie)).statusCode).toBe(200);
    // Begun in time, finished too late (the challenge still live): the recovery session has ended,
    // and nothing is bound. Use never extends it.
    t.clock.advance(14 * 60_000);
    const options = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
    expect(options.statusCode).toBe(200);
    t.clock.advance(2 * 60_000);
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(401);
    expect((await t.post('/api/v1/passkeys/registration/options', {}, cookie)).statusCode).toBe(401);
    const late = await t.post('/api/v1/passkeys/registration/verify', { response: new SoftAuthenticator().create(options.json()) }, cookie);
    expect([late.statusCode, late.json().error]).toEqual([401, 'session_required']);
    expect(await t.store.passkeys.listByAccount(account.id)).toHaveLength(1);
  });

  it('a role with recovery off makes no recovery codes and opens no recovery session', async () => {
    const off = await startTestApp({ backend, env: { KEYBOUND_MEMBER_RECOVERY: 'off' } });
    try {
      const { cookie } = await enrol(off, 'nobody');
      expect((await off.post('/api/v1/recovery-codes', {}, cookie)).json().error).toBe('factor_not_allowed');
    } finally {
      await off.close();
    }
  });
});
