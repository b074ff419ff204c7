/**
 * Issue 17, "Migration window and downgrade prevention", on SQLite and PostgreSQL: an imported
 * account signs in with its old password (and its imported TOTP code) until its role's
 * KEYBOUND_<ROLE>_MIGRATION_UNTIL, gets a migration session that can only bind a passkey, and
 * binding one signs in with it, deletes the password hash and retires the role's
 * KEYBOUND_<ROLE>_RETIRE_ON_PASSKEY factors, announced to the holder through a real SMTP server on
 * loopback. Unknown usernames answer alike; guesses are throttled per account and per address;
 * after the date the path is closed for everyone. `keybound adoption` counts the move.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeStep, totpAt } from '../../src/codes/totp.ts';
import { API_ROUTES } from '../../src/http/routes/index.ts';
import { readCsv } from '../../src/services/import/csv.ts';
import { importAccounts } from '../../src/services/import/importAccounts.ts';
import { readKeycloak } from '../../src/services/import/keycloak.ts';
import { invite } from '../../src/services/invitations.ts';
import { adoption } from '../../src/services/migration/adoption.ts';
import { enrol, ManualClock, ORIGIN, sessionCookie, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { runCli } from '../helpers/server.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { enrolTotp, startMailSink, type MailSink } from '../codes/support.ts';
import { sample } from '../helpers/schemaSample.ts';

const KEYCLOAK = join(import.meta.dirname, '../fixtures/import/keycloak-realm.json');
const ALICE_SEED = new TextEncoder().encode('Zq8vR2xLp0Wm4Ty7Hb3N');
const PARAMS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;


describe.each(BACKENDS)('migration sign-in on %s', (backend) => {
  let t: TestApp;
  let mail: MailSink;
  const env = {
    KEYBOUND_MEMBER_MIGRATION_UNTIL: '2027-03-31',
    KEYBOUND_MEMBER_RETIRE_ON_PASSKEY: 'totp,email',
    KEYBOUND_MEMBER_CODE_FACTORS: 'totp',
    KEYBOUND_MEMBER_MIN_AAL: '1',
  };

  beforeAll(async () => {
    mail = await startMailSink();
    // The clock: 2026-11-29, four months before the members' date; admins have none.
    t = await startTestApp({ backend, clock: new ManualClock(), env: { ...env, KEYBOUND_SMTP_URL: mail.url } });
    const realm = readFileSync(KEYCLOAK, 'utf8');
    await importAccounts(t.deps, { source: 'keycloak', records: readKeycloak(realm, { adminRole: 'admin' }), dryRun: false });
    const csv = `username,email,password_hash\nruth,ruth@example.test,${bcrypt.hashSync('ruth-old-password', 4)}\nsam,sam@example.test,${bcrypt.hashSync('sam-old-password', 4)}\n`;
    await importAccounts(t.deps, { source: 'csv', records: readCsv(csv), dryRun: false });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  let ip = 0;
  /** Each test from its own client address, so the per-address delay of one does not reach another. */
  const from = () => `192.0.2.${++ip}`;
  const request = (method: string, url: string, options: { cookie?: string; body?: unknown; ip?: string } = {}) =>
    t.app.inject({
      method: method as 'GET',
      url,
      remoteAddress: options.ip ?? '192.0.2.250',
      headers: { origin: ORIGIN, ...(options.cookie ? { cookie: options.cookie } : {}), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(options.body !== undefined ? { payload: options.body as object } : {}),
    });
  const migrate = (body: Record<string, string>, ip: string, cookie?: string) => request('POST', '/api/v1/migration/sign-in', { body, ip, ...(cookie ? { cookie } : {}) });
  const aliceCode = (offset = 0) => totpAt(ALICE_SEED, timeStep(t.clock.now, 30) + offset, PARAMS);

  it('old password and imported TOTP code open a migration session that can only bind a passkey; binding signs in with it, deletes the password, retires TOTP, ends the migration session, tells the holder', async () => {
    const ip = from();
    const alice = (await t.store.accounts.findByUsername('alice'))!;
    expect(await t.store.imports.find(alice.id)).toMatchObject({ passwordHash: expect.stringMatching(/^\$pbkdf2-sha256\$/) });

    // The imported TOTP is asked for with the password.
    const noCode = await migrate({ username: 'alice', password: 'alice-old-password' }, ip);
    expect([noCode.statusCode, noCode.json().error]).toEqual([401, 'migration_code_required']);
    const wrongCode = await migrate({ username: 'alice', password: 'alice-old-password', code: aliceCode(5) }, ip);
    expect([wrongCode.statusCode, wrongCode.json().error]).toEqual([400, 'code_invalid']);
    const opened = await migrate({ username: 'Alice', password: 'alice-old-password', code: aliceCode() }, ip);
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json()).toMatchObject({ account: { username: 'alice', status: 'invited' }, session: { purpose: 'migration', aal: 1 } });
    expect(opened.body).not.toContain('alice-old-password');
    const cookie = sessionCookie(opened);
    // The same TOTP code never opens a second session (RFC 6238 §5.2).
    const replay = await migrate({ username: 'alice', password: 'alice-old-password', code: aliceCode() }, ip);
    expect([replay.statusCode, replay.json().error]).toEqual([400, 'code_invalid']);

    // Every route that is not declared for a recovery session refuses it.
    const limited = API_ROUTES.filter((r) => r.access !== 'anyone' && !r.recovery);
    expect(limited.length).toBeGreaterThan(10);
    for (const r of limited) {
      const url = r.path.replace(/:[a-zA-Z]+/g, 'x');
      const answer = await request(r.method, url, { cookie, ...(r.method === 'GET' ? {} : { body: sample((r.body as { schema?: unknown } | undefined)?.schema) ?? {} }) });
      expect([r.method, r.path, answer.statusCode, answer.json().error]).toEqual([r.method, r.path, 403, 'migration_session_limited']);
    }
    // It may not end sessions either (a recovery session may; a migration session only binds).
    const endAll = await request('POST', '/api/v1/sessions/revoke-others', { cookie, body: {} });
    expect(endAll.statusCode).not.toBe(200);
    expect((await request('GET', '/api/v1/session', { cookie })).json().session).toMatchObject({ purpose: 'migration' });

    const seen = mail.messages.length;
    const options = await request('POST', '/api/v1/passkeys/registration/options', { cookie, body: {} });
    expect(options.statusCode, options.body).toBe(200);
    const authenticator = new SoftAuthenticator();
    const verified = await request('POST', '/api/v1/passkeys/registration/verify', { cookie, body: { response: authenticator.create(options.json()), nickname: 'Laptop' } });
    expect(verified.statusCode, verified.body).toBe(201);
    expect(verified.json()).toMatchObject({ aal: 2, session: { purpose: 'sign_in' }, account: { status: 'active' } });
    const newCookie = sessionCookie(verified);
    expect((await request('GET', '/api/v1/passkeys', { cookie: newCookie })).statusCode).toBe(200);
    // The migration session ended with the binding; the password hash is gone; TOTP is retired.
    expect((await request('GET', '/api/v1/session', { cookie })).statusCode).toBe(401);
    expect(await t.store.imports.find(alice.id)).toMatchObject({ passwordHash: null, passwordRemovedAt: t.clock.now });
    expect((await t.store.authenticators.listBound(alice.id)).map((a) => [a.kind, a.status, a.disabledReason])).toEqual([['totp', 'disabled', 'retired_on_passkey']]);
    const again = await migrate({ username: 'alice', password: 'alice-old-password', code: aliceCode(-1) }, from());
    expect([again.statusCode, again.json().error]).toEqual([401, 'migration_credentials_invalid']);

    const types = (await t.store.audit.list({ accountId: alice.id, limit: 50 })).map((e) => e.type);
    for (const type of ['migration.session_started', 'migration.password_removed', 'factor.retired', 'account.enrolled', 'migration.completed']) expect(types).toContain(type);
    const notices = [await mail.messageFor('alice@example.test', seen), await mail.messageFor('alice@example.test', seen + 1)].map((m) => m.raw).join('\n');
    expect(notices).toContain('Your account now signs in with a passkey');
    expect(notices).toContain('Your passkey replaced your older sign-in methods');
    // The password is never in the audit trail.
    expect(JSON.stringify(await t.store.audit.list({ limit: 500 }))).not.toContain('old-password');
  });

  it('a wrong password, an unknown username and an account without a password answer alike; guesses wait per account and per address', async () => {
    const ip = from();
    const wrong = await migrate({ username: 'ruth', password: 'nope' }, ip);
    const unknown = await migrate({ username: 'nobody-here', password: 'nope' }, ip);
    const noPassword = await migrate({ username: 'frank', password: 'nope' }, ip);
    for (const answer of [wrong, unknown, noPassword]) {
      expect(answer.statusCode).toBe(401);
      expect(answer.json()).toEqual(wrong.json());
    }
    expect(wrong.json().error).toBe('migration_credentials_invalid');

    // KEYBOUND_CODE_FREE_FAILURES (5) per account: the first five go at once, the sixth sets a wait,
    // and the seventh (the right password, from yet another address) waits.
    const other = from();
    for (let i = 0; i < 5; i++) expect((await migrate({ username: 'ruth', password: `nope${i}` }, from())).statusCode).toBe(401);
    const waited = await migrate({ username: 'ruth', password: 'ruth-old-password' }, other);
    expect([waited.statusCode, waited.json().error]).toEqual([429, 'code_throttled']);
    expect(waited.json().retry_after).toBeGreaterThan(0);
    // Per address: the first address has had three above and three here, and waits for any username.
    for (const password of ['x', 'y', 'z']) expect((await migrate({ username: 'sam', password }, ip)).statusCode).toBe(401);
    const addressWaits = await migrate({ username: 'sam', password: 'sam-old-password' }, ip);
    expect([addressWaits.statusCode, addressWaits.json().error]).toEqual([429, 'code_throttled']);
    // Once the wait is over, the right password opens the session, and the delay is reset.
    t.clock.advance(60 * 60_000);
    const opened = await migrate({ username: 'ruth', password: 'ruth-old-password' }, other);
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json().session.purpose).toBe('migration');
  });

  it('retire on passkey: a member who adds a passkey from a session has TOTP disabled, audited and announced', async () => {
    const invited = await invite(t.deps, { username: `tess-${backend}`, email: `tess-${backend}@example.test`, createdBy: 'test' });
    expect(invited.ok).toBe(true);
    const { cookie, account } = await enrol(t, `tess-${backend}`);
    // The enrolment passkey came first; TOTP is bound after it, from the passkey session.
    await enrolTotp(t, cookie);
    expect((await t.store.authenticators.findBound(account.id, 'totp'))!.status).toBe('active');
    const seen = mail.messages.length;
    const options = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
    expect(options.statusCode, options.body).toBe(200);
    const added = await t.post('/api/v1/passkeys/registration/verify', { response: new SoftAuthenticator().create(options.json()), nickname: 'Second' }, cookie);
    expect(added.statusCode, added.body).toBe(201);
    expect((await t.store.authenticators.findBound(account.id, 'totp'))).toMatchObject({ status: 'disabled', disabledReason: 'retired_on_passkey' });
    const retired = (await t.store.audit.list({ accountId: account.id, type: 'factor.retired', limit: 5 }))[0]!;
    expect(retired.details).toMatchObject({ factors: ['totp'] });
    expect((await mail.messageFor(`tess-${backend}@example.test`, seen)).raw).toContain('authenticator app codes no longer sign you in');
  });

  it('adoption counts enrolled, pending and overdue per role; after the date the password path is closed for everyone, saying what to do', async () => {
    const before = await adoption(t.deps);
    const member = before.find((r) => r.role === 'member')!;
    const admin = before.find((r) => r.role === 'admin')!;
    // members: alice and tess enrolled; ruth (in a migration session, no passkey), sam, frank pending.
    expect(member).toMatchObject({ enrolled: 2, pending: 3, pendingImported: 3, overdue: 0, migrationUntil: '2027-04-01T00:00:00.000Z' });
    expect(member.daysLeft).toBeGreaterThan(100);
    expect(admin).toMatchObject({ enrolled: 0, pending: 2, pendingImported: 2, overdue: 0, migrationUntil: null, daysLeft: null });

    // An admin has no migration date: the right password is told the path is closed, a wrong one is not told anything.
    const bob = await migrate({ username: 'bob', password: 'bob-old-password' }, from());
    expect([bob.statusCode, bob.json().error]).toEqual([403, 'migration_closed']);
    expect((await migrate({ username: 'bob', password: 'wrong' }, from())).json().error).toBe('migration_credentials_invalid');

    t.clock.now = Date.UTC(2027, 3, 1, 0, 0, 0);
    for (const body of [{ username: 'sam', password: 'sam-old-password' }, { username: 'nobody', password: 'x' }]) {
      const closed = await migrate(body, from());
      expect([closed.statusCode, closed.json().error]).toEqual([403, 'migration_closed']);
      expect(closed.json().message).toContain('Ask your administrator for an enrolment link');
    }
    expect((await adoption(t.deps)).find((r) => r.role === 'member')).toMatchObject({ pending: 3, overdue: 3, daysLeft: -1 });
  });

  it('keybound adoption --json, as an operator runs it', async () => {
    const answer = await runCli(['adoption', '--json'], { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, ...env } });
    expect(answer.code, answer.stderr).toBe(0);
    const rows = JSON.parse(answer.stdout);
    expect(rows.map((r: { role: string }) => r.role)).toEqual(['admin', 'member']);
    expect(rows[1]).toMatchObject({ enrolled: 2, pending: 3, migrationUntil: '2027-04-01T00:00:00.000Z' });
    const table = await runCli(['adoption'], { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, ...env } });
    expect(table.stdout.split('\n')[0]).toMatch(/^role\s+enrolled\s+pending\s+imported\s+overdue\s+migration until\s+days left$/);
  }, 60_000);
});
