import type { Kysely, Selectable } from 'kysely';
import type { AccountStatus } from '../../core/model.ts';
import type { ApiKeyRow, ApiKeyStore } from '../ports.ts';
import type { ApiKeysTable, Database } from '../schema.ts';

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toApiKey(row: Selectable<ApiKeysTable>): ApiKeyRow {
  return {
    id: row.id,
    keyHash: row.key_hash,
    ownerId: row.owner_id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    status: row.status as ApiKeyRow['status'],
    revokedReason: row.revoked_reason,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    revokedAt: num(row.revoked_at),
    lastUsedAt: num(row.last_used_at),
    replacedBy: row.replaced_by,
  };
}

export class SqlApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(k: ApiKeyRow): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({
        id: k.id,
        key_hash: k.keyHash,
        owner_id: k.ownerId,
        name: k.name,
        scopes: JSON.stringify(k.scopes),
        status: k.status,
        revoked_reason: k.revokedReason,
        created_at: k.createdAt,
        expires_at: k.expiresAt,
        revoked_at: k.revokedAt,
        last_used_at: k.lastUsedAt,
        replaced_by: k.replacedBy,
      })
      .execute();
  }

  async find(id: string): Promise<ApiKeyRow | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toApiKey(row);
  }

  async findByHash(keyHash: string): Promise<(ApiKeyRow & { readonly ownerStatus: AccountStatus | null }) | undefined> {
    const row = await this.db
      .selectFrom('api_keys as k')
      .leftJoin('accounts as a', 'a.id', 'k.owner_id')
      .selectAll('k')
      .select('a.status as owner_status')
      .where('k.key_hash', '=', keyHash)
      .executeTakeFirst();
    if (!row) return undefined;
    const { owner_status, ...key } = row;
    return { ...toApiKey(key), ownerStatus: (owner_status ?? null) as AccountStatus | null };
  }

  async list(filter: { ownerId?: string } = {}): Promise<ApiKeyRow[]> {
    let query = this.db.selectFrom('api_keys').selectAll();
    if (filter.ownerId !== undefined) query = query.where('owner_id', '=', filter.ownerId);
    return (await query.orderBy('created_at').orderBy('id').execute()).map(toApiKey);
  }

  async revoke(id: string, reason: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ status: 'revoked', revoked_reason: reason, revoked_at: at })
      .where('id', '=', id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async supersede(id: string, replacedBy: string, expiresAt: number): Promise<boolean> {
    const key = await this.find(id);
    if (!key || key.status !== 'active') return false;
    const result = await this.db
      .updateTable('api_keys')
      .set({ replaced_by: replacedBy, expires_at: Math.min(key.expiresAt, expiresAt) })
      .where('id', '=', id)
      .where('status', '=', 'active')
      .where('replaced_by', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recordUse(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async revokeForOwner(ownerId: string, reason: string, at: number): Promise<number> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ status: 'revoked', revoked_reason: reason, revoked_at: at })
      .where('owner_id', '=', ownerId)
      .where('status', '=', 'active')
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async transferOwner(fromOwnerId: string, toOwnerId: string): Promise<number> {
    const result = await this.db.updateTable('api_keys').set({ owner_id: toOwnerId }).where('owner_id', '=', fromOwnerId).where('status', '=', 'active').executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
