import type { Kysely, Selectable } from 'kysely';
import type { LogoutOutboxRow, OidcLogoutOutboxStore } from '../ports.ts';
import type { Database, OidcLogoutOutboxTable } from '../schema.ts';

function toRow(r: Selectable<OidcLogoutOutboxTable>): LogoutOutboxRow {
  return {
    id: r.id,
    clientId: r.client_id,
    accountId: r.account_id,
    sid: r.sid,
    sessionId: r.session_id,
    reason: r.reason,
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
    nextAttemptAt: Number(r.next_attempt_at),
  };
}

export class SqlOidcLogoutOutboxStore implements OidcLogoutOutboxStore {
  constructor(private readonly db: Kysely<Database>) {}

  async enqueue(rows: readonly LogoutOutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('oidc_logout_outbox')
      .values(
        rows.map((r) => ({
          id: r.id,
          client_id: r.clientId,
          account_id: r.accountId,
          sid: r.sid,
          session_id: r.sessionId,
          reason: r.reason,
          attempts: r.attempts,
          created_at: r.createdAt,
          next_attempt_at: r.nextAttemptAt,
        })),
      )
      .execute();
  }

  async listDue(now: number, limit: number): Promise<LogoutOutboxRow[]> {
    const rows = await this.db.selectFrom('oidc_logout_outbox').selectAll().where('next_attempt_at', '<=', now).orderBy('next_attempt_at').orderBy('id').limit(limit).execute();
    return rows.map(toRow);
  }

  async claim(id: string, attempts: number, now: number, leaseUntil: number): Promise<boolean> {
    const result = await this.db
      .updateTable('oidc_logout_outbox')
      .set({ attempts: attempts + 1, next_attempt_at: leaseUntil })
      .where('id', '=', id)
      .where('attempts', '=', attempts)
      .where('next_attempt_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async reschedule(id: string, at: number): Promise<void> {
    await this.db.updateTable('oidc_logout_outbox').set({ next_attempt_at: at }).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('oidc_logout_outbox').where('id', '=', id).execute();
  }
}
