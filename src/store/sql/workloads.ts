import type { Kysely, Selectable } from 'kysely';
import type { AccountStatus } from '../../core/model.ts';
import type { MachineStatus, WorkloadGate, WorkloadKind, WorkloadRow, WorkloadStore } from '../ports.ts';
import type { Database, WorkloadsTable } from '../schema.ts';

type Jwks = { keys: Record<string, unknown>[] };

const jwks = (text: string | null): Jwks | null => (text === null ? null : (JSON.parse(text) as Jwks));
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toWorkload(row: Selectable<WorkloadsTable>): WorkloadRow {
  return {
    clientId: row.client_id,
    name: row.name,
    ownerId: row.owner_id,
    kind: row.kind as WorkloadKind,
    status: row.status as MachineStatus,
    disabledReason: row.disabled_reason,
    tokenTtlS: Number(row.token_ttl_s),
    previousJwks: jwks(row.previous_jwks),
    previousJwksUntil: num(row.previous_jwks_until),
    keysRotatedAt: num(row.keys_rotated_at),
    createdAt: Number(row.created_at),
    lastUsedAt: num(row.last_used_at),
  };
}

export class SqlWorkloadStore implements WorkloadStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(w: WorkloadRow): Promise<void> {
    await this.db
      .insertInto('workloads')
      .values({
        client_id: w.clientId,
        name: w.name,
        owner_id: w.ownerId,
        kind: w.kind,
        status: w.status,
        disabled_reason: w.disabledReason,
        token_ttl_s: w.tokenTtlS,
        previous_jwks: w.previousJwks ? JSON.stringify(w.previousJwks) : null,
        previous_jwks_until: w.previousJwksUntil,
        keys_rotated_at: w.keysRotatedAt,
        created_at: w.createdAt,
        last_used_at: w.lastUsedAt,
      })
      .execute();
  }

  async find(clientId: string): Promise<WorkloadRow | undefined> {
    const row = await this.db.selectFrom('workloads').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row && toWorkload(row);
  }

  async gate(clientId: string): Promise<WorkloadGate | undefined> {
    const row = await this.db
      .selectFrom('workloads as w')
      .leftJoin('accounts as a', 'a.id', 'w.owner_id')
      .select(['w.status', 'w.previous_jwks', 'w.previous_jwks_until', 'a.status as owner_status'])
      .where('w.client_id', '=', clientId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      status: row.status as MachineStatus,
      ownerStatus: (row.owner_status ?? null) as AccountStatus | null,
      previousJwks: jwks(row.previous_jwks),
      previousJwksUntil: num(row.previous_jwks_until),
    };
  }

  async list(filter: { ownerId?: string } = {}): Promise<WorkloadRow[]> {
    let query = this.db.selectFrom('workloads').selectAll();
    if (filter.ownerId !== undefined) query = query.where('owner_id', '=', filter.ownerId);
    return (await query.orderBy('created_at').orderBy('client_id').execute()).map(toWorkload);
  }

  async setStatus(clientId: string, status: MachineStatus, reason: string | null): Promise<boolean> {
    const result = await this.db.updateTable('workloads').set({ status, disabled_reason: reason }).where('client_id', '=', clientId).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setOwner(clientId: string, ownerId: string): Promise<boolean> {
    const result = await this.db.updateTable('workloads').set({ owner_id: ownerId }).where('client_id', '=', clientId).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recordRotation(clientId: string, previous: { keys: readonly Record<string, unknown>[] } | null, until: number | null, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('workloads')
      .set({ previous_jwks: previous ? JSON.stringify(previous) : null, previous_jwks_until: until, keys_rotated_at: at })
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recordUse(clientId: string, at: number): Promise<void> {
    await this.db.updateTable('workloads').set({ last_used_at: at }).where('client_id', '=', clientId).execute();
  }

  async disableForOwner(ownerId: string, reason: string): Promise<string[]> {
    const rows = await this.db
      .updateTable('workloads')
      .set({ status: 'disabled', disabled_reason: reason })
      .where('owner_id', '=', ownerId)
      .where('status', '=', 'active')
      .returning('client_id')
      .execute();
    return rows.map((r) => r.client_id).sort();
  }

  async transferOwner(fromOwnerId: string, toOwnerId: string): Promise<string[]> {
    const rows = await this.db.updateTable('workloads').set({ owner_id: toOwnerId }).where('owner_id', '=', fromOwnerId).returning('client_id').execute();
    return rows.map((r) => r.client_id).sort();
  }
}
