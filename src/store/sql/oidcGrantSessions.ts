import type { Kysely, Selectable } from 'kysely';
import type { GrantSessionRow, OidcGrantSessionStore } from '../ports.ts';
import type { Database, OidcGrantSessionsTable } from '../schema.ts';

function toRow(r: Selectable<OidcGrantSessionsTable>): GrantSessionRow {
  return {
    grantId: r.grant_id,
    sessionId: r.session_id,
    accountId: r.account_id,
    passkeyId: r.passkey_id,
    providerSessionUid: r.provider_session_uid,
    offline: Number(r.offline) === 1,
    createdAt: Number(r.created_at),
    clientId: r.client_id,
    sid: r.sid,
  };
}

export class SqlOidcGrantSessionStore implements OidcGrantSessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async bind(r: GrantSessionRow): Promise<void> {
    await this.db
      .insertInto('oidc_grant_sessions')
      .values({
        grant_id: r.grantId,
        session_id: r.sessionId,
        account_id: r.accountId,
        passkey_id: r.passkeyId,
        provider_session_uid: r.providerSessionUid,
        offline: r.offline ? 1 : 0,
        created_at: r.createdAt,
        client_id: r.clientId ?? null,
        sid: r.sid ?? null,
      })
      // A later code of the same grant and session may add offline_access; never take it away here.
      .onConflict((oc) => oc.columns(['grant_id', 'session_id']).doUpdateSet({ provider_session_uid: r.providerSessionUid, offline: r.offline ? 1 : 0, client_id: r.clientId ?? null, sid: r.sid ?? null }))
      .execute();
  }

  async findByGrant(grantId: string): Promise<GrantSessionRow[]> {
    return (await this.db.selectFrom('oidc_grant_sessions').selectAll().where('grant_id', '=', grantId).execute()).map(toRow);
  }

  async findBySessions(sessionIds: readonly string[]): Promise<GrantSessionRow[]> {
    if (sessionIds.length === 0) return [];
    return (await this.db.selectFrom('oidc_grant_sessions').selectAll().where('session_id', 'in', [...sessionIds]).execute()).map(toRow);
  }

  async findByPasskey(passkeyId: string): Promise<GrantSessionRow[]> {
    return (await this.db.selectFrom('oidc_grant_sessions').selectAll().where('passkey_id', '=', passkeyId).execute()).map(toRow);
  }

  async findByAccount(accountId: string): Promise<GrantSessionRow[]> {
    return (await this.db.selectFrom('oidc_grant_sessions').selectAll().where('account_id', '=', accountId).execute()).map(toRow);
  }

  async accounts(): Promise<string[]> {
    const rows = await this.db.selectFrom('oidc_grant_sessions').select('account_id').distinct().orderBy('account_id').execute();
    return rows.map((r) => r.account_id);
  }

  async forgetGrants(grantIds: readonly string[]): Promise<number> {
    if (grantIds.length === 0) return 0;
    const result = await this.db.deleteFrom('oidc_grant_sessions').where('grant_id', 'in', [...grantIds]).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async moveSession(fromSessionId: string, toSessionId: string): Promise<number> {
    const result = await this.db.updateTable('oidc_grant_sessions').set({ session_id: toSessionId }).where('session_id', '=', fromSessionId).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async purgeOrphans(): Promise<number> {
    const result = await this.db
      .deleteFrom('oidc_grant_sessions')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('oidc_payloads').select('key').where('model', '=', 'Grant').whereRef('oidc_payloads.grant_id', '=', 'oidc_grant_sessions.grant_id'))))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
