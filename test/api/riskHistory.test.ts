/**
 * Issue 14, the history signals a policy file can act on at sign-in, on both databases: failed
 * sign-ins of the account in a short time (`failure_velocity`), and a SIM change the SMS gateway
 * reported for the account's phone (`sim_changed`). Both are read from the account's audit trail
 * (src/services/risk/evaluate.ts), which the failures and the SMS deliveries write.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/core/assurance/level.ts';
import { enrol, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { codeSignIn, enrolTotp, startSmsSink, type SmsSink } from '../codes/support.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const PHONE = '+15555550142';

const dir = mkdtempSync(join(tmpdir(), 'keybound-risk-history-'));
const policyFile = join(dir, 'policy.json');
writeFileSync(
  policyFile,
  JSON.stringify({
    rules: [
      { name: 'guessing_codes', when: { event: ['sign_in'], signals: ['failure_velocity'], factor: ['code'] }, then: 'deny', advice: 'Wait a few minutes, or sign in with a passkey.' },
      { name: 'guessing_passkeys', when: { event: ['sign_in'], signals: ['failure_velocity'], factor: ['passkey'] }, then: { step_up: { acr: ACR.aal3, max_age: 0 } } },
      { name: 'sim_swap', when: { event: ['sign_in'], signals: ['sim_changed'], factor: ['code'] }, then: 'deny', advice: 'Sign in with a passkey.' },
    ],
  }),
);

describe.each(BACKENDS)('risk policy on failed sign-ins and SIM changes (%s)', (backend) => {
  let t: TestApp;
  let sms: SmsSink;
  beforeAll(async () => {
    sms = await startSmsSink();
    t = await startTestApp({
      backend,
      env: {
        KEYBOUND_POLICY_FILE: policyFile,
        KEYBOUND_RISK_FAILURE_MAX: '3',
        KEYBOUND_RISK_FAILURE_WINDOW: '900',
        KEYBOUND_SMS_PROVIDER: 'http',
        KEYBOUND_SMS_URL: sms.url,
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

  it('failure_velocity: after 3 failed passkey and code attempts, a code is refused (403) and a passkey asked to step up (401), until the window passes', async () => {
    const { cookie, authenticator, account } = await enrol(t, 'fay');
    const totp = await enrolTotp(t, cookie);
    // Two passkey assertions that do not verify and one wrong code: three failed sign-ins.
    for (let i = 0; i < 2; i++) expect((await signIn(t, authenticator, { badSignature: true })).json().error).toBe('passkey_signature_invalid');
    const right = totp.code(t.clock.now);
    expect((await codeSignIn(t, 'fay', 'totp', right === '000000' ? '111111' : '000000')).json().error).toBe('code_invalid');

    t.clock.advance(5 * MINUTE);
    const code = await codeSignIn(t, 'fay', 'totp', totp.code(t.clock.now));
    expect(code.statusCode).toBe(403);
    expect(code.json()).toMatchObject({ error: 'risk_denied', reasons: ['failure_velocity'] });
    expect(code.json().message).toMatch(/many failed sign-ins in a short time.*Wait a few minutes, or sign in with a passkey/);
    const passkey = await signIn(t, authenticator);
    expect(passkey.statusCode).toBe(401);
    expect(passkey.json()).toMatchObject({ error: 'step_up_required', reasons: ['failure_velocity'], acr_values: ACR.aal3, max_age: 0 });
    expect(passkey.cookies.find((c) => c.name.endsWith('keybound_session'))).toBeUndefined();
    const [refused] = await t.store.audit.list({ accountId: account.id, type: 'sign_in', limit: 1 });
    expect(refused).toMatchObject({ outcome: 'failure', reason: 'step_up_required', details: { risk: { decision: 'step_up', signals: ['failure_velocity'] } } });
    // One more refusal by the policy: three in the window, which must not count as failed attempts
    // themselves (else the signal would feed itself and hold the account as long as anyone tries).
    expect((await codeSignIn(t, 'fay', 'totp', totp.code(t.clock.now))).statusCode).toBe(403);

    // 11 minutes later the three failures are older than the 15-minute window; the refusals are not.
    t.clock.advance(11 * MINUTE);
    expect((await signIn(t, authenticator)).statusCode).toBe(200);
    expect((await codeSignIn(t, 'fay', 'totp', totp.code(t.clock.now))).statusCode).toBe(200);
  });

  it('sim_changed: once the gateway reports a SIM change of the account\'s phone, code sign-ins are refused (403) for the window after the change; passkeys are not', async () => {
    const { cookie, authenticator } = await enrol(t, 'sim');
    const seen = sms.received.length;
    const begun = await t.post('/api/v1/sms', { phone: PHONE }, cookie);
    expect(begun.statusCode, begun.body).toBe(202);
    expect((await t.post('/api/v1/sms/confirm', { attemptId: begun.json().attemptId, code: await sms.codeFor(PHONE, seen) }, cookie)).statusCode).toBe(201);
    const totp = await enrolTotp(t, cookie);
    expect((await codeSignIn(t, 'sim', 'totp', totp.code(t.clock.now))).statusCode).toBe(200);

    const changedAt = t.clock.now - DAY;
    sms.simChangedAt = new Date(changedAt).toISOString();
    try {
      const before = sms.received.length;
      const bySms = await codeSignIn(t, 'sim', 'sms', () => sms.codeFor(PHONE, before));
      expect(bySms.json().error).toBe('sms_sim_changed');
    } finally {
      sms.simChangedAt = null;
    }
    // Another code factor is refused too: whoever holds the new SIM may hold more than the phone.
    t.clock.advance(MINUTE);
    const byApp = await codeSignIn(t, 'sim', 'totp', totp.code(t.clock.now));
    expect(byApp.statusCode).toBe(403);
    expect(byApp.json()).toMatchObject({ error: 'risk_denied', reasons: ['sim_changed'] });
    expect(byApp.json().message).toMatch(/the SIM card of the phone number changed recently.*Sign in with a passkey/);
    expect((await signIn(t, authenticator)).statusCode).toBe(200);

    // The window (7 days) runs from the SIM change the gateway reported, not from when it said so:
    // 7.5 days after the change (6.5 after the SMS), codes work again.
    t.clock.advance(changedAt + 7.5 * DAY - t.clock.now);
    expect((await codeSignIn(t, 'sim', 'totp', totp.code(t.clock.now))).statusCode).toBe(200);
  });
});
