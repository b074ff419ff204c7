/**
 * `keybound nhi report` (issue 15, docs/nhi.md) on SQLite and PostgreSQL, with the injectable
 * clock: orphaned (owner not active, set around the cascade), stale, unrotated, expiring and
 * over-long entries, and unused delegations (a recently used one is not reported); `disable` acts
 * on orphaned and stale machines and unused delegations only, audited; `--json` from the CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkApiKey, createApiKey } from '../../src/services/nhi/apiKeys.ts';
import { nhiReport } from '../../src/services/nhi/report.ts';
import { createWorkload, rotateWorkloadKeys, showWorkload } from '../../src/services/nhi/workloads.ts';
import type { Deps } from '../../src/services/deps.ts';
import { enrol, ManualClock, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { clientCredentials, machineKey } from '../helpers/machines.ts';
import { runCli } from '../helpers/server.ts';

const DAY = 86_400_000;
const RESOURCE = 'https://api.example.test/';

describe.each(BACKENDS)('nhi report on %s', (backend) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } });
    for (const name of ['olive', 'gone']) await enrol(t, name);
  }, 60_000);
  afterAll(async () => t?.close());

  it('finds orphaned, stale, unrotated, expiring and over-long machines and unused delegations; --disable acts on orphaned, stale and unused ones', async () => {
    const key = await machineKey();
    const workload = async (name: string, owner = 'olive', kind: 'service' | 'agent' = 'service') => {
      const made = await createWorkload(t.deps, { name, owner, kind, jwks: key.jwks, audiences: [RESOURCE], scopes: ['read'], by: 'test' }, async () => null);
      if (!made.ok) throw new Error(made.code);
      return made.value.client_id;
    };
    const apiKey = async (name: string, expiresInMs: number, owner = 'olive') => {
      const made = await createApiKey(t.deps, { owner, name, scopes: ['read'], expiresInMs, by: 'test' });
      if (!made.ok) throw new Error(made.code);
      return made.value;
    };
    const used = await workload('Used');
    const idle = await workload('Idle');
    const rotated = await workload('Rotated');
    const orphan = await workload('Orphan', 'gone');
    const orphanKey = await apiKey('Orphan key', 60 * DAY, 'gone');
    const longKey = await apiKey('Long key', 90 * DAY);
    // Two people delegate to one agent (from a fresh session, as on /account); one delegation will be used.
    const agent = await workload('Helper', 'olive', 'agent');
    const delegate = async (username: string) => {
      const granted = await t.post('/api/v1/delegations', { clientId: agent, scopes: ['read'], expiresIn: 80 * 86_400 }, (await enrol(t, username)).cookie);
      expect(granted.statusCode, granted.body).toBe(201);
      return (granted.json() as { id: string }).id;
    };
    const usedDelegation = await delegate('pia');
    const unusedDelegation = await delegate('quinn');
    // The owner leaves without the cascade (as before this feature, or by a direct database change).
    await t.store.accounts.setStatus((await t.store.accounts.findByUsername('gone'))!.id, 'offboarded', t.clock.now);

    t.clock.advance(40 * DAY);
    const shortKey = await apiKey('Short key', 10 * DAY);
    expect((await clientCredentials(t, used, key.privateKey, { resource: RESOURCE, scope: 'read' })).statusCode).toBe(200);
    expect((await rotateWorkloadKeys(t.deps, { clientId: rotated, jwks: key.jwks, overlapMs: 0, by: 'test' })).ok).toBe(true);
    expect((await clientCredentials(t, rotated, key.privateKey, { resource: RESOURCE, scope: 'read' })).statusCode).toBe(200);
    expect((await clientCredentials(t, agent, key.privateKey, { resource: RESOURCE, scope: 'read', dpop: true })).statusCode).toBe(200);
    // What a token exchange records (oidc/tokenExchange.ts; test/api/delegations.test.ts shows it does).
    await t.store.delegations.recordUse(usedDelegation, t.clock.now);
    t.clock.advance(6 * DAY);
    // 30 days for staleness and rotation; lowering the maximum makes existing longer keys over-long.
    const stricter: Deps = { ...t.deps, config: { ...t.config, nhi: { ...t.config.nhi, apiKeyMaxTtlMs: 30 * DAY, staleMs: 30 * DAY, rotateMs: 30 * DAY } } };

    const report = await nhiReport(stricter, { disable: false, by: 'test' });
    const byId = new Map(report.entries.map((e) => [e.id, e.issues]));
    expect(byId.get(idle)).toEqual(['stale', 'unrotated']);
    expect(byId.get(used)).toEqual(['unrotated']);
    expect(byId.has(rotated)).toBe(false);
    expect(byId.get(orphan)).toEqual(['orphaned', 'stale', 'unrotated']);
    expect(byId.get(orphanKey.id)).toEqual(['orphaned', 'stale', 'long_lived']);
    expect(byId.get(longKey.id)).toEqual(['stale', 'long_lived']);
    expect(byId.get(shortKey.id)).toEqual(['expiring']);
    expect(byId.has(usedDelegation)).toBe(false);
    expect(report.entries.find((e) => e.id === unusedDelegation)).toEqual({ kind: 'delegation', id: unusedDelegation, name: 'Helper', owner: 'quinn', agent: agent, issues: ['unused'], lastUsedAt: null, disabled: false });
    expect(report.delegations).toBe(2);
    expect(report.entries.every((e) => !e.disabled)).toBe(true);

    const acted = await nhiReport(stricter, { disable: true, by: 'test' });
    expect(acted.entries.filter((e) => e.disabled).map((e) => e.id).sort()).toEqual([idle, orphan, orphanKey.id, longKey.id, unusedDelegation].sort());
    expect(await t.store.delegations.find(unusedDelegation)).toMatchObject({ revokedReason: 'unused', revokedAt: t.clock.now });
    expect(await t.store.delegations.find(usedDelegation)).toMatchObject({ revokedAt: null });
    const revoked = await t.store.audit.list({ type: 'delegation.revoked', limit: 10 });
    expect(revoked.map((e) => e.details)).toEqual([expect.objectContaining({ id: unusedDelegation, reason: 'unused', by: 'test' })]);
    expect(await showWorkload(t.deps, idle)).toMatchObject({ ok: true, value: { status: 'disabled', disabled_reason: 'nhi report: stale' } });
    expect(await showWorkload(t.deps, used)).toMatchObject({ ok: true, value: { status: 'active' } });
    expect((await checkApiKey(t.deps, longKey.key)).ok).toBe(false);
    expect((await checkApiKey(t.deps, shortKey.key)).ok).toBe(true);
    const audit = await t.store.audit.list({ type: 'workload.disabled', limit: 10 });
    expect(audit.map((e) => e.details.clientId)).toEqual(expect.arrayContaining([idle, orphan]));

    // One granted long before the CLI's real clock, never used: the text output names its agent and person.
    const pia = (await t.store.accounts.findByUsername('pia'))!;
    await t.store.delegations.create({ id: 'dg_old', accountId: pia.id, clientId: agent, scopes: ['read'], createdAt: Date.now() - 100 * DAY, expiresAt: Date.now() + DAY, revokedAt: null, revokedReason: null, lastUsedAt: null });
    const cli = await runCli(['nhi', 'report', '--json'], { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS } });
    expect(cli.code, cli.stderr).toBe(0);
    // The CLI reads the real clock (46 days before this test's) and the default 90 days.
    expect(JSON.parse(cli.stdout)).toMatchObject({ workloads: 3, apiKeys: 1, delegations: 2 });
    const text = await runCli(['nhi', 'report'], { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS } });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`delegation  dg_old  agent Helper (${agent})  for pia  unused  last used never\n`);
    expect(text.stdout).toContain('3 active workloads, 1 active API keys and 2 live delegations checked;');
  }, 60_000);
});
