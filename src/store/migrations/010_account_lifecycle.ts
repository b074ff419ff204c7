import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Account lifecycle (issue 12, "Account administration"): when each account last signed in, written
 * by the one place sessions are issued (services/signIn.ts) in the sign-in's own transaction, and
 * shown by `accounts show` / `accounts list` and the admin API. Null until the next sign-in.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('last_sign_in_at', 'bigint').execute();
}
