/**
 * Migration 29 (one index of sessions by account) on a database that already holds sessions: live,
 * revoked and expired ones survive it, are counted and revoked as before, the two indexes it replaces
 * are gone, and deleting the account still removes every one of its sessions, on SQLite and on
 * PostgreSQL.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ACR } from '../../src/core/assurance/level.ts';
import type { Db } from '../../src/store/db.ts';
import { createStore } from '../../src/store/index.ts';
import { MIGRATIONS, migrate } from '../../src/store/migrate.ts';
import { BACKENDS } from '../helpers/db.ts';
import { useDatabaseBefore } from '../helpers/migrations.ts';

const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;

describe.each(BACKENDS)('migration 29 on %s', (backend) => {
  // The schema as it was before migration 29.
  let db: Db;
  useDatabaseBefore(backend, 29, (opened) => (db = opened));

  it('keeps every session, and the count, revocation and cascade work through the one index', async () => {
    await db.kysely.transaction().execute(async (tx) => {
      await sql`insert into accounts (id, username, display_name, role, status, user_handle, email, created_at, updated_at) values ('acc-1', 'ada', 'Ada', 'member', 'active', 'h1', null, 0, 0), ('acc-2', 'bob', 'Bob', 'member', 'active', 'h2', null, 0, 0)`.execute(tx);
      const session = (id: string, account: string, expires: number, idle: number, revoked: number | null) =>
        sql`insert into sessions (id, account_id, secret_hash, aal, acr, amr, auth_time, passkey_id, created_at, last_seen_at, idle_expires_at, expires_at, ip, user_agent, revoked_at, purpose)
            values (${id}, ${account}, ${`hash-${id}`}, 2, ${ACR.aal2PhishingResistant}, '["hwk"]', 0, null, 0, 0, ${idle}, ${expires}, '192.0.2.1', 'test', ${revoked}, 'sign_in')`.execute(tx);
      await session('live-1', 'acc-1', NOW + HOUR, NOW + HOUR, null);
      await session('live-2', 'acc-1', NOW + 2 * HOUR, NOW + HOUR, null);
      await session('idle-gone', 'acc-1', NOW + HOUR, NOW - 1, null);
      await session('expired', 'acc-1', NOW - 1, NOW + HOUR, null);
      await session('revoked', 'acc-1', NOW + HOUR, NOW + HOUR, NOW - HOUR);
      await session('other', 'acc-2', NOW + HOUR, NOW + HOUR, null);
    });
    expect(await migrate(db)).toEqual(MIGRATIONS.filter((m) => m.version >= 29).map((m) => m.version));

    const indexes =
      db.dialect === 'sqlite'
        ? (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'sessions' and name not like 'sqlite_autoindex%' order by name`.execute(db.kysely)).rows
        : (await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = ${db.schema} and tablename = 'sessions' and indexname <> 'sessions_pkey' order by indexname`.execute(db.kysely)).rows;
    expect(indexes.map((r) => r.name)).toEqual(['sessions_account_live']);

    const store = createStore(db);
    expect((await store.sessions.findById('revoked'))?.revokedAt).toBe(NOW - HOUR);
    expect(await store.sessions.countActive('acc-1', NOW)).toBe(2);
    expect((await store.accounts.recordSignIn('acc-1', NOW))?.liveSessions).toBe(2);
    expect(await store.sessions.revokeAllForAccount('acc-1', NOW)).toBe(4);
    expect(await store.sessions.countActive('acc-1', NOW)).toBe(0);
    expect(await store.sessions.countActive('acc-2', NOW)).toBe(1);

    await sql`delete from accounts where id = 'acc-1'`.execute(db.kysely);
    const left = await sql<{ id: string }>`select id from sessions order by id`.execute(db.kysely);
    expect(left.rows.map((r) => r.id)).toEqual(['other']);
  });
});
