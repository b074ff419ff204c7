import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * One index of sessions by account in place of 027's and 028's two: account, then `revoked_at`,
 * absolute expiry, idle expiry. It serves both of their readers:
 *
 * - the live-session count of every passkey sign-in (`account_id = ? and revoked_at is null and
 *   expires_at > ?`, idle expiry read from the index): `revoked_at is null` is an equality on the
 *   second column, so the count reads only the account's live, unexpired entries and never the
 *   table (SQLite's covering index, PostgreSQL's index-only scan), as 028's partial index did;
 * - every session of an account, revoked ones too (deleting an account cascades to them), through
 *   the first column, as 027's did.
 *
 * Each session written now adds one index entry instead of two. On the passkey sign-in bench
 * (concurrency 1, SQLite) that is one B-tree insert and one WAL page fewer per sign-in; BENCHMARKS.md
 * has the counts.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.createIndex('sessions_account_live').on('sessions').columns(['account_id', 'revoked_at', 'expires_at', 'idle_expires_at']).execute();
  await db.schema.dropIndex('sessions_live_account').execute();
  await db.schema.dropIndex('sessions_account_expiry').execute();
}
