import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Sessions by account and absolute expiry, in place of the index on the account alone (001). Ended
 * sessions are kept for 30 days (server.ts), so with the old index every sign-in's live-session
 * count (the per-account limit, ASVS 7.1.2) read every session of the account's last month; now it
 * reads only those not past their absolute limit (24 hours at AAL2, 12 at AAL3). Lookups by the
 * account alone use the index's first column, as before.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.createIndex('sessions_account_expiry').on('sessions').columns(['account_id', 'expires_at']).execute();
  await db.schema.dropIndex('sessions_account').execute();
}
