import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Acr } from '../../core/assurance/level.ts';
import type { Session } from '../../core/model.ts';
import type { SessionStore } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { Database, SessionsTable } from '../schema.ts';

/**
 * What makes a session live at `now`: not revoked, and past neither its absolute nor its idle
 * expiry. One definition for every statement that counts, lists or touches live sessions; with the
 * account first it is the index `sessions_account_live` (migration 29).
 */
export const liveAt =
  (now: number) =>
  (eb: ExpressionBuilder<Database, 'sessions'>) =>
    eb.and([eb('sessions.revoked_at', 'is', null), eb('sessions.expires_at', '>', now), eb('sessions.idle_expires_at', '>', now)]);

const insertSession = prepared((db, row: Selectable<SessionsTable>) => db.insertInto('sessions').values(row));
const byId = prepared((db, id: string) => db.selectFrom('sessions').selectAll().where('id', '=', id));
const touch = prepared((db, id: string, now: number, idleExpiresAt: number) =>
  db
    .updateTable('sessions')
    .set({ last_seen_at: now, idle_expires_at: idleExpiresAt })
    .where('id', '=', id)
    // Live means unexpired too: touching an idle-expired session would bring it back to life.
    .where(liveAt(now)),
);

// Every sign-in counts them (the per-account session limit, services/sessions.ts): compiled once.
export const countLiveOfAccount = prepared((db, accountId: string, now: number) =>
  db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('account_id', '=', accountId)
    .where(liveAt(now)),
);
const liveOfAccount = prepared((db, accountId: string, now: number) =>
  db
    .selectFrom('sessions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where(liveAt(now))
    .orderBy('created_at', 'desc'),
);

function toSession(row: Selectable<SessionsTable>): Session {
  return {
    id: row.id,
    accountId: row.account_id,
    secretHash: row.secret_hash,
    aal: Number(row.aal) as 1 | 2 | 3,
    acr: row.acr as Acr,
    amr: JSON.parse(row.amr) as string[],
    authTime: Number(row.auth_time),
    passkeyId: row.passkey_id,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    idleExpiresAt: Number(row.idle_expires_at),
    expiresAt: Number(row.expires_at),
    ip: row.ip,
    userAgent: row.user_agent,
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    purpose: row.purpose === 'recovery' || row.purpose === 'migration' ? row.purpose : 'sign_in',
  };
}

export class SqlSessionStore implements SessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(s: Session): Promise<void> {
    await insertSession(this.db, {
      id: s.id,
      account_id: s.accountId,
      secret_hash: s.secretHash,
      aal: s.aal,
      acr: s.acr,
      amr: JSON.stringify(s.amr),
      auth_time: s.authTime,
      passkey_id: s.passkeyId,
      created_at: s.createdAt,
      last_seen_at: s.lastSeenAt,
      idle_expires_at: s.idleExpiresAt,
      expires_at: s.expiresAt,
      ip: s.ip,
      user_agent: s.userAgent,
      revoked_at: s.revokedAt,
      purpose: s.purpose,
    });
  }

  async findById(id: string): Promise<Session | undefined> {
    const [row] = (await byId(this.db, id)).rows;
    return row && toSession(row);
  }

  async touch(id: string, now: number, idleExpiresAt: number): Promise<void> {
    await touch(this.db, id, now, idleExpiresAt);
  }

  async revoke(accountId: string, id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async purgeEnded(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<', before), eb('idle_expires_at', '<', before), eb('revoked_at', '<', before)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async revokeByPasskey(accountId: string, passkeyId: string, now: number, keep: string): Promise<number> {
    const result = await this.db
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('account_id', '=', accountId)
      .where('passkey_id', '=', passkeyId)
      .where('id', '!=', keep)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async revokeAllForAccount(accountId: string, now: number): Promise<number> {
    const result = await this.db.updateTable('sessions').set({ revoked_at: now }).where('account_id', '=', accountId).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async revokeMany(accountId: string, ids: readonly string[], now: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('id', 'in', [...ids])
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null)
      .returning('id')
      .execute();
    return rows.map((r) => r.id).sort();
  }

  async countActive(accountId: string, now: number): Promise<number> {
    return Number((await countLiveOfAccount(this.db, accountId, now)).rows[0]?.n ?? 0);
  }

  async listActive(accountId: string, now: number): Promise<Session[]> {
    return (await liveOfAccount(this.db, accountId, now)).rows.map(toSession);
  }

  async accountsWithLive(now: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .select('account_id')
      .distinct()
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .where('idle_expires_at', '>', now)
      .orderBy('account_id')
      .execute();
    return rows.map((r) => r.account_id);
  }
}
