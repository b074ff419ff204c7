import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Live sessions by account, holding every column the live-session count reads: only rows not
 * revoked, keyed by account, absolute expiry, idle expiry, then `revoked_at` (always null here).
 * Every passkey sign-in counts the account's live sessions (the per-account limit, ASVS 7.1.2;
 * store/sql/accounts.ts on SQLite, sessions.ts on PostgreSQL). Through 027's index each counted
 * entry read its table row for `revoked_at` and `idle_expires_at`; now the count never leaves the
 * index (SQLite's covering index, PostgreSQL's index-only scan). Under callgrind, the SQLite sign-in
 * statement went from 170.5 k to 157.4 k instructions with 10 live sessions, 356.6 k to 233.2 k with
 * 100.
 *
 * `revoked_at` is in the key only for SQLite (3.53), which counts a partial index as covering only
 * if it holds every column the query names, those of the index's own WHERE too; without it the plan
 * is `USING INDEX`. Being always null it costs a byte or so per entry; PostgreSQL, which does not
 * need it, gets the same index.
 *
 * 027's index stays: deleting an account cascades to all its sessions, revoked ones too, which the
 * partial index does not hold. The price: one more index entry per session written, one removed when
 * a session is revoked, and one moved when a request extends the idle expiry (at most once a minute
 * per session, services/sessions.ts): that touch went from 8.7 k to 14.5 k instructions.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createIndex('sessions_live_account')
    .on('sessions')
    .columns(['account_id', 'expires_at', 'idle_expires_at', 'revoked_at'])
    .where('revoked_at', 'is', null)
    .execute();
}
