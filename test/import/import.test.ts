/**
 * Issue 17, "Import": `keybound import keycloak|csv` on SQLite and PostgreSQL. A Keycloak realm
 * export written for this test (test/fixtures/import/make-keycloak-fixture.mjs: PBKDF2-SHA-256 and
 * -SHA-512 hashes made by node:crypto as Keycloak makes them, an OTP credential), and a CSV whose
 * argon2id and bcrypt hashes are made here by @node-rs/argon2 and bcryptjs. Accounts arrive invited,
 * roles mapped, TOTP seeds sealed, phones stored and never a factor; bad rows get a line each; a
 * re-run changes nothing and says so; a dry run writes nothing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash as argon2Hash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Encode } from '../../src/codes/base32.ts';
import { totpSealContext } from '../../src/services/codes/check.ts';
import { readCsv } from '../../src/services/import/csv.ts';
import { importAccounts } from '../../src/services/import/importAccounts.ts';
import { readKeycloak } from '../../src/services/import/keycloak.ts';
import { verifyPassword } from '../../src/services/import/passwordHash.ts';
import { invite } from '../../src/services/invitations.ts';
import { ManualClock, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { runCli } from '../helpers/server.ts';

const KEYCLOAK = join(import.meta.dirname, '../fixtures/import/keycloak-realm.json');
const SEED = new Uint8Array(20).map((_, i) => i * 7 + 1);

async function csvFixture(): Promise<string> {
  const argon = await argon2Hash('grace-old-password', { algorithm: 2 });
  const bc = bcrypt.hashSync('heidi-old-password', 10);
  return [
    'username,email,display_name,role,phone,password_hash,totp_secret',
    // An argon2id PHC string holds commas (m=…,t=…,p=…): quoted, as any CSV writer quotes it.
    `grace,grace@example.test,"Hopper, Grace",member,+1 415 555 0100,"${argon}",${base32Encode(SEED)}`,
    `heidi,heidi@example.test,Heidi,admin,,${bc},`,
    'ivan,ivan@example.test,"Ivan ""the"" Terrible",member,,,',
    'judy,not-an-address,Judy,member,,,',
    'mallory,mallory@example.test,Mallory,root,,,',
    `oscar,oscar@example.test,Oscar,member,,5f4dcc3b5aa765d61d8327deb882cf99,`,
    'peggy,peggy@example.test,Peggy,member,12,,',
    'grace,grace2@example.test,Grace again,member,,,',
    'trent,trent@example.test',
    'victor,victor@example.test,Victor,member,,,NOT*BASE32',
    '',
  ].join('\r\n');
}

describe.each(BACKENDS)('import on %s', (backend) => {
  let t: TestApp;
  let dir: string;
  const cli = (...args: string[]) => runCli(args, { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS }, timeoutMs: 60_000 });

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()) });
    dir = mkdtempSync(join(tmpdir(), 'keybound-import-'));
  }, 60_000);
  afterAll(async () => t?.close());

  it('a Keycloak realm export: users invited, roles mapped, PBKDF2 hashes as PHC strings, the OTP seed sealed, phone stored; skipped users say why', async () => {
    // A dry run first: the same report, nothing written.
    const text = readFileSync(KEYCLOAK, 'utf8');
    const dry = await importAccounts(t.deps, { source: 'keycloak', records: readKeycloak(text, { adminRole: 'admin' }), dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, records: 7, imported: 4, unchanged: 0 });
    expect(await t.store.accounts.findByUsername('alice')).toBeUndefined();

    const report = await importAccounts(t.deps, { source: 'keycloak', records: readKeycloak(text, { adminRole: 'admin' }), dryRun: false });
    expect(report).toMatchObject({ records: 7, imported: 4, unchanged: 0, skipped: [] });
    expect(report.problems).toEqual([
      { where: 'users[3]', username: 'dave', reason: 'disabled in Keycloak' },
      { where: 'users[4]', username: 'service-account-reports', reason: 'a service account of a client: register it as a workload, not a person' },
      { where: 'users[5]', username: 'erin', reason: expect.stringContaining('algorithm md5 is not pbkdf2-sha256 or pbkdf2-sha512') },
    ]);

    const alice = (await t.store.accounts.findByUsername('alice'))!;
    expect(alice).toMatchObject({ status: 'invited', role: 'member', email: 'alice@example.test', displayName: 'Alice Liddell' });
    // bob has the realm role `admin`; carol is in the group /staff/admin: both admin.
    expect((await t.store.accounts.findByUsername('bob'))!.role).toBe('admin');
    expect((await t.store.accounts.findByUsername('carol'))!.role).toBe('admin');
    expect((await t.store.accounts.findByUsername('frank'))!).toMatchObject({ role: 'member', status: 'invited' });

    const imported = (await t.store.imports.find(alice.id))!;
    expect(imported).toMatchObject({ source: 'keycloak', externalId: 'a1b2c3d4-0000-4000-8000-000000000001', phone: '+442079460018' });
    expect(imported.passwordHash).toMatch(/^\$pbkdf2-sha256\$i=27500\$/);
    expect(await verifyPassword(imported.passwordHash!, 'alice-old-password')).toBe(true);
    const bob = (await t.store.imports.find((await t.store.accounts.findByUsername('bob'))!.id))!;
    expect(bob.passwordHash).toMatch(/^\$pbkdf2-sha512\$/);
    expect(await verifyPassword(bob.passwordHash!, 'bob-old-password')).toBe(true);

    // The OTP seed: sealed under the data keys, bound to its authenticator, opening to Keycloak's secret bytes.
    const totp = (await t.store.authenticators.findBound(alice.id, 'totp'))!;
    expect(totp).toMatchObject({ status: 'active', totp: { algorithm: 'SHA1', digits: 6, period: 30 } });
    expect(totp.secret).toMatch(/^v1\./);
    expect(totp.secret).not.toContain('Zq8vR2xLp0Wm4Ty7Hb3N');
    expect(Buffer.from(t.deps.dataKeys.open(totp.secret!, totpSealContext(totp.id))).toString()).toBe('Zq8vR2xLp0Wm4Ty7Hb3N');
    // The phone is stored, not bound: no SMS factor exists.
    expect(await t.store.authenticators.findBound(alice.id, 'sms_code')).toBeUndefined();

    // Audited per account, without any secret.
    const events = await t.store.audit.list({ limit: 100 });
    const aliceEvent = events.find((e) => e.type === 'account.imported' && e.accountId === alice.id)!;
    expect(aliceEvent.details).toMatchObject({ source: 'keycloak', password: 'pbkdf2-sha256', phone: true });
    expect(JSON.stringify(events)).not.toContain(JSON.parse(JSON.parse(text).users[0].credentials[0].secretData).value);

    // Idempotent: the same file again changes nothing, and says so.
    const again = await importAccounts(t.deps, { source: 'keycloak', records: readKeycloak(text, { adminRole: 'admin' }), dryRun: false });
    expect(again).toMatchObject({ imported: 0, unchanged: 4, skipped: [] });
    expect((await t.store.imports.find(alice.id))!.passwordHash).toBe(imported.passwordHash);
    expect((await t.store.authenticators.listBound(alice.id)).length).toBe(1);
  });

  it('a CSV with argon2id and bcrypt hashes: good rows imported, each bad row a line, an existing account left alone', async () => {
    const existing = await invite(t.deps, { username: 'ivan', createdBy: 'test' });
    expect(existing.ok).toBe(true);
    const report = await importAccounts(t.deps, { source: 'csv', records: readCsv(await csvFixture()), dryRun: false });
    expect(report).toMatchObject({ records: 10, imported: 2, unchanged: 0 });
    expect(report.skipped).toEqual([{ where: 'line 4', username: 'ivan', reason: 'an account ivan (invited) already exists and was not imported; left alone' }]);
    expect(report.problems.map((p) => `${p.where} ${p.username}: ${p.reason}`)).toEqual([
      'line 5 judy: email: not an address',
      'line 6 mallory: role: root is not admin or member',
      'line 7 oscar: password_hash: not a PHC string of argon2id, bcrypt, or pbkdf2-sha256/sha512',
      'line 8 peggy: phone: not an E.164 number (+ and 7-15 digits)',
      'line 9 grace: username already in this file (line 2)',
      'line 10 null: 2 fields, the header has 7',
      'line 11 victor: totp_secret: not base32',
    ]);
    const grace = (await t.store.accounts.findByUsername('grace'))!;
    expect(grace).toMatchObject({ displayName: 'Hopper, Grace', role: 'member', status: 'invited' });
    const graceImport = (await t.store.imports.find(grace.id))!;
    expect(graceImport).toMatchObject({ source: 'csv', phone: '+14155550100' });
    expect(await verifyPassword(graceImport.passwordHash!, 'grace-old-password')).toBe(true);
    const seed = (await t.store.authenticators.findBound(grace.id, 'totp'))!;
    expect(t.deps.dataKeys.open(seed.secret!, totpSealContext(seed.id))).toEqual(SEED);
    const heidi = (await t.store.accounts.findByUsername('heidi'))!;
    expect(heidi.role).toBe('admin');
    expect(await verifyPassword((await t.store.imports.find(heidi.id))!.passwordHash!, 'heidi-old-password')).toBe(true);
    for (const name of ['judy', 'mallory', 'oscar', 'peggy', 'trent', 'victor']) expect(await t.store.accounts.findByUsername(name)).toBeUndefined();
  });

  it('the CLI: --dry-run writes nothing, --json reports, a re-run says nothing changed, a bad file exits 1 and imports nothing', async () => {
    const file = join(dir, `people-${backend}.csv`);
    writeFileSync(file, 'username,email,role\nkate,kate@example.test,member\nleo,leo@example.test,admin\nbad name,x@example.test,member\n');
    const dry = await cli('import', 'csv', file, '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(2);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, records: 3, imported: 2, problems: [{ where: 'line 4', username: 'bad name' }] });
    expect(await t.store.accounts.findByUsername('kate')).toBeUndefined();

    const first = await cli('import', 'csv', file);
    expect(first.code, first.stderr).toBe(2);
    expect(first.stdout).toContain('  imported: 2\n');
    expect(first.stdout).toContain('    line 4 (bad name): username: 1-64 characters');
    // Not a terminal here: no progress line on stderr.
    expect(first.stderr).toBe('');
    expect((await t.store.accounts.findByUsername('leo'))!).toMatchObject({ role: 'admin', status: 'invited' });

    const second = await cli('import', 'csv', file);
    expect(second.stdout).toContain('  already imported, unchanged: 2\n');
    expect(second.stdout).toContain('Nothing changed.\n');

    const broken = join(dir, `broken-${backend}.csv`);
    writeFileSync(broken, 'username,password\nzed,secret\n');
    const refused = await cli('import', 'csv', broken);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toContain('unknown column password');
    const notRealm = join(dir, `realm-${backend}.json`);
    writeFileSync(notRealm, '{"realm":"x"}');
    expect((await cli('import', 'keycloak', notRealm)).stderr).toContain('no "users" array');
  }, 120_000);
});
