import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/core/assurance/level.ts';
import { enrol, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { codeSignIn, startSmsSink, type SmsSink } from './support.ts';

const PHONE = '+447700900123';

/** SMS codes through the http provider, against a real HTTP gateway on loopback. */
describe('SMS codes', () => {
  let t: TestApp;
  let sms: SmsSink;
  beforeAll(async () => {
    sms = await startSmsSink();
    t = await startTestApp({
      env: {
        KEYBOUND_SMS_PROVIDER: 'http',
        KEYBOUND_SMS_URL: sms.url,
        KEYBOUND_SMS_TOKEN: 'gateway-secret',
        KEYBOUND_MEMBER_CODE_FACTORS: 'totp,sms',
        KEYBOUND_MEMBER_MIN_AAL: '1',
        KEYBOUND_CODE_FREE_FAILURES: '1000',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sms?.close();
  });

  /** Binds PHONE for `username` from a fresh passkey session. */
  async function bindPhone(cookie: string, phone = PHONE) {
    const seen = sms.received.length;
    const begun = await t.post('/api/v1/sms', { phone: phone.replace(/(\d{4})(\d{3})$/, ' $1 $2') }, cookie);
    expect(begun.statusCode, begun.body).toBe(202);
    expect(begun.json().notice).toMatch(/weaker.*SIM swap.*passkey/s);
    const code = await sms.codeFor(phone, seen);
    return t.post('/api/v1/sms/confirm', { attemptId: begun.json().attemptId, code }, cookie);
  }

  /** A whole SMS sign-in: start, read the code the gateway received, verify. */
  async function smsSignIn(username: string, phone: string) {
    const seen = sms.received.length;
    return codeSignIn(t, username, 'sms', () => sms.codeFor(phone, seen));
  }

  it('binds a phone number with a code sent to it, from a fresh AAL2 passkey session only', async () => {
    const { cookie, authenticator } = await enrol(t, 'sam');
    const bound = await bindPhone(cookie);
    expect(bound.statusCode, bound.body).toBe(201);
    expect(bound.json().factor).toMatchObject({ factor: 'sms', destination: '+44•••••••123', strength: ['can be phished', 'can be intercepted by SIM swap'] });
    // The code, then the notice that a sign-in method was added, to the number now bound.
    const [request, notice] = sms.received.slice(-2) as [(typeof sms.received)[number], (typeof sms.received)[number]];
    expect(notice.message).toMatch(/^Keybound: A sign-in method was added to your account\. Not you\?/);
    expect(request.headers.authorization).toBe('Bearer gateway-secret');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.message).toMatch(/\n@localhost #[0-9]{6}$/);

    // Changing the number binds a new authenticator: again a fresh passkey sign-in is needed...
    t.clock.advance(6 * 60_000);
    expect((await t.post('/api/v1/sms', { phone: '+447700900999' }, cookie)).json().error).toBe('fresh_auth_required');
    // ...and a session from a code sign-in (AAL1) never qualifies.
    const viaSms = await smsSignIn('sam', PHONE);
    expect(viaSms.statusCode, viaSms.body).toBe(200);
    expect((await t.post('/api/v1/sms', { phone: '+447700900999' }, sessionCookie(viaSms))).json().error).toBe('fresh_auth_required');
    const fresh = sessionCookie(await signIn(t, authenticator));
    expect((await bindPhone(fresh, '+447700900999')).statusCode).toBe(201);
    const factors = (await t.get('/api/v1/factors', fresh)).json().factors.filter((f: { factor: string }) => f.factor === 'sms');
    expect(factors).toHaveLength(1);
    expect(factors[0].destination).toBe('+44•••••••999');
    expect((await t.post('/api/v1/sms', { phone: '07700 900123' }, fresh)).json().error).toBe('phone_invalid');
  });

  it('signs in with a code sent by SMS, once, at AAL1 with amr sms', async () => {
    const { cookie } = await enrol(t, 'sally');
    await bindPhone(cookie, '+15555550101');
    const seen = sms.received.length;
    const start = await t.post('/api/v1/codes/sign-in/start', { username: 'sally', factor: 'sms' });
    const { attemptId } = start.json();
    const code = await sms.codeFor('+15555550101', seen);
    expect(sms.received.at(-1)!.message).toMatch(/expires in 10 minutes/);
    const first = await t.post('/api/v1/codes/sign-in/verify', { attemptId, code });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ acr: ACR.aal1, aal: 1, amr: ['sms', 'otp'], factor: { kind: 'sms', strength: ['can be phished', 'can be intercepted by SIM swap'] } });
    const second = await t.post('/api/v1/codes/sign-in/verify', { attemptId, code });
    expect(second.json().error).toBe('code_used');
    // The code is bound to its attempt: another attempt does not take it.
    const other = (await t.post('/api/v1/codes/sign-in/start', { username: 'sally', factor: 'sms' })).json().attemptId;
    expect((await t.post('/api/v1/codes/sign-in/verify', { attemptId: other, code })).json().error).toBe('code_invalid');
  });

  it('does not reset the failure count when a new code is asked for', async () => {
    const { cookie, account } = await enrol(t, 'sid');
    await bindPhone(cookie, '+15555550102');
    const failures = async () => (await t.deps.store.authenticators.findBound(account.id, 'sms_code'))!.failures;
    const start = async () => (await t.post('/api/v1/codes/sign-in/start', { username: 'sid', factor: 'sms' })).json().attemptId as string;
    const first = await start();
    for (let i = 0; i < 3; i++) await t.post('/api/v1/codes/sign-in/verify', { attemptId: first, code: '000000' });
    expect(await failures()).toBe(3);
    const second = await start();
    expect(await failures()).toBe(3);
    await t.post('/api/v1/codes/sign-in/verify', { attemptId: second, code: '000000' });
    expect(await failures()).toBe(4);
  });

  it('finding 11: a SIM change is said only to someone who typed the code that was sent', async () => {
    const { cookie, account } = await enrol(t, 'swapped');
    await bindPhone(cookie, '+15555550104');
    sms.simChangedAt = new Date(t.clock.now - 86_400_000).toISOString();
    try {
      const seen = sms.received.length;
      const { attemptId } = (await t.post('/api/v1/codes/sign-in/start', { username: 'swapped', factor: 'sms' })).json();
      const code = await sms.codeFor('+15555550104', seen);
      const wrong = code === '000000' ? '111111' : '000000';
      const stranger = await t.post('/api/v1/codes/sign-in/verify', { attemptId, code: wrong });
      const nobody = await codeSignIn(t, 'nobody-with-a-phone', 'sms', wrong);
      expect([stranger.statusCode, stranger.json()]).toEqual([nobody.statusCode, nobody.json()]);
      expect(stranger.json().error).toBe('code_invalid');
      expect((await t.deps.store.authenticators.findBound(account.id, 'sms_code'))!.failures).toBe(1);
      const holder = await t.post('/api/v1/codes/sign-in/verify', { attemptId, code });
      expect(holder.statusCode).toBe(403);
      expect(holder.json().error).toBe('sms_sim_changed');
    } finally {
      sms.simChangedAt = null;
    }
  });

  it('refuses the code when the gateway reports a recent SIM change, and records why', async () => {
    const { cookie, account } = await enrol(t, 'simon');
    await bindPhone(cookie, '+15555550103');
    sms.simChangedAt = new Date(t.clock.now - 86_400_000).toISOString(); // a day ago, inside the 7-day window
    try {
      const seen = sms.received.length;
      const { attemptId } = (await t.post('/api/v1/codes/sign-in/start', { username: 'simon', factor: 'sms' })).json();
      const code = await sms.codeFor('+15555550103', seen);
      const refused = await t.post('/api/v1/codes/sign-in/verify', { attemptId, code });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error).toBe('sms_sim_changed');
      const events = await t.deps.store.audit.list({ accountId: account.id, limit: 50 });
      expect(events.find((e) => e.type === 'code.delivery' && e.reason === 'sms_sim_changed')?.details).toMatchObject({ factor: 'sms', simChangedAt: sms.simChangedAt });
      expect(events.find((e) => e.type === 'sign_in' && e.outcome === 'failure' && e.reason === 'sms_sim_changed')).toBeDefined();
      // Outside the window (30 days ago, epoch milliseconds) codes work again.
      sms.simChangedAt = t.clock.now - 30 * 86_400_000;
      const ok = await smsSignIn('simon', '+15555550103');
      expect(ok.statusCode, ok.body).toBe(200);
    } finally {
      sms.simChangedAt = null;
    }
  });
});
