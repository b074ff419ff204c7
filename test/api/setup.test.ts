/**
 * Setup and operations as a new operator meets them (issue 10, findings 14, 16 and 17): real server
 * processes on free ports and the `keybound` command line, each on a fresh database.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { smtpTransportOptions } from '../../src/delivery/mail.ts';
import { openDatabase } from '../../src/store/db.ts';
import { enrol, signIn, startTestApp } from '../helpers/app.ts';
import { TEST_DATA_KEYS } from '../helpers/constants.ts';
import { freshDatabase } from '../helpers/db.ts';
import { freePort, runCli, startServer, type ServerProcess } from '../helpers/server.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { invite } from '../../src/services/invitations.ts';

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
});

/** Waits until the server has printed what `pattern` matches (stdout and stderr are read asynchronously). */
async function printed(server: ServerProcess, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 100 && !pattern.test(server.output()); i++) await new Promise((r) => setTimeout(r, 50));
  return server.output();
}

describe('finding 13: security events at warn level', () => {
  it('finding 13: a passkey disabled after a security check is logged at warn', async () => {
    const t = await startTestApp();
    try {
      const warn = vi.spyOn(t.deps.log, 'warn');
      const { authenticator } = await enrol(t, 'cloned');
      t.clock.advance(60_000);
      expect((await signIn(t, authenticator)).statusCode).toBe(200);
      const replayedCount = authenticator.credential.signCount;
      const refused = await signIn(t, authenticator, { signCount: replayedCount });
      expect(refused.json().error).toBe('passkey_sign_count_regressed');
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ event: 'passkey.flagged', reason: 'sign_count_regressed' }), expect.stringMatching(/security event/));
    } finally {
      await t.close();
    }
  });
});

describe('finding 14: metrics, files and mail are not open to others', () => {
  it('finding 14: /metrics is not on the main listener, but on its own loopback port or behind a bearer token', async () => {
    const metricsPort = await freePort();
    const token = 'a-metrics-token-of-at-least-32-characters';
    const server = await startServer({ env: { KEYBOUND_METRICS_PORT: String(metricsPort), KEYBOUND_METRICS_TOKEN: token } });
    servers.push(server);
    const own = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(own.status).toBe(200);
    expect(await own.text()).toMatch(/^# HELP keybound_/m);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/api/v1/openapi.json`)).status).toBe(404);
    const anonymous = await fetch(`${server.baseUrl}/metrics`);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error).toBe('metrics_token_required');
    expect((await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token-wrong-token' } })).status).toBe(401);
    const authorised = await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(authorised.status).toBe(200);
    expect(await authorised.text()).toMatch(/keybound_http_request_duration_seconds/);
    await server.stop();

    // Without a token the main listener has no /metrics at all.
    const plain = await startServer();
    servers.push(plain);
    expect((await fetch(`${plain.baseUrl}/metrics`)).status).toBe(404);
  });

  it('finding 14: data folder 0700 / db 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keybound-modes-'));
    try {
      const folder = join(dir, 'data');
      const db = openDatabase(`sqlite:${join(folder, 'keybound.db')}`);
      await sql`create table t (x integer)`.execute(db.kysely);
      await sql`insert into t values (1)`.execute(db.kysely);
      const mode = (path: string) => statSync(path).mode & 0o777;
      expect(mode(folder).toString(8)).toBe('700');
      expect(mode(join(folder, 'keybound.db')).toString(8)).toBe('600');
      expect(mode(join(folder, 'keybound.db-wal')).toString(8)).toBe('600');
      expect(mode(join(folder, 'keybound.db-shm')).toString(8)).toBe('600');
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finding 14: SMTP TLS rule: plain smtp:// must upgrade with STARTTLS unless the host is this machine', () => {
    expect(smtpTransportOptions('smtp://user:p%40ss@mail.example.com:587')).toMatchObject({ host: 'mail.example.com', port: 587, secure: false, requireTLS: true, auth: { user: 'user', pass: 'p@ss' } });
    expect(smtpTransportOptions('smtp://10.0.0.5')).toMatchObject({ port: 587, requireTLS: true });
    expect(smtpTransportOptions('smtps://mail.example.com')).toMatchObject({ port: 465, secure: true, requireTLS: false });
    for (const loopback of ['smtp://127.0.0.1:2525', 'smtp://localhost:25', 'smtp://[::1]:25']) expect(smtpTransportOptions(loopback)).toMatchObject({ secure: false, requireTLS: false });
    // nodemailer's own URL options would override requireTLS: refused at start, with one clear line.
    expect(() => loadConfig({ KEYBOUND_SMTP_URL: 'smtp://mail.example.com:587?ignoreTLS=true' })).toThrow(/KEYBOUND_SMTP_URL takes no \?options/);
  });
});

