/**
 * `keybound invite` on an existing account and `keybound recoveries ...` (issue 12, "Assisted
 * recovery") as an operator runs them: the real CLI in a child process against the database an
 * in-process server uses, on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { enrol, ManualClock, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { runCli } from '../helpers/server.ts';

describe.each(BACKENDS)('keybound invite / recoveries on %s', (backend) => {
  let t: TestApp;
  const cli = (...args: string[]) => runCli(args, { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS } });

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()) });
  }, 60_000);
  afterAll(async () => t?.close());

  it('invite refuses an active account (exit 1, names the recovery command) and adds no link; an invited account still gets a fresh one', async () => {
    const { account } = await enrol(t, 'ivy');
    const refused = await cli('invite', 'ivy');
    expect(refused.code, refused.stdout).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/ivy is active.*npx keybound recoveries request ivy/s);
    expect(await t.store.invitations.listUsable(account.id, Date.now())).toEqual([]);
    // The service refuses too (the API and any other caller).
    const direct = await invite(t.deps, { username: 'ivy', createdBy: 'test' });
    expect(direct).toMatchObject({ ok: false, code: 'account_already_active' });

    const first = await cli('invite', 'june', '--json');
    expect(first.code, first.stderr).toBe(0);
    const again = await cli('invite', 'june', '--json');
    expect(again.code, again.stderr).toBe(0);
    const june = await t.store.accounts.findByUsername('june');
    const usable = await t.store.invitations.listUsable(june!.id, Date.now());
    expect(usable.map((i) => i.id)).toEqual([JSON.parse(again.stdout).token.split('.')[0]]);
  }, 60_000);
});
