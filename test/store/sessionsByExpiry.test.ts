/**
 * Migration 27: a sign-in's live-session count (the per-account limit, ASVS 7.1.2) reads only the
 * account's sessions that are not past their absolute limit, not every session of the 30 days ended
 * ones are kept. Shown by the count itself and by each database's plan for it, on SQLite and
 * PostgreSQL.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ACR } from '../../src/core/assurance/level.ts';
import type { Session } from '../../src/core/model.ts';
import type { Db } from '../../src/store/db.ts';
import type { Store } from '../../src/store/index.ts';
import { BACKENDS } from '../helpers/db.ts';
import { useFreshStore } from '../helpers/store.ts';

const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;

const session = (n: number, fields: Partial<Session>): Session => ({
  id: `ses-${n}`,
  accountId: 'acc-1',
  secretHash: `secret-${n}`,
  aal: 2,
  acr: ACR.aal2PhishingResistant,
  amr: ['hwk', 'user'],
  authTime: T0,
  passkeyId: null,
  createdAt: T0,
  lastSeenAt: T0,
  idleExpiresAt: T0 + HOUR,
  expiresAt: T0 + 24 * HOUR,
  ip: '192.0.2.1',
  userAgent: 'test',
  revokedAt: null,
  purpose: 'sign_in',
  ...fields,
});

describe.each(BACKENDS)('live sessions of an account by absolute expiry (%s)', (backend) => {
  let store: Store;
  let db: Db;
  useFreshStore(backend, (fresh) => ({ store, db } = fresh));

  it('counts the live ones, and the plan seeks the account and the expiry in one index', async () => {
    await store.accounts.create({ id: 'acc-1', username: 'ada', displayName: 'Ada', role: 'member', status: 'active', userHandle: 'h-1', email: null, createdAt: T0 });
    const now = T0 + 10 * 24 * HOUR;
    // A month of ended sessions (past their absolute limit), one revoked live one and two live ones.
    for (let day = 0; day < 30; day++) await store.sessions.create(session(day, { createdAt: now - (30 - day) * 24 * HOUR, idleExpiresAt: now - (29 - day) * 24 * HOUR - HOUR, expiresAt: now - (29 - day) * 24 * HOUR - HOUR }));
    await store.sessions.create(session(100, { expiresAt: now + HOUR, idleExpiresAt: now + HOUR, revokedAt: now - 1 }));
    await store.sessions.create(session(101, { expiresAt: now + HOUR, idleExpiresAt: now + HOUR }));
    await store.sessions.create(session(102, { expiresAt: now + 2 * HOUR, idleExpiresAt: now + HOUR }));
    expect(await store.sessions.countActive('acc-1', now)).toBe(2);
    expect((await store.accounts.recordSignIn('acc-1', now))?.liveSessions).toBe(2);

    // The count's statement as the store runs it (store/sql/sessions.ts countLiveOfAccount).
    const count = db.kysely
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('account_id', '=', 'acc-1')
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .where('idle_expires_at', '>', now)
      .compile();
    if (db.dialect === 'sqlite') {
      const rows = (await db.kysely.executeQuery<{ detail: string }>({ ...count, sql: `explain query plan ${count.sql}`, query: count.query })).rows;
      expect(rows.map((r) => r.detail).join('\n')).toMatch(/USING INDEX sessions_account_expiry \(account_id=\? AND expires_at>\?\)/);
    } else {
      const rows = await db.kysely.transaction().execute(async (tx) => {
        // A table this small is read whole otherwise; the question is which index the planner can use.
        await sql`set local enable_seqscan = off`.execute(tx);
        return (await tx.executeQuery<{ 'QUERY PLAN': string }>({ ...count, sql: `explain ${count.sql}`, query: count.query })).rows;
      });
      const text = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toContain('sessions_account_expiry');
      expect(text).toMatch(/Index Cond: \(\(account_id = .*\) AND \(expires_at > .*\)\)/);
    }
  });
});
