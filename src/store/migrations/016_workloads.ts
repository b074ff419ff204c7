import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Workloads (issue 15, docs/nhi.md): services and agents, each an OpenID client (`oidc_clients`,
 * same `client_id`) with an owner account, a kind, a status and a last use. During a key rotation
 * with an overlap, the keys it replaced stay valid until `previous_jwks_until` (epoch ms).
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('workloads')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('disabled_reason', 'text')
    .addColumn('token_ttl_s', 'integer', (c) => c.notNull())
    .addColumn('previous_jwks', 'text')
    .addColumn('previous_jwks_until', 'bigint')
    .addColumn('keys_rotated_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('workloads_owner').on('workloads').column('owner_id').execute();
}
