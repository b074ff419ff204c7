import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Two-person approvals (issue 12, "Assisted recovery" and "Account administration"): one row per
 * request that a second administrator must approve before it takes effect. `kind` says what it is:
 * `recovery`, an assisted recovery that, once approved and past `release_at`, gives its requester one
 * enrolment link for the holder; or `role`, raising an account to `admin` through the API. `state`
 * moves only forward by conditional UPDATEs (store/sql/approvals.ts): awaiting_approval -> approved
 * -> linked (recovery) or applied (role), or -> cancelled. "waiting" and "released" are read from
 * `release_at` and the clock, not stored.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('approvals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requester_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('revoke_existing', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('role_from', 'text')
    .addColumn('role_to', 'text')
    .addColumn('approved_by', 'text')
    .addColumn('approver_id', 'text')
    .addColumn('approved_at', 'bigint')
    .addColumn('release_at', 'bigint')
    .addColumn('release_noticed_at', 'bigint')
    .addColumn('invitation_id', 'text')
    .addColumn('linked_at', 'bigint')
    .addColumn('cancelled_by', 'text')
    .addColumn('cancelled_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('approvals_account').on('approvals').columns(['account_id', 'state']).execute();
  await db.schema.createIndex('approvals_state').on('approvals').columns(['state', 'created_at']).execute();
}
