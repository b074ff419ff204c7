/**
 * `keybound invite` on an existing account and `keybound recoveries ...` (issue 12, "Assisted
 * recovery") as an operator runs them: the real CLI in a child process against the database an
 * in-process server uses, on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { enrol, ManualClock, ORIGIN, sessionCookie, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { runCli } from '../helpers/server.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { startMailSink, type MailSink } from '../codes/support.ts';

const tokenOf = (url: string) => url.slice(url.indexOf('/enrol/') + '/enrol/'.length);

describe.each(BACKENDS)('keybound invite / recoveries on %s', (backend) => {
  let t: TestApp;
  let mail: MailSink;
  const cli = (...args: string[]) => cliWith({}, ...args);
  const cliWith = (env: Record<string, string>, ...args: string[]) =>
    runCli(args, { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, KEYBOUND_ORIGIN: ORIGIN, KEYBOUND_SMTP_URL: mail.url, ...env } });
  const subjects = (to: string, after: number) => mail.messages.slice(after).filter((m) => m.to.includes(to)).map((m) => /^Subject: (.*)$/m.exec(m.raw)?.[1]);

  beforeAll(async () => {
    mail = await startMailSink();
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_SMTP_URL: mail.url } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  async function holder(username: string) {
    const invited = await invite(t.deps, { username, email: `${username}@example.test`, createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    return { ...(await enrol(t, username)), email: `${username}@example.test` };
  }

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

  it('bootstrap: with fewer than two active administrators a CLI request needs no approval, still waits the delay and is announced; the CLI issues the link once', async () => {
    await enrol(t, 'boss', new SoftAuthenticator(), 'admin');
    const h = await holder('kim');
    const seen = mail.messages.length;
    // With the member delay at 1h: approved at once (bootstrap), but waiting.
    const waiting = await cliWith({ KEYBOUND_MEMBER_RECOVERY_DELAY: '1h' }, 'recoveries', 'request', 'kim', '--reason', 'ticket 7: lost laptop', '--json');
    expect(waiting.code, waiting.stderr).toBe(0);
    const request = JSON.parse(waiting.stdout) as { id: string; state: string; bootstrap: boolean; approvedBy: string; releaseAt: string };
    expect(request).toMatchObject({ state: 'waiting', bootstrap: true, approvedBy: 'cli:bootstrap', requestedBy: 'cli', reason: 'ticket 7: lost laptop' });
    expect(Date.parse(request.releaseAt) - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(subjects(h.email, seen)).toEqual(['An account recovery was requested for your account']);
    const early = await cli('recoveries', 'link', request.id);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/released at .*retry after \d+ s/);
    // A second request while one is pending is refused; cancel it.
    expect((await cli('recoveries', 'request', 'kim', '--reason', 'again')).stderr).toMatch(/pending already/);
    const cancelled = await cli('recoveries', 'cancel', request.id);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(subjects(h.email, seen)).toContain('An account recovery for your account was cancelled');

    // With the delay at 0: released at once; the link is printed once and enrols a new passkey.
    const seenNow = mail.messages.length;
    const now = await cliWith({ KEYBOUND_MEMBER_RECOVERY_DELAY: '0' }, 'recoveries', 'request', 'kim', '--reason', 'ticket 8', '--revoke-existing');
    expect(now.code, now.stderr).toBe(0);
    expect(now.stdout).toMatch(/: released\.\nFewer than two active administrators exist, so it needs no approval \(bootstrap\)\..*npx keybound recoveries link /s);
    const id = /Recovery (\S+) of kim/.exec(now.stdout)![1]!;
    expect(subjects(h.email, seenNow)).toEqual(['An account recovery was requested for your account', 'An account recovery for your account is released']);
    const linked = await cli('recoveries', 'link', id, '--json');
    expect(linked.code, linked.stderr).toBe(0);
    const { url } = JSON.parse(linked.stdout) as { url: string };
    expect(url.startsWith(`${ORIGIN}/enrol/`)).toBe(true);
    const twice = await cli('recoveries', 'link', id);
    expect(twice).toMatchObject({ code: 1, stdout: '' });
    expect(twice.stderr).toMatch(/issued already/);
    const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: tokenOf(url) });
    expect(options.statusCode, options.body).toBe(200);
    const enrolled = await t.post('/api/v1/passkeys/registration/verify', { response: new SoftAuthenticator().create(options.json()) });
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    expect((await t.get('/api/v1/session', sessionCookie(enrolled))).statusCode).toBe(200);
    expect((await t.get('/api/v1/session', h.cookie)).statusCode).toBe(401);

    const shown = await cli('recoveries', 'show', id, '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, username: 'kim', state: 'linked', revokeExisting: true, approvedBy: 'cli:bootstrap' });
    const listed = await cli('recoveries', 'list', '--state', 'cancelled', '--json');
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id)).toEqual([request.id]);
    const text = await cli('recoveries', 'list');
    expect(text.stdout).toMatch(new RegExp(`${id}\\s+kim\\s+linked\\s+by cli`));
    const [approved] = await t.store.audit.list({ type: 'assisted_recovery.approved', accountId: h.account.id, limit: 1 });
    expect(approved?.details).toMatchObject({ approval: id, requestedBy: 'cli', approvedBy: 'cli:bootstrap', reason: 'ticket 8' });
  }, 90_000);

  it('with two or more active administrators a CLI request awaits an administrator\'s approval through the API', async () => {
    const second = await enrol(t, 'boss2', new SoftAuthenticator(), 'admin');
    await holder('lee');
    const asked = await cli('recoveries', 'request', 'lee', '--reason', 'ticket 9', '--json');
    expect(asked.code, asked.stderr).toBe(0);
    const { id, state, bootstrap } = JSON.parse(asked.stdout) as { id: string; state: string; bootstrap: boolean };
    expect({ state, bootstrap }).toEqual({ state: 'awaiting_approval', bootstrap: false });
    expect((await cli('recoveries', 'link', id)).stderr).toMatch(/awaits a second administrator's approval/);
    const approved = await t.app.inject({ method: 'POST', url: `/api/v1/admin/recoveries/${id}/approve`, headers: { origin: ORIGIN, cookie: second.cookie, 'content-type': 'application/json' }, payload: {} });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().state).toBe('waiting');
    // An unknown or suspended account is refused with exit 1.
    expect(await cli('recoveries', 'request', 'nobody', '--reason', 'x')).toMatchObject({ code: 1, stderr: 'keybound: No account nobody.\n' });
    expect((await cli('recoveries', 'show', 'not-an-id')).code).toBe(1);
  }, 90_000);
});
