/**
 * Issue 16, posture dashboard and standards report, in-process on SQLite and PostgreSQL:
 * `GET /api/v1/admin/posture` has the figures behind every chart (sign-ins by day with their
 * phishing-resistant share, factor mix and levels by role, code sign-ins by factor, passkey
 * adoption, machine identities), validates `?days=`, and is for administrators only;
 * `GET /api/v1/admin/report` answers the report's exact shape; enabling SMS codes for a role
 * changes the status of the controls it touches, and disabling it changes them back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/services/nhi/apiKeys.ts';
import { enrol, ManualClock, ORIGIN, sessionCookie, signIn, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { runCli } from '../helpers/server.ts';
import { codeSignIn, enrolTotp, MEMBER_CODES_ENV } from '../codes/support.ts';

const DAY = 86_400_000;
const STATUSES = ['met', 'partial', 'not_met', 'not_applicable'];
// The admin role's recovery is pinned: unset, it takes SMS as a second proof as soon as SMS is configured.
const SMS_ON = { KEYBOUND_MEMBER_CODE_FACTORS: 'totp,sms', KEYBOUND_MEMBER_MIN_AAL: '1', KEYBOUND_SMS_PROVIDER: 'console', KEYBOUND_ADMIN_RECOVERY: 'code+totp' };

type ReportJson = { generatedAt: string; frameworks: { id: string; title: string; controls: { id: string; title: string; status: string; evidence: string[] }[] }[] };
const statusOf = (report: ReportJson, id: string) => report.frameworks.flatMap((f) => f.controls).find((c) => c.id === id)?.status;

describe.each(BACKENDS)('posture and standards report on %s', (backend) => {
  let t: TestApp;
  let admin: string;
  let member: string;
  const get = (url: string, cookie = admin) => t.app.inject({ method: 'GET', url, headers: { origin: ORIGIN, cookie } });

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.UTC(2026, 10, 20, 12)), env: { ...MEMBER_CODES_ENV } });
    const root = await enrol(t, 'root', undefined, 'admin');
    t.clock.advance(2 * DAY);
    const wendy = await enrol(t, 'wendy');
    const totp = await enrolTotp(t, wendy.cookie);
    t.clock.advance(DAY);
    // A code sign-in (AAL1) and a passkey sign-in on the same day.
    t.clock.advance(60_000);
    const coded = await codeSignIn(t, 'wendy', 'totp', () => Promise.resolve(totp.code(t.clock.now)));
    expect(coded.statusCode, coded.body).toBe(200);
    expect((await signIn(t, root.authenticator)).statusCode).toBe(200);
    const signedIn = await signIn(t, root.authenticator);
    admin = signedIn.cookies.filter((c) => c.name.endsWith('keybound_session')).map((c) => `${c.name}=${c.value}`)[0]!;
    member = sessionCookie(coded);
    expect((await createApiKey(t.deps, { owner: 'wendy', name: 'Build', scopes: ['read'], expiresInMs: 3 * DAY, by: 'test' })).ok).toBe(true);
  }, 60_000);
  afterAll(async () => t?.close());

  it('GET /api/v1/admin/posture: the figures behind every chart, over ?days=', async () => {
    const answer = await get('/api/v1/admin/posture?days=7');
    expect(answer.statusCode, answer.body).toBe(200);
    const p = answer.json();
    expect(p.days).toBe(7);
    expect(p.signIns.byDay).toHaveLength(7);
    expect(p.signIns.byDay.at(-1).date).toBe(new Date(t.clock.now).toISOString().slice(0, 10));
    // Two enrolments (passkey sign-ins), one code sign-in and two passkey sign-ins: 4 of 5 phishing-resistant.
    expect(p.signIns).toMatchObject({ total: 5, phishingResistant: 4 });
    expect(p.signIns.byDay.at(-1)).toMatchObject({ total: 3, phishingResistant: 2 });
    expect(p.codeSignIns.byFactor).toEqual({ totp: 1, sms_code: 0, email_code: 0 });
    const roles = Object.fromEntries(p.factorMix.map((m: { role: string }) => [m.role, m]));
    expect(roles.admin).toMatchObject({ accounts: 1, factors: { passkey_device_bound: 1 } });
    expect(roles.member).toMatchObject({ accounts: 1, factors: { totp: 1 } });
    const levels = Object.fromEntries(p.levels.map((l: { role: string }) => [l.role, l]));
    expect(levels.member).toMatchObject({ accounts: 1, requiredAcr: 'urn:keybound:aal1', belowRequired: 0, byEffectiveAcr: { 'urn:keybound:aal1': 1 } });
    // Adoption: the admin's first passkey 3 days ago, the member's one day later.
    expect(p.passkeyAdoption.byDay.map((d: { accounts: number }) => d.accounts).slice(-4)).toEqual([1, 1, 2, 2]);
    expect(p.passkeyAdoption.activeAccounts).toBe(2);
    expect(p.nhi).toMatchObject({ apiKeys: 1, issues: { api_key: { expiring: 1 } } });
    // The default window is 30 days; a window starting before the first passkey counts from zero.
    const month = (await get('/api/v1/admin/posture')).json();
    expect(month.days).toBe(30);
    expect(month.passkeyAdoption.byDay[0].accounts).toBe(0);
  });

  it('?days= is a whole number from 1 to 365; members are refused', async () => {
    for (const days of ['0', '366', '-1', '1.5', 'abc', '007x']) {
      const answer = await get(`/api/v1/admin/posture?days=${days}`);
      expect(answer.statusCode, days).toBe(400);
      expect(answer.json().error).toBeTypeOf('string');
    }
    expect((await get('/api/v1/admin/posture?days=365')).statusCode).toBe(200);
    expect((await get('/api/v1/admin/posture?days=7&extra=1')).statusCode).toBe(400);
    for (const url of ['/api/v1/admin/posture', '/api/v1/admin/report']) {
      const refused = await get(url, member);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error).toBe('admin_required');
      expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    }
  });

  it('GET /api/v1/admin/report: the exact shape, every control computed, each saying what changes it', async () => {
    const answer = await get('/api/v1/admin/report');
    expect(answer.statusCode, answer.body).toBe(200);
    const report = answer.json() as ReportJson;
    expect(Object.keys(report).sort()).toEqual(['frameworks', 'generatedAt']);
    expect(report.generatedAt).toBe(new Date(t.clock.now).toISOString());
    expect(report.frameworks.map((f) => f.id)).toEqual(['nist-sp-800-63b-4', 'nist-csf-2.0', 'nist-sp-800-207', 'owasp-nhi-top-10']);
    for (const f of report.frameworks) {
      expect(Object.keys(f).sort()).toEqual(['controls', 'id', 'title']);
      for (const c of f.controls) {
        expect(Object.keys(c).sort()).toEqual(['evidence', 'id', 'status', 'title']);
        expect(STATUSES).toContain(c.status);
        expect(c.evidence.at(-1)).toMatch(/^Change with: /);
      }
    }
    const controls = report.frameworks.flatMap((f) => f.controls.map((c) => c.id));
    for (const id of ['PR.AA-01', 'PR.AA-02', 'PR.AA-03', 'PR.AA-04', 'PR.AA-05', 'PR.AA-06', 'ZT-1', 'ZT-7', 'NHI1', 'NHI10', '63B-THROTTLE', '63B-REAUTH', '63B-RECOVERY', '63B-RESTRICTED-SMS']) expect(controls).toContain(id);
    // From this installation's data: the member signs in with codes (AAL1), no SMS anywhere, the trail verifies.
    expect(statusOf(report, '63B-RESTRICTED-SMS')).toBe('met');
    expect(statusOf(report, '63B-AAL')).toBe('partial');
    expect(statusOf(report, 'PR.AA-03')).toBe('partial');
    expect(statusOf(report, 'DE.CM-03')).toBe('met');
    expect(statusOf(report, '63B-AAL3-NONEXPORTABLE')).toBe('met');
  });

  it('enabling SMS codes for a role changes the controls it touches, and disabling it changes them back (the CLI, same database)', async () => {
    const cli = async (env: Record<string, string>) => {
      const answer = await runCli(['report', '--format', 'json'], { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, ...env } });
      expect(answer.code, answer.stderr).toBe(0);
      return JSON.parse(answer.stdout) as ReportJson;
    };
    // Passkeys only, then SMS codes for members (AAL1), then passkeys only again.
    const off = await cli({});
    const on = await cli(SMS_ON);
    const offAgain = await cli({});
    const statuses = (r: ReportJson) => Object.fromEntries(r.frameworks.flatMap((f) => f.controls.map((c) => [c.id, c.status])));
    const changed = (a: ReportJson, b: ReportJson) => Object.entries(statuses(a)).filter(([id, s]) => statuses(b)[id] !== s).map(([id, s]) => `${id}: ${s} -> ${statuses(b)[id]}`).sort();
    // Exactly the controls SMS touches change, and change back: the restricted authenticator, the
    // role's sign-in level (codes alone are AAL1) and the level policy asks of the role's accounts.
    expect(changed(off, on)).toEqual(['63B-AAL: met -> partial', '63B-RESTRICTED-SMS: met -> partial', 'ZT-4: met -> partial']);
    expect(changed(on, offAgain)).toEqual(['63B-AAL: partial -> met', '63B-RESTRICTED-SMS: partial -> met', 'ZT-4: partial -> met']);
    const smsLine = (r: ReportJson) => r.frameworks[0]!.controls.find((c) => c.id === '63B-RESTRICTED-SMS')!.evidence[0];
    expect(smsLine(on)).toBe('SMS codes enabled for: member');
    expect(smsLine(offAgain)).toBe('SMS codes are enabled for no role');
    // Configuring an SMS gateway alone gives the admin role's default recovery SMS as a second proof.
    const gatewayOnly = await cli({ ...SMS_ON, KEYBOUND_ADMIN_RECOVERY: '' });
    expect(smsLine(gatewayOnly)).toBe('SMS codes enabled for: admin, member');
    expect(statusOf(gatewayOnly, '63B-RESTRICTED-SMS')).toBe('not_met');
    // For administrators it is not met.
    const adminSms = await cli({ KEYBOUND_ADMIN_CODE_FACTORS: 'sms', KEYBOUND_ADMIN_MIN_AAL: '1', KEYBOUND_SMS_PROVIDER: 'console', KEYBOUND_MEMBER_CODE_FACTORS: 'totp', KEYBOUND_MEMBER_MIN_AAL: '1' });
    expect(statusOf(adminSms, '63B-RESTRICTED-SMS')).toBe('not_met');
    expect(statusOf(adminSms, '63B-AAL')).toBe('not_met');
  }, 120_000);
});
