import { sql, type Kysely, type Selectable } from 'kysely';
import type { AdoptionCounts, ImportedAccount, ImportStore } from '../ports.ts';
import type { Database, ImportedAccountsTable } from '../schema.ts';

function toImported(row: Selectable<ImportedAccountsTable>): ImportedAccount {
  return {
    accountId: row.account_id,
    source: row.source as ImportedAccount['source'],
    externalId: row.external_id,
    passwordHash: row.password_hash,
    phone: row.phone,
    importedAt: Number(row.imported_at),
    passwordRemovedAt: row.password_removed_at === null ? null : Number(row.password_removed_at),
  };
}

export class SqlImportStore implements ImportStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(r: ImportedAccount): Promise<void> {
    await this.db
      .insertInto('imported_accounts')
      .values({
        account_id: r.accountId,
        source: r.source,
        external_id: r.externalId,
        password_hash: r.passwordHash,
        phone: r.phone,
        imported_at: r.importedAt,
        password_removed_at: r.passwordRemovedAt,
      })
      .execute();
  }

  async find(accountId: string): Promise<ImportedAccount | undefined> {
    const row = await this.db.selectFrom('imported_accounts').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    return row && toImported(row);
  }

  async removePassword(accountId: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('imported_accounts')
      .set({ password_hash: null, password_removed_at: now })
      .where('account_id', '=', accountId)
      .where('password_hash', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async adoption(): Promise<AdoptionCounts[]> {
    const hasPasskey = sql<number>`case when exists (select 1 from passkeys p where p.account_id = a.id and p.status = 'active') then 1 else 0 end`;
    const isImported = sql<number>`case when exists (select 1 from imported_accounts i where i.account_id = a.id) then 1 else 0 end`;
    const rows = await this.db
      .selectFrom('accounts as a')
      .select(['a.role', hasPasskey.as('has_passkey'), isImported.as('imported'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('a.status', 'in', ['invited', 'active'])
      .groupBy(['a.role', 'has_passkey', 'imported'])
      .execute();
    const byRole = new Map<string, { role: string; enrolled: number; pending: number; imported: number }>();
    for (const row of rows) {
      const counts = byRole.get(row.role) ?? { role: row.role, enrolled: 0, pending: 0, imported: 0 };
      const n = Number(row.n);
      if (Number(row.has_passkey) === 1) counts.enrolled += n;
      else {
        counts.pending += n;
        if (Number(row.imported) === 1) counts.imported += n;
      }
      byRole.set(row.role, counts);
    }
    return [...byRole.values()];
  }
}
