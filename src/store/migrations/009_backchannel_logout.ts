import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * OpenID Connect Back-Channel Logout 1.0 (src/oidc/backchannel.ts).
 *
 * - `oidc_grant_sessions.client_id` and `.sid`: which client a grant was issued to and the session
 *   id (`sid`) its ID tokens carry, recorded when the grant is bound to its Keybound session. Both
 *   are needed after the provider's own Grant and Session rows are gone (an RP-initiated logout
 *   deletes them before the Keybound session ends). Bindings made earlier have neither, and their
 *   clients get no logout token.
 * - `oidc_logout_outbox`: one row per logout token to deliver, written in the transaction that ends
 *   the session (so it exists only if the ending committed), sent after it by any instance, and
 *   deleted once delivered or given up. It holds no token: the token is signed at each attempt.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  const time = 'bigint';
  await db.schema.alterTable('oidc_grant_sessions').addColumn('client_id', 'text').execute();
  await db.schema.alterTable('oidc_grant_sessions').addColumn('sid', 'text').execute();
  await db.schema
    .createTable('oidc_logout_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('sid', 'text')
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('next_attempt_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oidc_logout_outbox_due').on('oidc_logout_outbox').column('next_attempt_at').execute();
}
