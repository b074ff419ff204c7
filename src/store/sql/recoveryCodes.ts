import type { Kysely } from 'kysely';
import type { RecoveryCode } from '../../core/model.ts';
import type { RecoveryCodeStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class SqlRecoveryCodeStore implements RecoveryCodeStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insertSet(authenticatorId: string, codes: readonly { id: string; codeHash: string }[]): Promise<void> {
    if (codes.length === 0) return;
    await this.db
      .insertInto('recovery_codes')
      .values(codes.map((c) => ({ id: c.id, authenticator_id: authenticatorId, code_hash: c.codeHash, used_at: null })))
      .execute();
  }

  async findUnused(authenticatorId: string, codeHash: string): Promise<RecoveryCode | undefined> {
    // Looked up by the hash of a 120-bit (formerly 80-bit) secret: the index lookup's timing says nothing about it.
    const row = await this.db
      .selectFrom('recovery_codes')
      .selectAll()
      .where('authenticator_id', '=', authenticatorId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return row && { id: row.id, authenticatorId: row.authenticator_id, codeHash: row.code_hash, usedAt: null };
  }

  async markUsed(id: string, now: number): Promise<boolean> {
    const result = await this.db.updateTable('recovery_codes').set({ used_at: now }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async countUnused(authenticatorId: string): Promise<number> {
    const row = await this.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('authenticator_id', '=', authenticatorId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
