import { sql, type Kysely } from 'kysely';
import type { Account } from '../../core/model.ts';
import type { AdoptionReminderStore, ScimStore, ScimUserFields, ScimUserQuery, ScimUserRecord } from '../ports.ts';
import type { Database } from '../schema.ts';
import { toAccount } from './accounts.ts';

const LIVE = ['invited', 'active', 'suspended'] as const;

export class SqlScimStore implements ScimStore {
  constructor(private readonly db: Kysely<Database>) {}

  private base() {
    return this.db
      .selectFrom('accounts as a')
      .leftJoin('scim_users as s', 's.account_id', 'a.id')
      .selectAll('a')
      .select(['s.external_id', 's.given_name', 's.family_name', 's.version', 's.updated_at as scim_updated_at'])
      .where('a.status', 'in', LIVE);
  }

  private static record(row: Record<string, unknown>): ScimUserRecord {
    const account = toAccount(row as never);
    const scimAt = row.scim_updated_at === null || row.scim_updated_at === undefined ? 0 : Number(row.scim_updated_at);
    return {
      account,
      externalId: (row.external_id as string | null) ?? null,
      givenName: (row.given_name as string | null) ?? null,
      familyName: (row.family_name as string | null) ?? null,
      version: row.version === null || row.version === undefined ? 0 : Number(row.version),
      updatedAt: Math.max(Number(row.updated_at), scimAt),
    };
  }

  async find(accountId: string): Promise<ScimUserRecord | undefined> {
    const row = await this.base().where('a.id', '=', accountId).executeTakeFirst();
    return row && SqlScimStore.record(row);
  }

  async list(query: ScimUserQuery): Promise<{ total: number; records: ScimUserRecord[] }> {
    let q = this.base();
    if (query.userName !== undefined) q = q.where(sql<boolean>`lower(a.username) = ${query.userName.toLowerCase()}`);
    if (query.email !== undefined) q = q.where(sql<boolean>`lower(coalesce(a.email, '')) = ${query.email.toLowerCase()}`);
    if (query.externalId !== undefined) q = q.where('s.external_id', '=', query.externalId);
    const counted = await q.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    const rows = query.limit > 0 ? await q.orderBy('a.username').offset(query.offset).limit(query.limit).execute() : [];
    return { total: Number(counted?.n ?? 0), records: rows.map((r) => SqlScimStore.record(r)) };
  }

  async save(accountId: string, fields: Partial<ScimUserFields>, now: number): Promise<void> {
    const values = {
      ...(fields.externalId !== undefined ? { external_id: fields.externalId } : {}),
      ...(fields.givenName !== undefined ? { given_name: fields.givenName } : {}),
      ...(fields.familyName !== undefined ? { family_name: fields.familyName } : {}),
    };
    await this.db
      .insertInto('scim_users')
      .values({ account_id: accountId, external_id: null, given_name: null, family_name: null, ...values, version: 1, updated_at: now })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ ...values, version: sql`scim_users.version + 1`, updated_at: now }))
      .execute();
  }

  async claimVersion(accountId: string, version: number, now: number): Promise<boolean> {
    if (version === 0) {
      const inserted = await this.db
        .insertInto('scim_users')
        .values({ account_id: accountId, external_id: null, given_name: null, family_name: null, version: 1, updated_at: now })
        .onConflict((oc) => oc.column('account_id').doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
    }
    const updated = await this.db.updateTable('scim_users').set({ version: version + 1, updated_at: now }).where('account_id', '=', accountId).where('version', '=', version).executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  async touch(accountId: string, now: number): Promise<void> {
    await this.save(accountId, {}, now);
  }

  async membersOf(role: string, limit: number): Promise<Account[]> {
    const rows = await this.db.selectFrom('accounts').selectAll().where('role', '=', role).where('status', 'in', LIVE).orderBy('username').limit(limit).execute();
    return rows.map(toAccount);
  }
}

export class SqlAdoptionReminderStore implements AdoptionReminderStore {
  constructor(private readonly db: Kysely<Database>) {}

  async pending(role: string, daysBefore: number, limit: number): Promise<Account[]> {
    const rows = await this.db
      .selectFrom('accounts as a')
      .innerJoin('imported_accounts as i', 'i.account_id', 'a.id')
      .selectAll('a')
      .where('a.role', '=', role)
      .where('a.status', 'in', ['invited', 'active'])
      .where('a.email', 'is not', null)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('passkeys as p').select('p.id').whereRef('p.account_id', '=', 'a.id').where('p.status', '=', 'active'))))
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('adoption_reminders as r').select('r.account_id').whereRef('r.account_id', '=', 'a.id').where('r.days_before', '=', daysBefore))))
      .orderBy('a.username')
      .limit(limit)
      .execute();
    return rows.map(toAccount);
  }

  async claimed(accountId: string, daysBefore: number): Promise<boolean> {
    const row = await this.db.selectFrom('adoption_reminders').select('account_id').where('account_id', '=', accountId).where('days_before', '=', daysBefore).executeTakeFirst();
    return row !== undefined;
  }

  async claim(accountId: string, daysBefore: number, now: number): Promise<boolean> {
    // The primary key decides: of any number of concurrent inserts exactly one adds the row.
    const result = await this.db
      .insertInto('adoption_reminders')
      .values({ account_id: accountId, days_before: daysBefore, claimed_at: now, sent_at: null })
      .onConflict((oc) => oc.columns(['account_id', 'days_before']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async markSent(accountId: string, daysBefore: number, now: number): Promise<void> {
    await this.db.updateTable('adoption_reminders').set({ sent_at: now }).where('account_id', '=', accountId).where('days_before', '=', daysBefore).execute();
  }
}
