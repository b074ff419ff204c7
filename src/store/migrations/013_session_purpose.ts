import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * What a session is for (README "Recovery"): `sign_in`, a normal session, or `recovery`, a
 * session opened by self-service recovery whose only powers are to bind a new passkey and to see
 * and end sessions. Every session issued before this migration was a sign-in.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('purpose', 'text', (c) => c.notNull().defaultTo('sign_in')).execute();
}
