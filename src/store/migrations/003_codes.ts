import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * One-time-code factors: their authenticators (TOTP, SMS, email, recovery-code sets), the attempts
 * that ask for a code, the recovery codes, and the failure delays per account and per address.
 * Every counter lives here, so instances sharing the database share the limits.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  const time = 'bigint';
  await db.schema
    .createTable('authenticators')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('secret', 'text')
    .addColumn('totp_params', 'text')
    .addColumn('destination', 'text')
    .addColumn('last_step', time)
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disabled_reason', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('confirmed_at', time)
    .addColumn('last_used_at', time)
    .execute();
  await db.schema.createIndex('authenticators_account').on('authenticators').columns(['account_id', 'kind']).execute();
  // One bound authenticator of each kind per account; pending ones (not yet confirmed) may pile up
  // until confirmation replaces the bound one.
  await db.schema.createIndex('authenticators_one_bound').on('authenticators').columns(['account_id', 'kind']).unique().where(sql.ref('status'), '<>', 'pending').execute();

  await db.schema
    .createTable('code_attempts')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('factor', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('authenticator_id', 'text')
    .addColumn('throttle_key', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text')
    .addColumn('refused_reason', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('expires_at', time, (c) => c.notNull())
    .addColumn('consumed_at', time)
    .execute();
  await db.schema.createIndex('code_attempts_expiry').on('code_attempts').column('expires_at').execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('authenticator_id', 'text', (c) => c.notNull().references('authenticators.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('used_at', time)
    .execute();
  await db.schema.createIndex('recovery_codes_lookup').on('recovery_codes').columns(['authenticator_id', 'code_hash']).unique().execute();

  // Failure delays (codes/throttle.ts): one row per account or client address.
  await db.schema
    .createTable('code_throttles')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('delay_ms', time, (c) => c.notNull())
    .addColumn('blocked_until', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
}
