import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/** The indexes of `oidc_payloads` that only some models fill (002_oidc.ts), with the column each is for. */
const PARTIAL = [
  { name: 'oidc_payloads_grant', columns: ['grant_id'], column: 'grant_id' },
  { name: 'oidc_payloads_uid', columns: ['model', 'uid'], column: 'uid' },
  { name: 'oidc_payloads_user_code', columns: ['model', 'user_code'], column: 'user_code' },
  { name: 'oidc_payloads_account', columns: ['account_id'], column: 'account_id' },
] as const;

/**
 * Each of these indexes keeps only the rows that have its column. Every lookup through them is an
 * equality on the column (`grant_id = ?`, `model = ? and uid = ?`, ...), which implies it is not
 * null, so SQLite and PostgreSQL use the partial index as before. A replay marker (a client
 * assertion's or DPoP proof's `jti`, written on every token request) has none of the four, and no
 * longer writes four index entries nothing reads (about 30 µs of the 70 µs of its insert on SQLite,
 * BENCHMARKS.md).
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  for (const index of PARTIAL) {
    await db.schema.dropIndex(index.name).execute();
    await db.schema.createIndex(index.name).on('oidc_payloads').columns([...index.columns]).where(index.column, 'is not', null).execute();
  }
}
