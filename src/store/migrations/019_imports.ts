import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Accounts brought over from another identity system (README "Importing accounts"). One row per
 * imported account: where it came from, the old password hash (a PHC string, kept only to verify
 * the one migration sign-in and deleted when a passkey is bound), and the phone number the old
 * system held, stored for a later binding and never a verified SMS factor by itself. Sessions gain
 * the purpose `migration` without a schema change (`sessions.purpose` is free text, migration 013).
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('imported_accounts')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('phone', 'text')
    .addColumn('imported_at', 'bigint', (c) => c.notNull())
    .addColumn('password_removed_at', 'bigint')
    .execute();
}
