import type { Kysely, Selectable } from 'kysely';
import type { OidcClientRow, OidcClientStore } from '../ports.ts';
import type { Database, OidcClientsTable } from '../schema.ts';

function toClient(row: Selectable<OidcClientsTable>): OidcClientRow {
  return {
    clientId: row.client_id,
    name: row.name,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    sharedSecret: Number(row.shared_secret) === 1,
    createdAt: Number(row.created_at),
  };
}

export class SqlOidcClientStore implements OidcClientStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(c: OidcClientRow): Promise<boolean> {
    const inserted = await this.db
      .insertInto('oidc_clients')
      .values({ client_id: c.clientId, name: c.name, metadata: JSON.stringify(c.metadata), shared_secret: c.sharedSecret ? 1 : 0, created_at: c.createdAt })
      .onConflict((oc) => oc.column('client_id').doNothing())
      .returning('client_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async find(clientId: string): Promise<OidcClientRow | undefined> {
    const row = await this.db.selectFrom('oidc_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row && toClient(row);
  }

  async list(): Promise<OidcClientRow[]> {
    const rows = await this.db.selectFrom('oidc_clients').selectAll().orderBy('created_at').orderBy('client_id').execute();
    return rows.map(toClient);
  }

  async updateMetadata(clientId: string, metadata: Record<string, unknown>): Promise<boolean> {
    const result = await this.db.updateTable('oidc_clients').set({ metadata: JSON.stringify(metadata) }).where('client_id', '=', clientId).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(clientId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('oidc_clients').where('client_id', '=', clientId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
