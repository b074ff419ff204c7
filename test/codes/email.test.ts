import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/core/assurance/level.ts';
import { invite } from '../../src/services/invitations.ts';
import { enrol, startTestApp, type TestApp } from '../helpers/app.ts';
import { startMailSink, type MailSink } from './support.ts';

/** Email codes through nodemailer, against a real SMTP server (smtp-server) on loopback. */
describe('email codes', () => {
  let t: TestApp;
  let mail: MailSink;
  beforeAll(async () => {
    mail = await startMailSink();
    t = await startTestApp({ env: { KEYBOUND_SMTP_URL: mail.url, KEYBOUND_MAIL_FROM: 'Keybound <id@example.test>', KEYBOUND_MEMBER_CODE_FACTORS: 'totp,email', KEYBOUND_MEMBER_MIN_AAL: '1' } });
  });
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  async function enrolWithEmail(username: string, email: string) {
    const invited = await invite(t.deps, { username, email, createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    return enrol(t, username);
  }

  it('binds the account address, sends a code that works once, and labels email as not NIST-accepted everywhere', async () => {
    const { cookie, account } = await enrolWithEmail('emma', 'emma@example.test');
    let seen = mail.messages.length;
    const begun = await t.post('/api/v1/email-codes', {}, cookie);
    expect(begun.statusCode, begun.body).toBe(202);
    expect(begun.json().notice).toMatch(/NIST does not accept/);
    const bindCode = await mail.codeFor('emma@example.test', seen);
    const bound = await t.post('/api/v1/email-codes/confirm', { attemptId: begun.json().attemptId, code: bindCode }, cookie);
    expect(bound.statusCode, bound.body).toBe(201);
    expect(bound.json().factor).toMatchObject({ factor: 'email', nistAccepted: false, destination: 'e•••@example.test' });
    expect(bound.json().factor.strength).toContain('not an authenticator NIST accepts');

    seen = mail.messages.length;
    const { attemptId } = (await t.post('/api/v1/codes/sign-in/start', { username: 'emma', factor: 'email' })).json();
    const message = await mail.messageFor('emma@example.test', seen);
    expect(message.raw).toMatch(/^From: Keybound <id@example\.test>/m);
    expect(message.raw).toMatch(/^Subject: Your sign-in code for Keybound/m);
    const code = await mail.codeFor('emma@example.test', seen);
    const first = await t.post('/api/v1/codes/sign-in/verify', { attemptId, code });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ acr: ACR.aal1, aal: 1, amr: ['otp'], factor: { kind: 'email', nistAccepted: false } });
    expect((await t.post('/api/v1/codes/sign-in/verify', { attemptId, code })).json().error).toBe('code_used');

    const factors = (await t.get('/api/v1/factors', cookie)).json().factors;
    expect(factors.find((f: { factor: string }) => f.factor === 'email')).toMatchObject({ nistAccepted: false });
    const events = await t.deps.store.audit.list({ accountId: account.id, limit: 50 });
    expect(events.find((e) => e.type === 'sign_in' && e.outcome === 'success' && e.details.factor === 'email')?.details.nist).toMatch(/not an authenticator NIST/);
  });

  it('needs an address on the account', async () => {
    const { cookie } = await enrol(t, 'no-address');
    expect((await t.post('/api/v1/email-codes', {}, cookie)).json().error).toBe('email_missing');
  });
});
