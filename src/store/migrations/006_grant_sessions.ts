import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Provider grants bound to the Keybound session that made them, and signing keys published before
 * they sign.
 *
 * - `oidc_grant_sessions`: one row per (grant, Keybound session) that had an authorization code
 *   issued from it. Revoking a Keybound session, or removing or flagging the passkey behind it,
 *   finds its grants here and ends them with their refresh tokens, opaque access tokens and the
 *   provider session (issue 10, finding 6). `offline` grants outlive the session, not the passkey.
 * - `oidc_signing_keys.activate_at`: when a key starts signing (null: from its creation). A
 *   rotation publishes the next key in the JWKS at once and signs with it only from `activate_at`,
 *   so relying parties with a cached JWKS know it before they see it (finding 7). One current key
 *   per algorithm (ES256 by default, RS256 for clients that ask for it: OIDC Discovery §3).
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  const time = 'bigint';
  await db.schema
    .createTable('oidc_grant_sessions')
    .addColumn('grant_id', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('passkey_id', 'text')
    .addColumn('provider_session_uid', 'text')
    .addColumn('offline', 'integer', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('oidc_grant_sessions_pk', ['grant_id', 'session_id'])
    .execute();
  await db.schema.createIndex('oidc_grant_sessions_session').on('oidc_grant_sessions').column('session_id').execute();
  await db.schema.createIndex('oidc_grant_sessions_passkey').on('oidc_grant_sessions').column('passkey_id').execute();
  await db.schema.createIndex('oidc_grant_sessions_account').on('oidc_grant_sessions').column('account_id').execute();

  await db.schema.alterTable('oidc_signing_keys').addColumn('activate_at', time).execute();
  await db.schema.dropIndex('oidc_signing_keys_one_current').execute();
  await db.schema.createIndex('oidc_signing_keys_one_current').on('oidc_signing_keys').column('alg').unique().where(sql.ref('status'), '=', 'current').execute();
}
