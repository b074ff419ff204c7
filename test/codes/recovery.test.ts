import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoveryCodeHash } from '../../src/codes/recovery.ts';
import { invite } from '../../src/services/invitations.ts';
import { enrol, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { MEMBER_CODES_ENV, startMailSink, type MailSink } from './support.ts';

/** A self-service recovery with one saved code (README "Recovery"; member is AAL1 here, so one code suffices). */
async function recoverWith(t: TestApp, username: string, code: string) {
  const start = await t.post('/api/v1/recovery/start', { username, factor: 'recovery' });
  if (start.statusCode !== 200) throw new Error(`start: ${start.statusCode} ${start.body}`);
  return t.post('/api/v1/recovery/verify', { attemptId: start.json().attemptId, code });
}

describe('recovery codes', () => {
  let t: TestApp;
  let mail: MailSink;
  beforeAll(async () => {
    mail = await startMailSink();
    t = await startTestApp({ env: { ...MEMBER_CODES_ENV, KEYBOUND_SMTP_URL: mail.url, KEYBOUND_CODE_FREE_FAILURES: '1000' } });
  });
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  it('come as a set of 10 shown once, each opens one recovery session, and every use is audited and announced', async () => {
    const invited = await invite(t.deps, { username: 'rita', email: 'rita@example.test', createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const { cookie, account, authenticator } = await enrol(t, 'rita');
    const made = await t.post('/api/v1/recovery-codes', {}, cookie);
    expect(made.statusCode).toBe(201);
    const codes: string[] = made.json().codes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    // Stored hashed: no row holds a code.
    const stored = await t.deps.store.authenticators.findBound(account.id, 'recovery_codes');
    expect(stored).toMatchObject({ status: 'active', secret: null });
    const seen = mail.messages.length;
    const used = await recoverWith(t, 'rita', codes[3]!.toLowerCase());
    expect(used.statusCode, used.body).toBe(200);
    expect(used.json()).toMatchObject({ recoveryCodesLeft: 9, session: { purpose: 'recovery', aal: 1 } });
    const notice = await mail.messageFor('rita@example.test', seen);
    expect(notice.raw).toMatch(/Subject: A recovery code was used on your account/);
    expect(notice.raw).toMatch(/9 unused codes are left/);
    const events = await t.deps.store.audit.list({ accountId: account.id, limit: 50 });
    expect(events.find((e) => e.type === 'recovery.session_started')?.details).toMatchObject({ factors: ['recovery'] });
    // Once only.
    expect((await recoverWith(t, 'rita', codes[3]!)).json().error).toBe('code_invalid');
    expect((await recoverWith(t, 'rita', 'not a code')).json().error).toBe('code_malformed');

    // A new set replaces the whole old one; it needs a fresh passkey sign-in.
    t.clock.advance(10 * 60_000);
    expect((await t.post('/api/v1/recovery-codes', {}, cookie)).json().error).toBe('fresh_auth_required');
    expect((await t.post('/api/v1/recovery-codes', {}, sessionCookie(used))).json().error).toBe('recovery_session_limited');
    const fresh = sessionCookie(await signIn(t, authenticator));
    const next: string[] = (await t.post('/api/v1/recovery-codes', {}, fresh)).json().codes;
    expect((await recoverWith(t, 'rita', codes[4]!)).json().error).toBe('code_invalid');
    expect((await recoverWith(t, 'rita', next[0]!)).statusCode).toBe(200);
  });

  it('ASVS 6.5.2: are 120-bit codes in six groups of four, and 80-bit codes issued before still work until replaced', async () => {
    const { cookie, account } = await enrol(t, 'legacy');
    const made = await t.post('/api/v1/recovery-codes', {}, cookie);
    expect(made.statusCode).toBe(201);
    const codes: string[] = made.json().codes;
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$/);
    // A code of the earlier, shorter form, stored as it was: the hash of its normalised text.
    const set = await t.store.authenticators.findBound(account.id, 'recovery_codes');
    await t.store.recoveryCodes.insertSet(set!.id, [{ id: 'legacy-code-1', codeHash: recoveryCodeHash('0123456789ABCDEF') }]);
    const legacy = await recoverWith(t, 'legacy', '0123-4567-89ab-cdef');
    expect(legacy.statusCode, legacy.body).toBe(200);
    expect((await recoverWith(t, 'legacy', '0123 4567 89AB CDEF')).json().error).toBe('code_invalid'); // used
    // A new code typed in lower case without its hyphens.
    expect((await recoverWith(t, 'legacy', codes[0]!.toLowerCase().replace(/-/g, ''))).statusCode).toBe(200);
  });
});
