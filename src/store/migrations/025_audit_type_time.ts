import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * The posture dashboard (issue 16) reads sign-in events of a window of days: an index on
 * (type, at) lets it read only those instead of the whole audit trail.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.createIndex('audit_events_type_at').on('audit_events').columns(['type', 'at']).execute();
}
