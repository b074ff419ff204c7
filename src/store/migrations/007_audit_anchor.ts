import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * The audit anchor (src/core/audit/anchor.ts): each event's MAC, and the head's MAC, under a key that
 * is not in the database. Events written before this migration have none; the head is anchored by
 * the next event, or when a server starts.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('mac', 'text').execute();
  await db.schema.alterTable('audit_head').addColumn('mac', 'text').execute();
}
