/**
 * `keybound analyse` (issue 13) as an operator runs it: the real CLI in a child process against the
 * database an in-process server uses, on SQLite and PostgreSQL, with the server's configuration.
 * An account bound to an authenticator app while the member role allowed AAL1 is listed below its
 * role's level once `KEYBOUND_MEMBER_MIN_EFFECTIVE_ACR=aal2` is configured; a server started with
 * that configuration logs the count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrol, ManualClock, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { runCli, startServer } from '../helpers/server.ts';
import { enrolTotp, MEMBER_CODES_ENV } from '../codes/support.ts';

describe.each(BACKENDS)('keybound analyse on %s', (backend) => {
  let t: TestApp;
  const STRICT = { ...MEMBER_CODES_ENV, KEYBOUND_MEMBER_MIN_EFFECTIVE_ACR: 'aal2' };
  const cli = (env: Record<string, string>, ...args: string[]) => runCli(args, { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, ...env } });

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { ...MEMBER_CODES_ENV } });
    const weak = await enrol(t, 'wendy');
    await enrolTotp(t, weak.cookie);
    await enrol(t, 'sam');
  }, 60_000);
  afterAll(async () => t?.close());

  it('--account --json: the paths of one account, as the API answers them', async () => {
    const answer = await cli(MEMBER_CODES_ENV, 'analyse', '--account', 'wendy', '--json');
    expect(answer.code, answer.stderr).toBe(0);
    const json = JSON.parse(answer.stdout);
    expect(json).toMatchObject({ account: 'wendy', role: 'member', requiredAcr: 'urn:keybound:aal1', effectiveAcr: 'urn:keybound:aal1' });
    expect(json.paths.map((p: { id: string }) => p.id.split(':')[0])).toEqual(['code', 'passkey']);
    expect(json.paths[0]).toMatchObject({ id: 'code:totp', kind: 'sign_in', factors: ['totp'], grantsAcr: 'urn:keybound:aal1' });
    // No administrator exists: the operator's command line alone can start an assisted recovery.
    expect(json.findings.map((f: { code: string }) => f.code)).toEqual(['phishable_sign_in', 'assisted_recovery_single_approver']);
    const text = await cli(MEMBER_CODES_ENV, 'analyse', '--account', 'wendy');
    expect(text.stdout).toMatch(/^wendy \(member\): effective urn:keybound:aal1, required urn:keybound:aal1\n/);
    expect(text.stdout).toMatch(/code:totp +urn:keybound:aal1 +opened by: phishing_relay \| device_theft_unlocked/);
    expect(await cli(MEMBER_CODES_ENV, 'analyse', '--account', 'nobody')).toMatchObject({ code: 1, stderr: 'keybound: No account nobody.\n' });
  }, 60_000);

  it('without --account: a summary per role and every account below its role\'s level, by the configuration given', async () => {
    const relaxed = JSON.parse((await cli(MEMBER_CODES_ENV, 'analyse', '--json')).stdout);
    expect(relaxed.below).toEqual([]);
    const strict = await cli(STRICT, 'analyse', '--json');
    expect(strict.code, strict.stderr).toBe(0);
    const summary = JSON.parse(strict.stdout);
    const member = summary.roles.find((r: { role: string }) => r.role === 'member');
    expect(member).toMatchObject({ requiredAcr: 'urn:keybound:aal2', accounts: 2, belowRequired: 1, byEffectiveAcr: { 'urn:keybound:aal1': 1, 'urn:keybound:aal2:phr': 1 } });
    expect(member.findings).toContainEqual({ code: 'below_required_level', accounts: 1 });
    expect(summary.below).toEqual([{ account: 'wendy', role: 'member', effectiveAcr: 'urn:keybound:aal1', requiredAcr: 'urn:keybound:aal2', weakest: ['code:totp'] }]);
    const text = await cli(STRICT, 'analyse');
    expect(text.stdout).toMatch(/^member: 2 accounts \(aal1 1, aal2:phr 1\); required aal2; 1 below it$/m);
    expect(text.stdout).toMatch(/^  wendy \(member\): urn:keybound:aal1 < urn:keybound:aal2, weakest: code:totp$/m);
  }, 60_000);

  it.runIf(backend === 'sqlite')('a server started with that configuration logs how many accounts are below their role\'s level', async () => {
    const server = await startServer({ databaseUrl: t.database.url, env: STRICT });
    try {
      const deadline = Date.now() + 20_000;
      while (!/paths\.below_required/.test(server.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const line = server.output().split('\n').find((l) => l.includes('paths.below_required'))!;
      expect(JSON.parse(line)).toMatchObject({ event: 'paths.below_required', role: 'member', accounts: 1 });
    } finally {
      await server.stop();
    }
  }, 60_000);
});
