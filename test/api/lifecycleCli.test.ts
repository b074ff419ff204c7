/**
 * `keybound accounts ...` and `keybound sessions revoke` (issue 12, OWASP ASVS 5.0 7.4.5) as an
 * operator runs them: the real CLI in a child process against the database an in-process server
 * uses, on SQLite and PostgreSQL. What the CLI does is seen by the server at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { enrol, ManualClock, signIn, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { runCli } from '../helpers/server.ts';
import { enrolTotp, MEMBER_CODES_ENV } from '../codes/support.ts';

describe.each(BACKENDS)('keybound accounts / sessions on %s', (backend) => {
  let t: TestApp;
  const cli = (...args: string[]) => runCli(args, { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, ...MEMBER_CODES_ENV } });
  const live = async (cookie: string) => (await t.get('/api/v1/session', cookie)).statusCode === 200;

  beforeAll(async () => {
    // The CLI reads the real clock: the server's starts there too.
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { ...MEMBER_CODES_ENV } });
  }, 60_000);
  afterAll(async () => t?.close());

  it('an unknown username: exit 1 and a sentence, for every command', async () => {
    const answers = await Promise.all([
      cli('accounts', 'show', 'nobody'),
      cli('accounts', 'suspend', 'nobody', '--reason', 'x'),
      cli('accounts', 'resume', 'nobody'),
      cli('accounts', 'offboard', 'nobody', '--json'),
      cli('accounts', 'update', 'nobody', '--display-name', 'X'),
      cli('accounts', 'set-role', 'nobody', 'admin'),
      cli('sessions', 'revoke', '--account', 'nobody'),
      cli('sessions', 'revoke'),
    ]);
    for (const answer of answers.slice(0, 7)) {
      expect(answer.code, answer.stderr).toBe(1);
      expect(answer.stderr).toBe('keybound: No account nobody.\n');
      expect(answer.stdout).toBe('');
    }
    expect(answers[7]).toMatchObject({ code: 1, stderr: 'keybound: give either --account <username> or --all\n' });
  }, 60_000);

  it('show, list and update: status, role, email, passkeys with kind and authenticator, code factors, sessions, links, last sign-in', async () => {
    const invited = await invite(t.deps, { username: 'carol', email: 'carol@example.test', createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const { cookie } = await enrol(t, 'carol');
    await enrolTotp(t, cookie);
    // A pending device link (invite refuses an active account: README "Recovery").
    expect((await t.post('/api/v1/devices/link', {}, cookie)).statusCode).toBe(201);
    const [shown, listed] = await Promise.all([cli('accounts', 'show', 'carol', '--json'), cli('accounts', 'list')]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      username: 'carol',
      status: 'active',
      role: 'member',
      email: 'carol@example.test',
      lastSignInAt: expect.any(String),
      passkeys: [{ kind: 'device-bound', status: 'active', aaguid: expect.any(String), authenticator: null }],
      codeFactors: [{ kind: 'totp', status: 'active' }],
      sessions: [{ aal: expect.any(Number) }],
      grants: [],
      pendingLinks: [{ createdBy: 'carol' }],
    });
    expect(listed.code, listed.stderr).toBe(0);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^USERNAME\s+ROLE\s+STATUS\s+LAST SIGN-IN\s+FACTORS\s+CREATED$/);
    expect(rows.find((r) => r.startsWith('carol '))).toMatch(/member\s+active\s+\d{4}-\d\d-\d\dT\S+\s+1 passkey \(1 device-bound\) \+ totp/);

    const text = await cli('accounts', 'show', 'carol');
    expect(text.stdout).toMatch(/status: +active/);
    expect(text.stdout).toMatch(/Passkeys \(1\):\n  Test key: device-bound, AAGUID [0-9a-f-]{36}, active, added \S+, last used \d{4}-\d\d-\d\dT\S+/);
    const updated = await cli('accounts', 'update', 'carol', '--email', 'carol@new.example', '--display-name', 'Carol C');
    expect(updated.code, updated.stderr).toBe(0);
    expect(await t.store.accounts.findByUsername('carol')).toMatchObject({ email: 'carol@new.example', displayName: 'Carol C' });
    const [event] = await t.store.audit.list({ type: 'account.updated', limit: 1 });
    expect(event?.details).toMatchObject({ by: 'cli', changes: { email: { from: 'carol@example.test', to: 'carol@new.example' } } });
    expect((await cli('accounts', 'update', 'carol', '--email', 'nope')).code).toBe(1);
  }, 60_000);

  it('suspend ends the session and refuses sign-in until resume; offboard --json reports what it revoked; set-role is audited with who', async () => {
    const { cookie, authenticator } = await enrol(t, 'dave');
    const suspended = await cli('accounts', 'suspend', 'dave', '--reason', 'on leave');
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(suspended.stdout).toMatch(/^dave suspended \(was active\): 1 session and 0 grants ended\.\nJWT access tokens already issued stay valid until \S+Z/);
    // The server sees it on its very next request.
    expect(await live(cookie)).toBe(false);
    expect((await signIn(t, authenticator)).json().error).toBe('account_not_active');
    expect((await cli('accounts', 'suspend', 'dave')).stderr).toMatch(/dave is suspended; only an active or invited account can be suspended/);
    expect((await cli('accounts', 'resume', 'dave')).stdout).toBe('dave resumed: active.\n');
    const again = await signIn(t, authenticator);
    expect(again.statusCode).toBe(200);

    const roled = await cli('accounts', 'set-role', 'dave', 'admin');
    expect(roled.stdout).toBe('dave: role member -> admin\n');
    const [role] = await t.store.audit.list({ type: 'account.role_changed', limit: 1 });
    expect(role?.details).toMatchObject({ username: 'dave', from: 'member', to: 'admin', by: 'cli' });

    const offboarded = await cli('accounts', 'offboard', 'dave', '--json');
    expect(offboarded.code, offboarded.stderr).toBe(0);
    const report = JSON.parse(offboarded.stdout);
    expect(report).toMatchObject({ account: { username: 'dave', status: 'offboarded' }, from: 'active', revoked: { sessions: 1, grants: 0, passkeys: 1, codeFactors: 0, invitations: 0, pendingCodeSignIns: 0 } });
    const until = Date.parse(report.selfContainedTokens.accessTokensValidUntil) - Date.now();
    expect(until).toBeGreaterThan(0);
    expect(until).toBeLessThanOrEqual(t.config.oidc.accessTokenTtlS * 1000);
    expect((await signIn(t, authenticator)).json().error).toBe('passkey_flagged');
    const twice = await cli('accounts', 'offboard', 'dave');
    expect(twice).toMatchObject({ code: 1, stderr: 'keybound: Account dave is already offboarded; offboarding is for good.\n' });
  }, 60_000);

  it('ASVS 7.4.5: sessions revoke --account ends one account\'s sessions, --all everyone\'s', async () => {
    const erin = await enrol(t, 'erin');
    const frank = await enrol(t, 'frank');
    const one = await cli('sessions', 'revoke', '--account', 'erin', '--json');
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ accounts: 1, sessions: 1, grants: 0 });
    expect(await live(erin.cookie)).toBe(false);
    expect(await live(frank.cookie)).toBe(true);
    const [event] = await t.store.audit.list({ type: 'sessions.revoked_by_admin', limit: 1 });
    expect(event).toMatchObject({ accountId: erin.account.id, details: { by: 'cli', scope: 'account', sessions: 1 } });

    const all = await cli('sessions', 'revoke', '--all');
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^Ended \d+ sessions? and \d+ grants? of \d+ accounts?\.\n$/);
    expect(await live(frank.cookie)).toBe(false);
    expect(await t.store.sessions.accountsWithLive(Date.now())).toEqual([]);
    // Accounts stay active: a new sign-in works.
    expect((await signIn(t, frank.authenticator)).statusCode).toBe(200);
  }, 60_000);
});
