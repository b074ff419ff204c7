import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * FIDO metadata (MDS3) imported with `keybound attestation import-mds`: one row per authenticator
 * model (by AAGUID) with the roots its attestation chains to and its status reports, and one row
 * for the BLOB they came from (its serial number `no` only ever grows).
 *
 * It also withdraws trust that came from the AAGUID allow-list alone (issue 10, finding 1): a
 * passkey registered with trust reason `aaguid_allowed` had no verified chain, so it may no longer
 * reach AAL3. The reason is read from the registration's audit event, the only place it was kept.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('attestation_metadata_blob')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('no', 'bigint', (c) => c.notNull())
    .addColumn('next_update', 'text', (c) => c.notNull())
    .addColumn('imported_at', 'bigint', (c) => c.notNull())
    .addColumn('entries', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('attestation_metadata')
    .addColumn('aaguid', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('root_certificates', 'text', (c) => c.notNull())
    .addColumn('status_reports', 'text', (c) => c.notNull())
    .addColumn('blob_no', 'bigint', (c) => c.notNull())
    .addColumn('next_update', 'text', (c) => c.notNull())
    .execute();

  const { rows } = await sql<{ details: string }>`select details from audit_events where type = 'passkey.registered' and outcome = 'success' and details like ${'%aaguid_allowed%'}`.execute(db);
  const ids = rows
    .map((r) => JSON.parse(r.details) as { passkey?: unknown; trustReason?: unknown })
    .filter((d) => d.trustReason === 'aaguid_allowed' && typeof d.passkey === 'string')
    .map((d) => d.passkey as string);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    await sql`update passkeys set attestation_trusted = 0 where id in (${sql.join(chunk)})`.execute(db);
  }
}
