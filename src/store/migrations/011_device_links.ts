import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Device links (README "Add a device"): an enrolment link a signed-in holder makes for another
 * device of their own. They are invitations (one table, one atomic consumption), marked by `kind`
 * and carrying the level cap of the session that issued them (`max_aal`) and the passkey that
 * session signed in with (`passkey_id`), which must still be active when the link is redeemed.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('invitations').addColumn('kind', 'text', (c) => c.notNull().defaultTo('enrolment')).execute();
  await db.schema.alterTable('invitations').addColumn('max_aal', 'integer').execute();
  await db.schema.alterTable('invitations').addColumn('passkey_id', 'text').execute();
}
