import { sql, type Kysely } from 'kysely';
import type { Db, Dialect } from './db.ts';
import * as m001 from './migrations/001_initial.ts';
import * as m002 from './migrations/002_oidc.ts';
import * as m003 from './migrations/003_codes.ts';
import * as m004 from './migrations/004_lean_ceremonies.ts';
import * as m005 from './migrations/005_attestation_metadata.ts';
import * as m006 from './migrations/006_grant_sessions.ts';
import * as m007 from './migrations/007_audit_anchor.ts';
import * as m008 from './migrations/008_client_policy.ts';
import * as m009 from './migrations/009_backchannel_logout.ts';
import * as m010 from './migrations/010_account_lifecycle.ts';
import * as m011 from './migrations/011_device_links.ts';
import * as m013 from './migrations/013_session_purpose.ts';
import * as m014 from './migrations/014_approvals.ts';
import * as m016 from './migrations/016_workloads.ts';
import * as m017 from './migrations/017_api_keys.ts';
import * as m018 from './migrations/018_shared_signals.ts';
import * as m019 from './migrations/019_imports.ts';
import * as m020 from './migrations/020_delegations.ts';
import * as m022 from './migrations/022_scim.ts';
import * as m025 from './migrations/025_audit_type_time.ts';
import * as m026 from './migrations/026_payload_partial_indexes.ts';
import * as m027 from './migrations/027_sessions_account_expiry.ts';
import * as m028 from './migrations/028_sessions_live_account.ts';
import * as m029 from './migrations/029_sessions_one_account_index.ts';

interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

/** Every migration, in order. A migration, once released, never changes: add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', up: m001.up },
  { version: 2, name: 'oidc', up: m002.up },
  { version: 3, name: 'codes', up: m003.up },
  { version: 4, name: 'lean_ceremonies', up: m004.up },
  { version: 5, name: 'attestation_metadata', up: m005.up },
  { version: 6, name: 'grant_sessions', up: m006.up },
  { version: 7, name: 'audit_anchor', up: m007.up },
  { version: 8, name: 'client_policy', up: m008.up },
  { version: 9, name: 'backchannel_logout', up: m009.up },
  { version: 10, name: 'account_lifecycle', up: m010.up },
  { version: 11, name: 'device_links', up: m011.up },
  { version: 13, name: 'session_purpose', up: m013.up },
  { version: 14, name: 'approvals', up: m014.up },
  { version: 16, name: 'workloads', up: m016.up },
  { version: 17, name: 'api_keys', up: m017.up },
  { version: 18, name: 'shared_signals', up: m018.up },
  { version: 19, name: 'imports', up: m019.up },
  { version: 20, name: 'delegations', up: m020.up },
  { version: 22, name: 'scim', up: m022.up },
  { version: 25, name: 'audit_type_time', up: m025.up },
  { version: 26, name: 'payload_partial_indexes', up: m026.up },
  { version: 27, name: 'sessions_account_expiry', up: m027.up },
  { version: 28, name: 'sessions_live_account', up: m028.up },
  { version: 29, name: 'sessions_one_account_index', up: m029.up },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Applies pending migrations in one transaction. Instances starting together are safe: on
 * PostgreSQL the first takes an advisory lock and the others wait for it, then find nothing to do;
 * on SQLite `BEGIN IMMEDIATE` serialises writers the same way.
 * @returns the versions applied by this call.
 */
export async function migrate(db: Db, now: number = Date.now()): Promise<number[]> {
  const run = async (tx: Kysely<any>): Promise<number[]> => {
    await sql`create table if not exists schema_migrations (version integer primary key, name text not null, applied_at bigint not null)`.execute(tx);
    const rows = await tx.selectFrom('schema_migrations').select('version').execute();
    const applied = new Set(rows.map((r: { version: number }) => Number(r.version)));
    const done: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await migration.up(tx, db.dialect);
      await tx.insertInto('schema_migrations').values({ version: migration.version, name: migration.name, applied_at: now }).execute();
      done.push(migration.version);
    }
    return done;
  };
  if (db.dialect === 'postgres') {
    return db.kysely.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${'keybound.migrate.' + db.schema}))`.execute(tx);
      await sql`create schema if not exists ${sql.id(db.schema)}`.execute(tx);
      return run(tx);
    });
  }
  return db.kysely.connection().execute(async (conn) => {
    await beginImmediate(conn);
    try {
      const done = await run(conn);
      await sql`commit`.execute(conn);
      return done;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
  });
}

/** How long a starting instance waits for another one's migration on the same SQLite file. */
const SQLITE_MIGRATION_WAIT_MS = 60_000;

/**
 * `BEGIN IMMEDIATE`, waiting for the write lock without blocking the event loop. better-sqlite3
 * is synchronous: with the connection's busy timeout, a second handle in the same process would
 * sleep the whole thread while the lock holder (on that same thread) cannot finish, then fail with
 * SQLITE_BUSY. A migration in another process may also outlast the busy timeout. So try without a
 * busy timeout and retry on a timer, for longer.
 */
async function beginImmediate(conn: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ timeout: number }>`pragma busy_timeout`.execute(conn);
  const busyTimeout = Number(rows[0]?.timeout ?? 0);
  await sql`pragma busy_timeout = 0`.execute(conn);
  try {
    const deadline = Date.now() + SQLITE_MIGRATION_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await sql`begin immediate`.execute(conn);
        return;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5 * 2 ** attempt, 100) * (0.5 + Math.random())));
      }
    }
  } finally {
    await sql`pragma busy_timeout = ${sql.raw(String(busyTimeout))}`.execute(conn);
  }
}

/** The highest version applied, or 0 on an empty database. */
export async function currentVersion(db: Db): Promise<number> {
  try {
    const row = await db.kysely.selectFrom('schema_migrations').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
    return Number(row?.v ?? 0);
  } catch (error) {
    if (/schema_migrations/.test(String((error as Error).message))) return 0;
    throw error;
  }
}
