import type { Kysely, Selectable } from 'kysely';
import type { DelegationRow, DelegationStore } from '../ports.ts';
import type { Database, DelegationsTable } from '../schema.ts';

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toDelegation(row: Selectable<DelegationsTable>): DelegationRow {
  return {
    id: row.id,
    accountId: row.account_id,
    clientId: row.client_id,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    revokedAt: num(row.revoked_at),
    revokedReason: row.revoked_reason,
    lastUsedAt: num(row.last_used_at),
  };
}

export class SqlDelegationStore implements DelegationStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(d: DelegationRow): Promise<void> {
    await this.db
      .insertInto('delegations')
      .values({
        id: d.id,
        account_id: d.accountId,
        client_id: d.clientId,
        scopes: JSON.stringify(d.scopes),
        created_at: d.createdAt,
        expires_at: d.expiresAt,
        revoked_at: d.revokedAt,
        revoked_reason: d.revokedReason,
        last_used_at: d.lastUsedAt,
      })
      .execute();
  }

  async find(id: string): Promise<DelegationRow | undefined> {
    const row = await this.db.selectFrom('delegations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDelegation(row);
  }

  async listByAccount(accountId: string): Promise<DelegationRow[]> {
    const rows = await this.db.selectFrom('delegations').selectAll().where('account_id', '=', accountId).orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toDelegation);
  }

  async listLive(now: number): Promise<DelegationRow[]> {
    const rows = await this.db.selectFrom('delegations').selectAll().where('revoked_at', 'is', null).where('expires_at', '>', now).orderBy('created_at').orderBy('id').execute();
    return rows.map(toDelegation);
  }

  async findLive(accountId: string, clientId: string, now: number): Promise<DelegationRow | undefined> {
    const row = await this.db
      .selectFrom('delegations')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .executeTakeFirst();
    return row && toDelegation(row);
  }

  async revoke(id: string, accountId: string, reason: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('delegations')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async revokeForAgent(accountId: string, clientId: string, reason: string, at: number): Promise<number> {
    const result = await this.db
      .updateTable('delegations')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('account_id', '=', accountId)
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async revokeForAccount(accountId: string, reason: string, at: number): Promise<number> {
    const result = await this.db
      .updateTable('delegations')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async recordUse(id: string, at: number): Promise<void> {
    await this.db.updateTable('delegations').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
