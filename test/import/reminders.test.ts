/**
 * Adoption reminders (issue 17, KEYBOUND_ADOPTION_REMINDERS) on SQLite and PostgreSQL, with a real
 * SMTP server on loopback: imported accounts still without a passkey get one email per schedule
 * step, on the step's day; enrolled accounts and accounts without an address get none; two runners
 * on two stores of one database, run together again and again, send each reminder once; the dry
 * run lists and claims nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createDeps, openStore } from '../../src/runtime.ts';
import { readCsv } from '../../src/services/import/csv.ts';
import { importAccounts } from '../../src/services/import/importAccounts.ts';
import { dueReminders, dueStep, sendReminders } from '../../src/services/migration/reminders.ts';
import type { Deps } from '../../src/services/deps.ts';
import { enrol, ManualClock, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/server.ts';
import { BACKENDS } from '../helpers/db.ts';
import { startMailSink, type MailSink } from '../codes/support.ts';

const DAY = 86_400_000;
const UNTIL = Date.UTC(2027, 2, 31) + DAY; // KEYBOUND_MEMBER_MIGRATION_UNTIL=2027-03-31: closed from April 1st.

describe('dueStep', () => {
  it('is the nearest step whose day has begun, and nothing before the first or after the date', () => {
    expect(dueStep([14, 7, 1], UNTIL, UNTIL - 15 * DAY)).toBeNull();
    expect(dueStep([14, 7, 1], UNTIL, UNTIL - 14 * DAY)).toBe(14);
    expect(dueStep([14, 7, 1], UNTIL, UNTIL - 8 * DAY)).toBe(14);
    expect(dueStep([14, 7, 1], UNTIL, UNTIL - 3 * DAY)).toBe(7);
    expect(dueStep([14, 7, 1], UNTIL, UNTIL - 1)).toBe(1);
    expect(dueStep([14, 7, 1], UNTIL, UNTIL)).toBeNull();
  });
});

describe.each(BACKENDS)('adoption reminders on %s', (backend) => {
  let t: TestApp;
  let mail: MailSink;
  let second: { deps: Deps; close(): Promise<void> };
  const clock = new ManualClock(UNTIL - 20 * DAY);
  const users = Array.from({ length: 8 }, (_, i) => `moving${i}`);
  const to = (address: string) => mail.messages.filter((m) => m.to.includes(address)).length;

  beforeAll(async () => {
    mail = await startMailSink();
    const env = { KEYBOUND_SMTP_URL: mail.url, KEYBOUND_MEMBER_MIGRATION_UNTIL: '2027-03-31', KEYBOUND_ADOPTION_REMINDERS: '14,7,1' };
    t = await startTestApp({ backend, clock, env });
    const csv = ['username,email,display_name,role,phone,password_hash,totp_secret', ...users.map((u) => `${u},${u}@old.example,${u},member,,,`), 'silent,,Silent,member,,,', 'enrolled,enrolled@old.example,Enrolled,member,,,'].join('\n');
    const report = await importAccounts(t.deps, { source: 'csv', records: readCsv(csv), dryRun: false });
    expect(report.imported).toBe(users.length + 2);
    await enrol(t, 'enrolled');
    const opened = await openStore(t.config);
    const deps = await createDeps({ config: t.config, store: opened.store, clock: clock.read, metrics: createMetrics({ processMetrics: false }) });
    second = { deps, close: () => opened.db.close() };
  }, 60_000);
  afterAll(async () => {
    await second?.close();
    await t?.close();
    await mail?.close();
  });

  it('sends nothing before the first step; the dry run lists the due ones and claims nothing', async () => {
    expect(await sendReminders(t.deps)).toEqual({ sent: 0, failed: 0 });
    clock.now = UNTIL - 14 * DAY + 1000;
    const due = await dueReminders(t.deps);
    expect(due.map((d) => d.username).sort()).toEqual([...users].sort());
    expect(due.every((d) => d.daysBefore === 14)).toBe(true);
    // Still all due: listing claimed nothing.
    expect(await dueReminders(t.deps)).toHaveLength(users.length);
    expect(mail.messages).toHaveLength(0);
  });

  it('two runners on two stores, run together three times, send each reminder of a step once', async () => {
    const results = [];
    for (let round = 0; round < 3; round++) results.push(...(await Promise.all([sendReminders(t.deps), sendReminders(second.deps)])));
    expect(results.reduce((n, r) => n + r.sent, 0)).toBe(users.length);
    await Promise.all(users.map((u) => mail.messageFor(`${u}@old.example`)));
    for (const u of users) expect(to(`${u}@old.example`), u).toBe(1);
    expect(to('enrolled@old.example')).toBe(0);
    const message = mail.messages.find((m) => m.to.includes('moving0@old.example'))!;
    expect(message.raw).toContain('/migrate');
    expect(message.raw).toContain('2027-03-31');
    const events = await t.store.audit.list({ type: 'adoption.reminder_sent', limit: 100 });
    expect(events).toHaveLength(users.length);
  });

  it('the next step sends again, once; a passkey bound in between stops them; after the date nothing', async () => {
    await enrol(t, 'moving7');
    clock.now = UNTIL - 7 * DAY + 1000;
    await Promise.all([sendReminders(t.deps), sendReminders(second.deps)]);
    await Promise.all([sendReminders(t.deps), sendReminders(second.deps)]);
    await Promise.all(users.slice(0, 7).map((u) => waitForCount(() => to(`${u}@old.example`), 2)));
    for (const u of users.slice(0, 7)) expect(to(`${u}@old.example`), u).toBe(2);
    expect(to('moving7@old.example')).toBe(1);
    clock.now = UNTIL + 1000;
    expect(await dueReminders(t.deps)).toEqual([]);
    expect(await sendReminders(t.deps)).toEqual({ sent: 0, failed: 0 });
  });
});

async function waitForCount(read: () => number, n: number): Promise<void> {
  while (read() < n) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('keybound adoption remind', () => {
  let t: TestApp;
  let mail: MailSink;
  let env: Record<string, string>;

  beforeAll(async () => {
    mail = await startMailSink();
    // The CLI runs on the wall clock: a date five days away, with a 7-day step, is due now.
    const until = new Date(Date.now() + 5 * DAY).toISOString().slice(0, 10);
    env = { KEYBOUND_SMTP_URL: mail.url, KEYBOUND_MEMBER_MIGRATION_UNTIL: until, KEYBOUND_ADOPTION_REMINDERS: '7' };
    t = await startTestApp({ env });
    const csv = ['username,email,display_name,role,phone,password_hash,totp_secret', 'cli.mover,cli.mover@old.example,Mover,member,,,'].join('\n');
    await importAccounts(t.deps, { source: 'csv', records: readCsv(csv), dryRun: false });
    env = { ...env, KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS };
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  it('--dry-run lists and sends nothing; a run sends once; a second run sends nothing', async () => {
    const dry = await runCli(['adoption', 'remind', '--dry-run', '--json'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, schedule: [7], due: [{ username: 'cli.mover', daysBefore: 7 }], sent: 0 });
    expect(mail.messages).toHaveLength(0);
    const run = await runCli(['adoption', 'remind'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('1 reminder(s) sent, 0 failed.');
    await mail.messageFor('cli.mover@old.example');
    const again = await runCli(['adoption', 'remind', '--json'], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({ due: [], sent: 0 });
    expect(mail.messages).toHaveLength(1);
    // `keybound adoption` alone still prints the table.
    const table = await runCli(['adoption'], { env });
    expect(table.stdout).toMatch(/^role\s+enrolled/);
  }, 60_000);
});
