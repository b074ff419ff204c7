import type { ExpressionBuilder, Kysely } from 'kysely';
import type { OidcPayloadRow, OidcPayloadStore, StoredOidcPayload } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { Database, OidcPayloadsTable } from '../schema.ts';

/**
 * A one-time marker in one statement: inserted, or put in place of an expired marker of the same
 * key (which no longer protects anything: the JWT it stood for has expired too). A live marker is
 * left alone and nothing is returned. The database decides under its own lock (a unique key, the
 * conflict clause), so of any number of racing callers exactly one gets the row back.
 */
const insertOnceStatement = prepared((db, row: OidcPayloadsTable, now: number) =>
  db
    .insertInto('oidc_payloads')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['model', 'key'])
        .doUpdateSet((eb) => ({
          payload: eb.ref('excluded.payload'),
          grant_id: eb.ref('excluded.grant_id'),
          uid: eb.ref('excluded.uid'),
          user_code: eb.ref('excluded.user_code'),
          account_id: eb.ref('excluded.account_id'),
          expires_at: eb.ref('excluded.expires_at'),
          consumed_at: eb.ref('excluded.consumed_at'),
        }))
        .where('oidc_payloads.expires_at', '<=', now),
    )
    .returning('key'),
);

/** Rows without an expiry, or expiring after `now`. */
const live = (now: number) => (eb: ExpressionBuilder<Database, 'oidc_payloads'>) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]);

function toStored(row: { payload: string; consumed_at: number | null } | undefined): StoredOidcPayload | undefined {
  return row && { payload: row.payload, consumedAt: row.consumed_at === null ? null : Number(row.consumed_at) };
}

function toValues(r: OidcPayloadRow) {
  return {
    model: r.model,
    key: r.key,
    payload: r.payload,
    grant_id: r.grantId,
    uid: r.uid,
    user_code: r.userCode,
    account_id: r.accountId,
    expires_at: r.expiresAt,
    consumed_at: null,
  };
}

export class SqlOidcPayloadStore implements OidcPayloadStore {
  constructor(private readonly db: Kysely<Database>) {}

  async upsert(r: OidcPayloadRow): Promise<void> {
    const values = toValues(r);
    await this.db
      .insertInto('oidc_payloads')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['model', 'key']).doUpdateSet({
          payload: values.payload,
          grant_id: values.grant_id,
          uid: values.uid,
          user_code: values.user_code,
          account_id: values.account_id,
          expires_at: values.expires_at,
        }),
      )
      .execute();
  }

  async insertOnce(r: OidcPayloadRow, now: number): Promise<boolean> {
    const { rows } = await insertOnceStatement(this.db, toValues(r), now);
    return rows.length === 1;
  }

  async find(model: string, key: string, now: number): Promise<StoredOidcPayload | undefined> {
    const row = await this.db.selectFrom('oidc_payloads').select(['payload', 'consumed_at']).where('model', '=', model).where('key', '=', key).where(live(now)).executeTakeFirst();
    return toStored(row);
  }

  async findByUid(model: string, uid: string, now: number): Promise<StoredOidcPayload | undefined> {
    const row = await this.db.selectFrom('oidc_payloads').select(['payload', 'consumed_at']).where('model', '=', model).where('uid', '=', uid).where(live(now)).executeTakeFirst();
    return toStored(row);
  }

  async findByUserCode(model: string, userCode: string, now: number): Promise<StoredOidcPayload | undefined> {
    const row = await this.db
      .selectFrom('oidc_payloads')
      .select(['payload', 'consumed_at'])
      .where('model', '=', model)
      .where('user_code', '=', userCode)
      .where(live(now))
      .executeTakeFirst();
    return toStored(row);
  }

  async consume(model: string, key: string, now: number): Promise<boolean> {
    // One conditional UPDATE: of any number of concurrent callers exactly one sees a changed row.
    const result = await this.db
      .updateTable('oidc_payloads')
      .set({ consumed_at: now })
      .where('model', '=', model)
      .where('key', '=', key)
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async destroy(model: string, key: string): Promise<void> {
    await this.db.deleteFrom('oidc_payloads').where('model', '=', model).where('key', '=', key).execute();
  }

  async revokeByGrantId(model: string, grantId: string): Promise<number> {
    const result = await this.db.deleteFrom('oidc_payloads').where('model', '=', model).where('grant_id', '=', grantId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async revokeByAccount(accountId: string): Promise<number> {
    const result = await this.db.deleteFrom('oidc_payloads').where('account_id', '=', accountId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async destroyByUid(model: string, uid: string): Promise<number> {
    const result = await this.db.deleteFrom('oidc_payloads').where('model', '=', model).where('uid', '=', uid).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async purgeExpired(now: number): Promise<number> {
    const result = await this.db.deleteFrom('oidc_payloads').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
