import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { enrol, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { startMailSink, startSmsSink, type MailSink, type SmsSink } from './support.ts';

/** Issue 10, finding 9: codes sent to bind a phone number or mailbox are limited like sign-in sends. */
describe('finding 9: binding sends are limited per account, per destination and per address', () => {
  let t: TestApp;
  let sms: SmsSink;
  let mail: MailSink;
  beforeAll(async () => {
    sms = await startSmsSink();
    mail = await startMailSink();
    t = await startTestApp({
      env: {
        KEYBOUND_SMS_PROVIDER: 'http',
        KEYBOUND_SMS_URL: sms.url,
        KEYBOUND_SMTP_URL: mail.url,
        KEYBOUND_MEMBER_CODE_FACTORS: 'totp,sms,email',
        KEYBOUND_MEMBER_MIN_AAL: '1',
        KEYBOUND_CODE_MAX_SENDS: '5',
        KEYBOUND_CODE_MAX_SENDS_PER_ADDRESS: '8',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sms?.close();
    await mail?.close();
  });

  /** POSTs from the allowed origin, as a given client address. */
  const postFrom = (remoteAddress: string, url: string, payload: object, cookie: string) =>
    t.app.inject({ method: 'POST', url, payload, remoteAddress, headers: { origin: ORIGIN, 'content-type': 'application/json', cookie } });

  function expectSendLimit(response: Awaited<ReturnType<typeof postFrom>>) {
    expect(response.statusCode, response.body).toBe(429);
    expect(response.json().error).toBe('code_send_limit');
    expect(response.json().retry_after).toBeGreaterThanOrEqual(1);
    expect(response.json().retry_after).toBeLessThanOrEqual(600);
    expect(response.headers['retry-after']).toBe(String(response.json().retry_after));
  }

  it('per account: 12 numbers in a row from one session get 5 texts, then code_send_limit until the window passes', async () => {
    const { cookie, authenticator } = await enrol(t, 'pumper');
    const seen = sms.received.length;
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await postFrom(`198.51.100.${i + 1}`, '/api/v1/sms', { phone: `+1555555${String(1000 + i)}` }, cookie));
    expect(answers.slice(0, 5).map((a) => a.statusCode)).toEqual([202, 202, 202, 202, 202]);
    for (const refused of answers.slice(5)) expectSendLimit(refused);
    expect(sms.received.length - seen).toBe(5);
    // The limit lasts one code lifetime (KEYBOUND_CODE_TTL), like the sign-in send limit.
    t.clock.advance(600_000);
    const fresh = sessionCookie(await signIn(t, authenticator));
    expect((await postFrom('198.51.100.99', '/api/v1/sms', { phone: '+15555552000' }, fresh)).statusCode).toBe(202);
  });

  it('per destination: one number gets at most 5 texts however many accounts ask', async () => {
    const phone = '+15555553000';
    const seen = sms.received.length;
    const answers = [];
    for (let i = 0; i < 6; i++) {
      const { cookie } = await enrol(t, `dest-${i}`);
      answers.push(await postFrom(`203.0.113.${i + 1}`, '/api/v1/sms', { phone }, cookie));
      if (i === 5) expect((await postFrom('203.0.113.50', '/api/v1/sms', { phone: '+15555553001' }, cookie)).statusCode).toBe(202);
    }
    expect(answers.slice(0, 5).map((a) => a.statusCode)).toEqual([202, 202, 202, 202, 202]);
    expectSendLimit(answers[5]!);
    expect(sms.received.slice(seen).filter((m) => m.to === phone)).toHaveLength(5);
  });

  it('per address (an IPv6 client by its /64): at most 8 binding sends, across accounts', async () => {
    const answers = [];
    for (let i = 0; i < 9; i++) {
      const { cookie } = await enrol(t, `office-${i}`);
      answers.push(await postFrom(`2001:db8:9:9::${i + 1}`, '/api/v1/sms', { phone: `+1555555${4000 + i}` }, cookie));
      if (i === 8) expect((await postFrom('2001:db8:9:a::1', '/api/v1/sms', { phone: '+15555554999' }, cookie)).statusCode).toBe(202);
    }
    expect(answers.slice(0, 8).every((a) => a.statusCode === 202)).toBe(true);
    expectSendLimit(answers[8]!);
  });

  it('email: the account address gets at most 5 binding codes in a window', async () => {
    const invited = await invite(t.deps, { username: 'mailer', email: 'mailer@example.test', createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const { cookie } = await enrol(t, 'mailer');
    const seen = mail.messages.length;
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await postFrom(`192.0.2.${i + 1}`, '/api/v1/email-codes', {}, cookie));
    expect(answers.slice(0, 5).map((a) => a.statusCode)).toEqual([202, 202, 202, 202, 202]);
    expectSendLimit(answers[5]!);
    await mail.messageFor('mailer@example.test', seen + 4);
    expect(mail.messages.slice(seen).filter((m) => m.to.includes('mailer@example.test'))).toHaveLength(5);
  });
});
