import type { Kysely, Selectable } from 'kysely';
import type { LogoutOutboxRow, OidcLogoutOutboxStore } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { Database, OidcLogoutOutboxTable } from '../schema.ts';
import { SqlOutboxLease } from './outboxLease.ts';

// The dispatcher asks every second (delivery/outbox.ts), mostly to hear there is nothing due: compiled once.
const dueRows = prepared((db, now: number, limit: number) =>
  db.selectFrom('oidc_logout_outbox').selectAll().where('next_attempt_at', '<=', now).orderBy('next_attempt_at').orderBy('id').limit(limit),
);

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

export class SqlOidcLogoutOutboxStore extends SqlOutboxLease implements OidcLogoutOutboxStore {
  constructor(db: Kysely<Database>) {
    super(db, 'oidc_logout_outbox');
  }

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
    const { rows } = await dueRows(this.db, now, limit);
    return rows.map(toRow);
  }
}
