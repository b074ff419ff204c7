/**
 * `keybound workloads`, `keybound api-keys` and `keybound scan` as an operator runs them: the real
 * CLI in a child process against the database an in-process server uses, on SQLite and PostgreSQL.
 * A workload made by the CLI gets tokens from the server at once; a key made by the CLI is shown
 * once; scan exits 1 on a live key and writes SARIF to --output.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkApiKey } from '../../src/services/nhi/apiKeys.ts';
import { enrol, ManualClock, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { clientCredentials, machineKey } from '../helpers/machines.ts';
import { runCli } from '../helpers/server.ts';

const RESOURCE = 'https://api.example.test/';

describe.each(BACKENDS)('keybound workloads / api-keys / scan on %s', (backend) => {
  let t: TestApp;
  let dir: string;
  const cli = (...args: string[]) => runCli(args, { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, KEYBOUND_OIDC_RESOURCES: RESOURCE } });

  beforeAll(async () => {
    // The CLI reads the real clock: the server's starts there too.
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } });
    await enrol(t, 'olive');
    dir = mkdtempSync(join(tmpdir(), 'keybound-nhi-cli-'));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('workloads create --json, refusals with a sentence, rotate-keys --overlap, list, disable', async () => {
    const key = await machineKey('first');
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify(key.jwks));
    const [made, unowned, tooLong] = await Promise.all([
      cli('workloads', 'create', '--name', 'Reports', '--owner', 'olive', '--kind', 'agent', '--jwks', jwks, '--audience', RESOURCE, '--scope', 'read', '--ttl', '600', '--json'),
      cli('workloads', 'create', '--name', 'Orphan', '--owner', 'nobody', '--kind', 'service', '--jwks', jwks, '--json'),
      cli('workloads', 'create', '--name', 'Slow', '--owner', 'olive', '--kind', 'service', '--jwks', jwks, '--ttl', '901'),
    ]);
    expect(made.code, made.stderr).toBe(0);
    const workload = JSON.parse(made.stdout) as { client_id: string };
    expect(workload).toMatchObject({ name: 'Reports', owner: 'olive', kind: 'agent', status: 'active', token_ttl: 600, dpop_required: true, scopes: ['read'], audiences: [RESOURCE], keys: ['first'] });
    expect(unowned).toMatchObject({ code: 1, stdout: '', stderr: 'keybound: No account nobody.\n' });
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toContain('--ttl must be 1 to 900 seconds');

    const answer = await clientCredentials(t, workload.client_id, key.privateKey, { resource: RESOURCE, scope: 'read', dpop: true });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json().expires_in).toBe(600);

    const next = await machineKey('second');
    writeFileSync(jwks, JSON.stringify(next.jwks));
    const rotated = await cli('workloads', 'rotate-keys', workload.client_id, '--jwks', jwks, '--overlap', '1h', '--json');
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ keys: ['second'], previous_keys: ['first'] });
    const listed = await cli('workloads', 'list', '--owner', 'olive', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ client_id: workload.client_id, last_used_at: expect.any(String) })]);
    expect((await cli('workloads', 'disable', workload.client_id, '--reason', 'test')).code).toBe(0);
    expect((await clientCredentials(t, workload.client_id, next.privateKey, { resource: RESOURCE, scope: 'read', dpop: true })).statusCode).toBe(401);
  }, 120_000);

  it('api-keys create --json shows the key once; list never does; scan exits 1 on it, writes SARIF, and --revoke revokes it', async () => {
    const made = await cli('api-keys', 'create', '--owner', 'olive', '--name', 'CI', '--scope', 'read', '--expires-in', '30d', '--json');
    expect(made.code, made.stderr).toBe(0);
    const created = JSON.parse(made.stdout) as { id: string; key: string; expiresAt: string };
    expect(Object.keys(created).sort()).toEqual(['expiresAt', 'id', 'key']);
    expect((await checkApiKey(t.deps, created.key)).ok).toBe(true);
    const tooLong = await cli('api-keys', 'create', '--owner', 'olive', '--name', 'CI', '--scope', 'read', '--expires-in', '91d');
    expect(tooLong.code).toBe(1);
    const listed = await cli('api-keys', 'list', '--json');
    expect(listed.stdout).toContain(created.id);
    expect(listed.stdout).not.toContain(created.key);

    const tree = join(dir, 'tree');
    rmSync(tree, { recursive: true, force: true });
    mkdirSync(tree);
    writeFileSync(join(tree, '.env'), `KEYBOUND_API_KEY=${created.key}\n`);
    const sarifFile = join(dir, 'report.sarif');
    const found = await cli('scan', tree, '--format', 'sarif', '--output', sarifFile);
    expect(found.code, found.stderr).toBe(1);
    const sarif = JSON.parse(readFileSync(sarifFile, 'utf8'));
    expect(sarif).toMatchObject({ version: '2.1.0', runs: [{ tool: { driver: { name: 'keybound scan' } }, results: [{ ruleId: 'keybound-api-key', level: 'error' }] }] });
    expect(readFileSync(sarifFile, 'utf8')).not.toContain(created.key);

    const revoked = await cli('scan', tree, '--revoke');
    expect(revoked.code).toBe(1);
    expect(revoked.stdout).toContain('.env:1:18  LIVE (revoked now)  keybound-api-key');
    expect(revoked.stdout).not.toContain(created.key);
    expect((await checkApiKey(t.deps, created.key)).ok).toBe(false);
    const clean = await cli('scan', tree, '--format', 'json');
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ failed: false, findings: [{ state: 'revoked' }] });
    expect((await cli('scan', join(dir, 'missing'))).code).toBe(2);
  }, 120_000);
});
