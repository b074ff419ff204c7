import type { Kysely, Selectable } from 'kysely';
import type { AttestationMetadataBlob, AttestationMetadataEntry, AttestationMetadataStore } from '../ports.ts';
import type { AttestationMetadataTable, Database } from '../schema.ts';

/** Rows per INSERT: 6 parameters each, far below SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 200;

function toEntry(row: Selectable<AttestationMetadataTable>): AttestationMetadataEntry {
  return {
    aaguid: row.aaguid,
    description: row.description,
    rootCertificates: JSON.parse(row.root_certificates) as string[],
    statusReports: JSON.parse(row.status_reports) as AttestationMetadataEntry['statusReports'],
    blobNo: Number(row.blob_no),
    nextUpdate: row.next_update,
  };
}

export class SqlAttestationMetadataStore implements AttestationMetadataStore {
  constructor(
    private readonly db: Kysely<Database>,
    /** Runs work in a transaction when this store is not already inside one. */
    private readonly inTransaction: <T>(work: (db: Kysely<Database>) => Promise<T>) => Promise<T>,
  ) {}

  replace(blob: AttestationMetadataBlob, entries: readonly AttestationMetadataEntry[]): Promise<boolean> {
    return this.inTransaction(async (db) => {
      // Compare-and-set on the one BLOB row: a concurrent import of the same or a lower number
      // waits for this row's lock (PostgreSQL) or the write lock (SQLite), then updates nothing.
      const won = await db
        .insertInto('attestation_metadata_blob')
        .values({ id: 1, no: blob.no, next_update: blob.nextUpdate, imported_at: blob.importedAt, entries: blob.entries })
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet((eb) => ({ no: eb.ref('excluded.no'), next_update: eb.ref('excluded.next_update'), imported_at: eb.ref('excluded.imported_at'), entries: eb.ref('excluded.entries') }))
            .where('attestation_metadata_blob.no', '<', blob.no),
        )
        .returning('id')
        .executeTakeFirst();
      if (!won) return false;
      await db.deleteFrom('attestation_metadata').execute();
      for (let i = 0; i < entries.length; i += CHUNK) {
        await db
          .insertInto('attestation_metadata')
          .values(
            entries.slice(i, i + CHUNK).map((e) => ({
              aaguid: e.aaguid,
              description: e.description,
              root_certificates: JSON.stringify(e.rootCertificates),
              status_reports: JSON.stringify(e.statusReports),
              blob_no: e.blobNo,
              next_update: e.nextUpdate,
            })),
          )
          .execute();
      }
      return true;
    });
  }

  async find(aaguid: string): Promise<AttestationMetadataEntry | undefined> {
    const row = await this.db.selectFrom('attestation_metadata').selectAll().where('aaguid', '=', aaguid).executeTakeFirst();
    return row ? toEntry(row) : undefined;
  }

  async current(): Promise<AttestationMetadataBlob | undefined> {
    const row = await this.db.selectFrom('attestation_metadata_blob').selectAll().where('id', '=', 1).executeTakeFirst();
    return row ? { no: Number(row.no), nextUpdate: row.next_update, importedAt: Number(row.imported_at), entries: Number(row.entries) } : undefined;
  }
}
