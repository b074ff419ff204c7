import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * API keys (issue 15, docs/nhi.md): `kb_<env>_<random>_<checksum>`, stored as SHA-256 of the whole
 * key (`key_hash`, unique: how a presented key finds its row), with an owner, scopes, a mandatory
 * expiry and a last use. A rotation links the old key to the new (`replaced_by`).
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('revoked_reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('replaced_by', 'text')
    .execute();
  await db.schema.createIndex('api_keys_owner').on('api_keys').column('owner_id').execute();
}
