/**
 * Issue 13, takeover-path analysis through the API on both databases: `GET /api/v1/account/paths`
 * and `GET /api/v1/admin/accounts/{username}/paths` answer the shape `keybound analyse --account`
 * prints, and the policy guard refuses, with 403 `policy_would_weaken_account` and the path it would
 * open, a change that would take an account below `KEYBOUND_<ROLE>_MIN_EFFECTIVE_ACR`: binding an
 * authenticator app (before any seed exists), binding a phone (before any code is sent), saving
 * one-code recovery codes, and a role change.
 *
 * Seen failing without the guard (the calls in totpEnrolment.ts, deliveredBinding.ts,
 * recoveryCodes.ts and roles.ts commented out): 201/202/201 and a changed role instead of 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/core/assurance/level.ts';
import { changeRole } from '../../src/services/roles.ts';
import { enrol, ManualClock, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { startMailSink, startSmsSink, type MailSink, type SmsSink } from '../codes/support.ts';
import { invite } from '../../src/services/invitations.ts';

describe.each(BACKENDS)('takeover paths and the policy guard on %s', (backend) => {
  let t: TestApp;
  let sms: SmsSink;
  let mail: MailSink;
  let n = 0;

  beforeAll(async () => {
    [sms, mail] = await Promise.all([startSmsSink(), startMailSink()]);
    t = await startTestApp({
      backend,
      clock: new ManualClock(Date.now()),
      env: {
        KEYBOUND_SMS_PROVIDER: 'http',
        KEYBOUND_SMS_URL: sms.url,
        KEYBOUND_SMTP_URL: mail.url,
        // admin: codes may sign in (AAL1), yet every admin account must stay at AAL2 or above.
        KEYBOUND_ADMIN_MIN_AAL: '1',
        KEYBOUND_ADMIN_CODE_FACTORS: 'totp,sms,email',
        KEYBOUND_ADMIN_RECOVERY: 'code',
        KEYBOUND_ADMIN_MIN_EFFECTIVE_ACR: 'aal2',
        // member: AAL1 allowed, and the effective level follows it (the default).
        KEYBOUND_MEMBER_MIN_AAL: '1',
        KEYBOUND_MEMBER_CODE_FACTORS: 'totp',
        KEYBOUND_MEMBER_RECOVERY: 'code',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([sms?.close(), mail?.close()]);
  });

  const account = (role: 'admin' | 'member') => enrol(t, `${role}-${backend}-${++n}`, new SoftAuthenticator(), role);

  it('refuses an authenticator app that would take an admin below AAL2, before a seed exists', async () => {
    const { cookie, account: admin } = await account('admin');
    const begun = await t.post('/api/v1/totp', {}, cookie);
    expect(begun.statusCode, begun.body).toBe(403);
    expect(begun.json().error).toBe('policy_would_weaken_account');
    expect(begun.json().message).toMatch(/sign-in with an authenticator app code, which gives AAL1 \(the role requires AAL2\) and which phishing relay/);
    expect(begun.body).not.toMatch(/otpauth/);
    expect(await t.store.authenticators.findPending(admin.id, 'totp')).toBeUndefined();
  });

  it('refuses a phone number for text-message codes before any code is sent', async () => {
    const { cookie } = await account('admin');
    const before = sms.received.length;
    const begun = await t.post('/api/v1/sms', { phone: '+44 7700 900123' }, cookie);
    expect(begun.statusCode, begun.body).toBe(403);
    expect(begun.json().error).toBe('policy_would_weaken_account');
    expect(begun.json().message).toMatch(/text-message code.*sim swap/);
    expect(sms.received.length).toBe(before);
  });

  it('refuses email codes before any mail is sent', async () => {
    const username = `admin-${backend}-${++n}`;
    const invited = await invite(t.deps, { username, email: `${username}@example.test`, role: 'admin', createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const { cookie } = await enrol(t, username, new SoftAuthenticator(), 'admin');
    const toHolder = () => mail.messages.filter((m) => m.to.includes(`${username}@example.test`)).length;
    const before = toHolder();
    const begun = await t.post('/api/v1/email-codes', {}, cookie);
    expect(begun.statusCode, begun.body).toBe(403);
    expect(begun.json().error).toBe('policy_would_weaken_account');
    expect(begun.json().message).toMatch(/sign-in with an email code, which gives AAL1 .*mailbox takeover/);
    // A binding code is sent before the 202 is answered: none was.
    expect(toHolder()).toBe(before);
  });

  it('refuses one-code recovery codes for an admin, and allows them for a member whose role allows AAL1', async () => {
    const admin = await account('admin');
    const refused = await t.post('/api/v1/recovery-codes', {}, admin.cookie);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().error).toBe('policy_would_weaken_account');
    expect(refused.json().message).toMatch(/recovery with one saved recovery code/);
    const member = await account('member');
    expect((await t.post('/api/v1/recovery-codes', {}, member.cookie)).statusCode).toBe(201);
    expect((await t.post('/api/v1/totp', {}, member.cookie)).statusCode).toBe(201);
  });

  it('GET /api/v1/account/paths answers every way in, the effective level and findings', async () => {
    const member = await account('member');
    expect((await t.post('/api/v1/recovery-codes', {}, member.cookie)).statusCode).toBe(201);
    const answer = await t.get('/api/v1/account/paths', member.cookie);
    expect(answer.statusCode, answer.body).toBe(200);
    const body = answer.json();
    expect(body).toMatchObject({ account: member.account.username, role: 'member', requiredAcr: ACR.aal1, effectiveAcr: ACR.aal1 });
    const passkeys = (await t.get('/api/v1/passkeys', member.cookie)).json().passkeys as { id: string }[];
    expect(body.paths.map((p: { id: string }) => p.id)).toEqual([`passkey:${passkeys[0]!.id}`, 'recovery:code']);
    expect(body.paths[0]).toMatchObject({ kind: 'sign_in', factors: ['passkey'], grantsAcr: ACR.aal2PhishingResistant, capabilities: [['device_theft_unlocked'], ['device_malware']] });
    expect(body.paths[1]).toMatchObject({ kind: 'recovery', factors: ['recovery_code'], grantsAcr: ACR.aal1, capabilities: [['phishing_relay'], ['stolen_recovery_codes']] });
    expect(body.findings.map((f: { code: string }) => f.code)).toContain('recovery_weaker_than_sign_in');
    expect(body.governedPaths.map((p: { id: string }) => p.id)).toEqual(['assisted_recovery']);
    expect((await t.get('/api/v1/account/paths')).statusCode).toBe(401);
  });

  it('GET /api/v1/admin/accounts/{username}/paths: the same answer for an administrator, 403 for anyone else', async () => {
    const admin = await account('admin');
    const member = await account('member');
    const own = (await t.get('/api/v1/account/paths', member.cookie)).json();
    const seen = await t.get(`/api/v1/admin/accounts/${member.account.username}/paths`, admin.cookie);
    expect(seen.statusCode, seen.body).toBe(200);
    expect(seen.json()).toEqual(own);
    expect((await t.get(`/api/v1/admin/accounts/${admin.account.username}/paths`, member.cookie)).statusCode).toBe(403);
    expect((await t.get('/api/v1/admin/accounts/nobody-here/paths', admin.cookie)).json().error).toBe('account_not_found');
  });

  it('refuses a role change that would leave the account below the new role\'s level', async () => {
    const member = await account('member');
    expect((await t.post('/api/v1/recovery-codes', {}, member.cookie)).statusCode).toBe(201);
    const result = await changeRole(t.deps, { username: member.account.username, role: 'admin' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('policy_would_weaken_account');
      expect(result.message).toMatch(/recovery with one saved recovery code/);
    }
    expect((await t.store.accounts.findByUsername(member.account.username))?.role).toBe('member');
    // Without the weak way in, the change goes through.
    const clean = await account('member');
    expect((await changeRole(t.deps, { username: clean.account.username, role: 'admin' })).ok).toBe(true);
  });

  it('through the API: refuses a request to raise a role, and its approval when the holder weakened the account meanwhile', async () => {
    const [requester, approver] = [await account('admin'), await account('admin')];
    const weak = await account('member');
    expect((await t.post('/api/v1/recovery-codes', {}, weak.cookie)).statusCode).toBe(201);
    const refused = await t.post(`/api/v1/admin/accounts/${weak.account.username}/role`, { role: 'admin' }, requester.cookie);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().error).toBe('policy_would_weaken_account');

    const later = await account('member');
    const requested = await t.post(`/api/v1/admin/accounts/${later.account.username}/role`, { role: 'admin' }, requester.cookie);
    expect(requested.statusCode, requested.body).toBe(202);
    // While the request waits, the holder saves one-code recovery codes (allowed as a member).
    expect((await t.post('/api/v1/recovery-codes', {}, later.cookie)).statusCode).toBe(201);
    const approved = await t.post(`/api/v1/admin/approvals/${requested.json().approval.id}/approve`, {}, approver.cookie);
    expect(approved.statusCode, approved.body).toBe(403);
    expect(approved.json().error).toBe('policy_would_weaken_account');
    expect((await t.store.accounts.findByUsername(later.account.username))?.role).toBe('member');
  });
});
