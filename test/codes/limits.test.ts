import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { enrol, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { enrolTotp, MEMBER_CODES_ENV, startMailSink, type MailSink } from './support.ts';

/** Brute-force limits: increasing delays per account and per address, and a hard limit per authenticator. */
describe('code limits', () => {
  let t: TestApp;
  let mail: MailSink;
  beforeAll(async () => {
    mail = await startMailSink();
    t = await startTestApp({
      env: { ...MEMBER_CODES_ENV, KEYBOUND_CODE_FREE_FAILURES: '3', KEYBOUND_CODE_DELAY_BASE: '2', KEYBOUND_CODE_DELAY_MAX: '8', KEYBOUND_CODE_MAX_FAILURES: '10', KEYBOUND_SMTP_URL: mail.url },
    });
  });
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  /** A start and a verify from a given client address. */
  async function attempt(username: string, code: string, ip = '127.0.0.1', factor = 'totp') {
    const post = (url: string, payload: object) =>
      t.app.inject({ method: 'POST', url, payload, remoteAddress: ip, headers: { origin: ORIGIN, 'content-type': 'application/json' } });
    const { attemptId } = (await post('/api/v1/codes/sign-in/start', { username, factor })).json();
    return post('/api/v1/codes/sign-in/verify', { attemptId, code });
  }

  it('delays an account more after each failure, says retry_after, and lets the holder in with a passkey', async () => {
    const { cookie, authenticator } = await enrol(t, 'delia');
    const app = await enrolTotp(t, cookie);
    // Each try from a new address: only the account's own delay is in play.
    for (let i = 0; i < 4; i++) expect((await attempt('delia', '000000', `10.0.0.${i}`)).json().error).toBe('code_invalid');
    const waits: number[] = [];
    for (const wait of [2, 4, 8, 8]) {
      const refused = await attempt('delia', app.code(t.clock.now), '10.0.1.1');
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ error: 'code_throttled', retry_after: wait });
      expect(refused.headers['retry-after']).toBe(String(wait));
      waits.push(refused.json().retry_after);
      // A flood against the account never blocks its passkey.
      expect((await signIn(t, authenticator)).statusCode).toBe(200);
      t.clock.advance(wait * 1000);
      expect((await attempt('delia', '000000', `10.0.2.${wait}`)).json().error).toBe('code_invalid');
    }
    t.clock.advance(8000);
    const ok = await attempt('delia', app.code(t.clock.now), '10.0.3.1');
    expect(ok.statusCode, ok.body).toBe(200);
    // A success clears the account's delay.
    expect((await attempt('delia', '000000', '10.0.3.2')).json().error).toBe('code_invalid');
  });

  it('does not count right codes against an address many people share (one NAT)', async () => {
    const ip = '198.51.100.9';
    for (let i = 0; i < 8; i++) {
      const { cookie } = await enrol(t, `office-${i}`);
      const app = await enrolTotp(t, cookie);
      // The current time step (enrolment confirmed with the one before), so no clock has to move and no delay can lapse.
      const signedIn = await attempt(`office-${i}`, app.code(t.clock.now), ip);
      expect(signedIn.statusCode, `person ${i}: ${signedIn.body}`).toBe(200);
    }
  });

  it('delays a client address across accounts, known or not', async () => {
    const ip = '192.0.2.7';
    for (let i = 0; i < 4; i++) expect((await attempt(`nobody-${i}`, '123456', ip)).statusCode).toBe(400);
    const refused = await attempt('nobody-else', '123456', ip);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().retry_after).toBeGreaterThanOrEqual(1);
  });

  it('finding 12: delays an IPv6 client by its /64, not by each of its addresses', async () => {
    // Each try from another address of one /64: before the fix, every address had its own free tries.
    for (let i = 0; i < 4; i++) expect((await attempt(`nobody6-${i}`, '123456', `2001:db8:12:34::${i + 1}`)).statusCode).toBe(400);
    const refused = await attempt('nobody6-else', '123456', '2001:db8:12:34:ffff:1:2:3');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toBe('code_throttled');
    // The next /64 is someone else.
    expect((await attempt('nobody6-other', '123456', '2001:db8:12:35::1')).statusCode).toBe(400);
  });

  it('answers alike for unknown usernames, accounts without the factor, and a factor the account lacks', async () => {
    await enrol(t, 'plain');
    const answers = [];
    for (const [username, ip] of [['no-such-user', '198.51.100.1'], ['plain', '198.51.100.2']] as const) {
      const start = await t.app.inject({ method: 'POST', url: '/api/v1/codes/sign-in/start', payload: { username, factor: 'totp' }, remoteAddress: ip, headers: { origin: ORIGIN } });
      expect(start.statusCode).toBe(200);
      expect(Object.keys(start.json())).toEqual(['attemptId']);
      const verify = await attempt(username, '123456', ip);
      answers.push([verify.statusCode, verify.json()]);
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]![1].error).toBe('code_invalid');
  });

  it('finding 11: a disabled authenticator answers as a wrong code for a username nobody has', async () => {
    const { cookie, account } = await enrol(t, 'shut');
    const app = await enrolTotp(t, cookie);
    for (let i = 0; i < 10; i++) {
      t.clock.advance(10_000);
      await attempt('shut', '000000', `203.0.114.${i}`);
    }
    expect(await t.deps.store.authenticators.findBound(account.id, 'totp')).toMatchObject({ status: 'disabled' });
    t.clock.advance(10_000);
    const holder = await attempt('shut', app.code(t.clock.now), '203.0.114.50');
    t.clock.advance(10_000); // past the account's delay: only the disabled authenticator is in play
    const stranger = await attempt('shut', '123456', '203.0.114.51');
    const nobody = await attempt('nobody-shut', '123456', '203.0.114.52');
    for (const answer of [holder, stranger]) expect([answer.statusCode, answer.json()]).toEqual([nobody.statusCode, nobody.json()]);
    expect(nobody.json().error).toBe('code_invalid');
  });

  it('disables an authenticator after the limit of consecutive failures, tells the holder, and lets them rebind it from a passkey', async () => {
    const invited = await invite(t.deps, { username: 'lockme', email: 'lockme@example.test', createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const { cookie, authenticator, account } = await enrol(t, 'lockme');
    const app = await enrolTotp(t, cookie);
    const mailed = mail.messages.length;
    for (let i = 0; i < 10; i++) {
      t.clock.advance(10_000); // past every delay: only the per-authenticator limit is in play
      expect((await attempt('lockme', '000000', `203.0.113.${i}`)).json().error).toBe('code_invalid');
    }
    t.clock.advance(10_000);
    // Issue 10 finding 11: no code is compared any more, so even the right one answers as a wrong
    // code for an unknown username; the holder learns of it from the notice below.
    const locked = await attempt('lockme', app.code(t.clock.now), '203.0.113.99');
    expect(locked.statusCode).toBe(400);
    expect(locked.json().error).toBe('code_invalid');
    const stored = await t.deps.store.authenticators.findBound(account.id, 'totp');
    expect(stored).toMatchObject({ status: 'disabled', disabledReason: 'too_many_failures', failures: 10 });
    const events = await t.deps.store.audit.list({ accountId: account.id, limit: 100 });
    expect(events.filter((e) => e.type === 'authenticator.disabled')).toHaveLength(1);
    const notice = await mail.messageFor('lockme@example.test', mailed);
    expect(notice.raw).toMatch(/Subject: A sign-in method on your account was disabled/);
    // Rebinding: a passkey sign-in, a new app, and codes work again.
    const again = sessionCookie(await signIn(t, authenticator));
    const factors = (await t.get('/api/v1/factors', again)).json().factors;
    expect(factors.find((f: { factor: string }) => f.factor === 'totp')).toMatchObject({ status: 'disabled' });
    t.clock.advance(10_000);
    const rebound = await enrolTotp(t, again);
    expect((await attempt('lockme', rebound.code(t.clock.now), '203.0.113.100')).statusCode).toBe(200);
  });
});
