import type { Kysely, Selectable } from 'kysely';
import type { Invitation, InvitationKind } from '../../core/model.ts';
import type { InvitationStore } from '../ports.ts';
import type { Database, InvitationsTable } from '../schema.ts';

function toInvitation(row: Selectable<InvitationsTable>): Invitation {
  return {
    id: row.id,
    accountId: row.account_id,
    secretHash: row.secret_hash,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    usedAt: row.used_at === null ? null : Number(row.used_at),
    // An administrator's link reads back as it always did; a device link carries its cap and passkey.
    ...(row.kind === 'recovery' ? { kind: 'recovery' as const } : {}),
    ...(row.kind === 'device' ? { kind: 'device' as const, maxAal: row.max_aal === null ? null : (Number(row.max_aal) as 1 | 2 | 3), passkeyId: row.passkey_id } : {}),
  };
}

export class SqlInvitationStore implements InvitationStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(i: Invitation): Promise<void> {
    await this.db
      .insertInto('invitations')
      .values({
        id: i.id,
        account_id: i.accountId,
        secret_hash: i.secretHash,
        created_by: i.createdBy,
        created_at: i.createdAt,
        expires_at: i.expiresAt,
        used_at: i.usedAt,
        kind: i.kind ?? 'enrolment',
        max_aal: i.maxAal ?? null,
        passkey_id: i.passkeyId ?? null,
      })
      .execute();
  }

  async find(id: string): Promise<Invitation | undefined> {
    const row = await this.db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toInvitation(row);
  }

  async listUsable(accountId: string, now: number): Promise<Invitation[]> {
    const rows = await this.db.selectFrom('invitations').selectAll().where('account_id', '=', accountId).where('used_at', 'is', null).where('expires_at', '>', now).orderBy('created_at').execute();
    return rows.map(toInvitation);
  }

  async consume(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('invitations')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async revokeForAccount(accountId: string, now: number, kind?: InvitationKind): Promise<number> {
    let query = this.db.updateTable('invitations').set({ expires_at: now }).where('account_id', '=', accountId).where('used_at', 'is', null).where('expires_at', '>', now);
    if (kind !== undefined) query = query.where('kind', '=', kind);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async hasUsable(accountId: string, now: number): Promise<boolean> {
    const row = await this.db.selectFrom('invitations').select('id').where('account_id', '=', accountId).where('used_at', 'is', null).where('expires_at', '>', now).limit(1).executeTakeFirst();
    return row !== undefined;
  }
}