describe('finding 16: setup, as a new user tries it', () => {
  it('finding 16: with only KEYBOUND_PORT set, the printed link uses that port, the CLI uses the URL the server stored, and a lost first link is explained on restart', async () => {
    const first = await startServer({ env: { KEYBOUND_ORIGIN: '', KEYBOUND_LOG_LEVEL: 'info' } });
    servers.push(first);
    const output = await printed(first, /\/enrol\/\S+/);
    expect(output).toContain(`http://localhost:${first.port}/enrol/`);
    // The CLI without KEYBOUND_ORIGIN or KEYBOUND_PORT: links on the server's address, not 8080.
    const invited = await first.cli(['invite', 'bob', '--json'], { env: { KEYBOUND_ORIGIN: '', KEYBOUND_PORT: '' } });
    expect(invited.code, invited.stderr).toBe(0);
    expect((JSON.parse(invited.stdout) as { url: string }).url).toMatch(new RegExp(`^http://localhost:${first.port}/enrol/`));
    await first.stop({ keepDatabase: true });

    // The first link runs out unused; the next start says how to get another.
    const db = openDatabase(first.databaseUrl);
    await sql`update invitations set expires_at = 0 where account_id = (select id from accounts where username = 'admin')`.execute(db.kysely);
    await db.close();
    const second = await startServer({ databaseUrl: first.databaseUrl, env: { KEYBOUND_ORIGIN: '' } });
    servers.push(second);
    expect(await printed(second, /keybound invite admin/)).toMatch(/npx keybound invite admin/);
    await second.stop();
  });

  it('finding 16: the origin error names the received origin, the allowed ones and KEYBOUND_ORIGIN', async () => {
    const t = await startTestApp();
    try {
      const invited = await invite(t.deps, { username: 'elsewhere', createdBy: 'test' });
      if (!invited.ok) throw new Error(invited.code);
      const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: invited.value.token });
      const stray = new SoftAuthenticator({ origin: 'http://127.0.0.1:8080', rpId: 'localhost' });
      const verify = await t.post('/api/v1/passkeys/registration/verify', { response: stray.create(options.json()) });
      expect(verify.statusCode).toBe(400);
      expect(verify.json().error).toBe('passkey_origin_mismatch');
      expect(verify.json().message).toContain('"http://127.0.0.1:8080"');
      expect(verify.json().message).toContain('http://localhost:8080');
      expect(verify.json().message).toContain('KEYBOUND_ORIGIN');
    } finally {
      await t.close();
    }
  });

  it('finding 16: npx keybound without a command prints help and exits 0', async () => {
    const database = await freshDatabase('sqlite');
    try {
      const result = await runCli([], { env: { KEYBOUND_DATABASE_URL: database.url, KEYBOUND_PORT: String(await freePort()), KEYBOUND_METRICS_PORT: '0' }, timeoutMs: 20_000 });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: keybound/);
      expect(result.stdout).toMatch(/serve/);
    } finally {
      await database.drop();
    }
  });

  it('finding 16: a port in use gives one line, not a stack trace', async () => {
    const database = await freshDatabase('sqlite');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, 'localhost', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const result = await runCli(['serve'], { env: { KEYBOUND_DATABASE_URL: database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, KEYBOUND_PORT: String(port), KEYBOUND_METRICS_PORT: '0', KEYBOUND_LOG_LEVEL: 'warn' }, timeoutMs: 30_000 });
      expect(result.code).toBe(1);
      // `serve` is the one command that may show the provider's runtime notice (README "Dependencies").
      const lines = result.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('oidc-provider WARNING'));
      expect(lines).toEqual([`keybound: port ${port} on localhost is already in use by another program; stop it, or set KEYBOUND_PORT to a free port`]);
      expect(result.stdout).not.toMatch(/\s+at /);
    } finally {
      taken.close();
      await database.drop();
    }
  });

  it('finding 16: the provider\'s runtime warning is not printed by CLI commands', async () => {
    const database = await freshDatabase('sqlite');
    try {
      const result = await runCli(['clients', 'create', '--name', 'Shop', '--public', '--redirect-uri', 'https://shop.example/cb', '--json'], { env: { KEYBOUND_DATABASE_URL: database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS } });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(/Unsupported runtime/);
      expect(result.stdout).not.toMatch(/Unsupported runtime/);
    } finally {
      await database.drop();
    }
  });
});

describe('finding 17: invite never changes an existing account', () => {
  it('finding 17: invite on an existing account refuses a different role or email; a new one stores them; set-role is audited and logged', async () => {
    const database = await freshDatabase('sqlite');
    const env = { KEYBOUND_DATABASE_URL: database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS };
    const cli = (...args: string[]) => runCli(args, { env });
    try {
      const created = await cli('invite', 'alice', '--role', 'member', '--email', 'alice@example.test', '--display-name', 'Alice Liddell');
      expect(created.code, created.stderr).toBe(0);
      const asAdmin = await cli('invite', 'alice', '--role', 'admin');
      expect(asAdmin.code).toBe(1);
      expect(asAdmin.stderr).toMatch(/exists with role member.*keybound accounts set-role alice admin/);
      const otherEmail = await cli('invite', 'alice', '--email', 'mallory@example.test');
      expect(otherEmail.code).toBe(1);
      expect(otherEmail.stderr).toMatch(/email alice@example\.test/);
      const again = await cli('invite', 'alice');
      expect(again.code, again.stderr).toBe(0);

      const db = openDatabase(database.url);
      const row = () => sql<{ role: string; email: string | null; display_name: string }>`select role, email, display_name from accounts where username = 'alice'`.execute(db.kysely);
      expect((await row()).rows[0]).toEqual({ role: 'member', email: 'alice@example.test', display_name: 'Alice Liddell' });

      const promoted = await cli('accounts', 'set-role', 'alice', 'admin');
      expect(promoted.code, promoted.stderr).toBe(0);
      expect(promoted.stdout).toMatch(/alice: role member -> admin/);
      const warning = promoted.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; event: string; from: string; to: string });
      expect(warning).toEqual([expect.objectContaining({ level: 40, event: 'account.role_changed', from: 'member', to: 'admin' })]);
      expect((await row()).rows[0]!.role).toBe('admin');
      await db.close();
      const audited = await cli('audit', 'list', '--type', 'account.role_changed', '--json');
      expect(JSON.parse(audited.stdout)).toMatchObject({ type: 'account.role_changed', username: 'alice', details: { from: 'member', to: 'admin', by: 'cli' } });
    } finally {
      await database.drop();
    }
  });
});
