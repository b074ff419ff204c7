import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * SCIM provisioning and adoption reminders (issue 17; docs/scim.md, README "Importing accounts").
 *
 * `scim_users`: what SCIM (RFC 7643 §4.1) says of an account that Keybound's own account row does
 * not hold: the provisioning client's `externalId` (§3.1, at most 255 characters), the name parts
 * (§4.1.1, at most 128 each), and a version counted up on every SCIM change, which with the
 * account's `updated_at` makes the resource's ETag (RFC 7644 §3.14).
 *
 * `adoption_reminders`: one row per account and schedule step (days before the role's migration
 * date) once its reminder is claimed; the primary key is the claim, so of any number of runners,
 * instances and restarts exactly one sends each reminder.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('scim_users')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('external_id', 'text')
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('scim_users_external_id').on('scim_users').column('external_id').execute();
  await db.schema
    .createTable('adoption_reminders')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('days_before', 'integer', (c) => c.notNull())
    .addColumn('claimed_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addPrimaryKeyConstraint('adoption_reminders_pk', ['account_id', 'days_before'])
    .execute();
}
