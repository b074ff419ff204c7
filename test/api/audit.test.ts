/**
 * `keybound audit verify` and `keybound audit list` as an operator runs them (issue 10, finding 13):
 * the CLI as a real process on a database an attacker with write access has changed.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { chainHash } from '../../src/core/audit/chain.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createDeps, openStore } from '../../src/runtime.ts';
import { invite } from '../../src/services/invitations.ts';
import { openDatabase, type Db } from '../../src/store/db.ts';
import { TEST_DATA_KEYS } from '../helpers/constants.ts';
import { BACKENDS, freshDatabase, type Backend, type TestDatabase } from '../helpers/db.ts';
import { runCli } from '../helpers/server.ts';

describe.each(BACKENDS)('audit trail on %s', (backend: Backend) => {
  let database: TestDatabase;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, { env });

  beforeEach(async () => {
    database = await freshDatabase(backend);
    env = { KEYBOUND_DATABASE_URL: database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS };
    // Three accounts: account.created and invitation.created each, six events, written as the CLI and server do.
    const config = loadConfig(env);
    const { db, store } = await openStore(config);
    const deps = await createDeps({ config, store, metrics: createMetrics({ processMetrics: false }) });
    for (const username of ['alice', 'bob', 'carol']) expect((await invite(deps, { username, createdBy: 'cli' })).ok).toBe(true);
    await db.close();
  });
  afterEach(async () => {
    await database.drop();
  });

  /** Runs `work` on the database directly, as someone with write access but not the data key. */
  async function tamper(work: (db: Db) => Promise<void>): Promise<void> {
    const db = openDatabase(database.url);
    try {
      await work(db);
    } finally {
      await db.close();
    }
  }

  it('verifies an untouched trail', async () => {
    const verified = await cli('audit', 'verify');
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toMatch(/intact: 6 events/);
    expect(verified.code).toBe(0);
  });

  it('finding 13: audit verify detects the newest events deleted', async () => {
    // A careful attacker also moves the chain head back to what is left, so the chain itself is whole.
    await tamper(async (db) => {
      await sql`delete from audit_events where seq > 4`.execute(db.kysely);
      await sql`update audit_head set last_seq = 4, last_hash = (select hash from audit_events where seq = 4) where id = 1`.execute(db.kysely);
    });
    const verified = await cli('audit', 'verify');
    expect(verified.code).toBe(1);
    expect(verified.stderr).toMatch(/broken at event 5\b/);
  });

  it('finding 13: audit verify detects the newest events deleted, the head left as it was', async () => {
    await tamper(async (db) => {
      await sql`delete from audit_events where seq > 4`.execute(db.kysely);
    });
    const verified = await cli('audit', 'verify');
    expect(verified.code).toBe(1);
    expect(verified.stderr).toMatch(/broken at event 5: events 5 to 6 are missing/);
  });

  it('finding 13: audit verify detects an event rewritten with the chain recomputed', async () => {
    await tamper(async (db) => {
      const rows = (await sql<{ seq: number; at: number; type: string; outcome: string; reason: string | null; account_id: string | null; ip: string | null; user_agent: string | null; details: string; hash: string }>`select * from audit_events order by seq`.execute(db.kysely)).rows;
      let prev = '';
      for (const row of rows) {
        const details = Number(row.seq) === 3 ? row.details.replace('"member"', '"admin"') : row.details;
        const fields = { seq: Number(row.seq), at: Number(row.at), type: row.type, outcome: row.outcome, reason: row.reason, accountId: row.account_id, ip: row.ip, userAgent: row.user_agent, details };
        const hash = chainHash(prev, fields);
        await sql`update audit_events set details = ${details}, prev_hash = ${prev}, hash = ${hash} where seq = ${fields.seq}`.execute(db.kysely);
        prev = hash;
      }
      await sql`update audit_head set last_hash = ${prev} where id = 1`.execute(db.kysely);
    });
    const verified = await cli('audit', 'verify');
    expect(verified.code).toBe(1);
    expect(verified.stderr).toMatch(/broken at event 3: event 3 was changed/);
  });

  it('finding 13: audit list filters by account, type and time, as text or JSON lines', async () => {
    const all = await cli('audit', 'list', '--json');
    expect(all.code, all.stderr).toBe(0);
    const events = all.stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number; type: string; username: string | null; at: string });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const bob = await cli('audit', 'list', '--account', 'bob', '--json');
    expect(bob.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string; username: string }))).toEqual([
      expect.objectContaining({ type: 'account.created', username: 'bob' }),
      expect.objectContaining({ type: 'invitation.created', username: 'bob' }),
    ]);
    const created = await cli('audit', 'list', '--type', 'account.created', '--json');
    expect(created.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { username: string }).username)).toEqual(['alice', 'bob', 'carol']);
    const prefixed = await cli('audit', 'list', '--type', 'invitation.*');
    expect(prefixed.stdout.trim().split('\n')).toHaveLength(3);
    expect(prefixed.stdout).toMatch(/invitation\.created/);
    expect(prefixed.stdout).not.toMatch(/account\.created/);
    const future = await cli('audit', 'list', '--since', new Date(Date.now() + 3_600_000).toISOString());
    expect(future).toMatchObject({ code: 0, stdout: '' });
    const recent = await cli('audit', 'list', '--since', '1h', '--limit', '2', '--json');
    expect(recent.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([5, 6]);
    const bad = await cli('audit', 'list', '--since', 'yesterday');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/ISO 8601/);
  });
});
