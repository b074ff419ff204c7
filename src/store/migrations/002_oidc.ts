import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * The OpenID provider's state: oidc-provider payloads (sessions, interactions, grants, codes,
 * tokens, replay markers), registered clients, and token-signing keys.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  const time = 'bigint';
  // One row per oidc-provider model instance. `key` is SHA-256 of the instance id, because for
  // codes, tokens and sessions the id is itself the bearer credential (DESIGN.md principle 3).
  await db.schema
    .createTable('oidc_payloads')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('uid', 'text')
    .addColumn('user_code', 'text')
    .addColumn('account_id', 'text')
    .addColumn('expires_at', time)
    .addColumn('consumed_at', time)
    .addPrimaryKeyConstraint('oidc_payloads_pk', ['model', 'key'])
    .execute();
  await db.schema.createIndex('oidc_payloads_grant').on('oidc_payloads').column('grant_id').execute();
  await db.schema.createIndex('oidc_payloads_uid').on('oidc_payloads').columns(['model', 'uid']).execute();
  await db.schema.createIndex('oidc_payloads_user_code').on('oidc_payloads').columns(['model', 'user_code']).execute();
  await db.schema.createIndex('oidc_payloads_account').on('oidc_payloads').column('account_id').execute();
  await db.schema.createIndex('oidc_payloads_expiry').on('oidc_payloads').column('expires_at').execute();

  await db.schema
    .createTable('oidc_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('shared_secret', 'integer', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .execute();

  // status is `current` (signs and verifies; at most one, enforced by the partial unique index) or
  // `retiring` (verifies until retire_at, so tokens signed before a rotation stay valid).
  await db.schema
    .createTable('oidc_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('retire_at', time)
    .execute();
  await db.schema.createIndex('oidc_signing_keys_one_current').on('oidc_signing_keys').column('status').unique().where('status', '=', 'current').execute();
}
