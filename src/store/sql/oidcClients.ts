import type { Kysely, Selectable } from 'kysely';
import type { AccountStatus } from '../../core/model.ts';
import type { MachineStatus, OidcClientRow, OidcClientStore, ProviderClientRow } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { Database, OidcClientsTable } from '../schema.ts';

/** The provider's client lookup with its workload gate: runs on every request a client authenticates. */
const providerClient = prepared((db, clientId: string) =>
  db
    .selectFrom('oidc_clients as c')
    .leftJoin('workloads as w', 'w.client_id', 'c.client_id')
    .leftJoin('accounts as a', 'a.id', 'w.owner_id')
    .select(['c.client_id', 'c.metadata', 'w.status', 'w.previous_jwks', 'w.previous_jwks_until', 'a.status as owner_status'])
    .where('c.client_id', '=', clientId),
);

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

  async findForProvider(clientId: string): Promise<ProviderClientRow | undefined> {
    const [row] = (await providerClient(this.db, clientId)).rows;
    if (!row) return undefined;
    return {
      clientId: row.client_id,
      metadataJson: row.metadata,
      workload:
        row.status === null || row.status === undefined
          ? null
          : {
              status: row.status as MachineStatus,
              ownerStatus: (row.owner_status ?? null) as AccountStatus | null,
              previousJwksJson: row.previous_jwks ?? null,
              previousJwksUntil: row.previous_jwks_until === null || row.previous_jwks_until === undefined ? null : Number(row.previous_jwks_until),
            },
    };
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
