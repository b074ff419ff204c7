import type { Kysely } from 'kysely';
import type { CodeFactor } from '../../codes/factors.ts';
import type { CodeAttempt, CodeAttemptPurpose } from '../../core/model.ts';
import type { CodeAttemptStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class SqlCodeAttemptStore implements CodeAttemptStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(a: CodeAttempt): Promise<void> {
    await this.db
      .insertInto('code_attempts')
      .values({
        id_hash: a.idHash,
        purpose: a.purpose,
        factor: a.factor,
        account_id: a.accountId,
        authenticator_id: a.authenticatorId,
        throttle_key: a.throttleKey,
        code_hash: a.codeHash,
        refused_reason: a.refusedReason,
        created_at: a.createdAt,
        expires_at: a.expiresAt,
        consumed_at: a.consumedAt,
      })
      .execute();
  }

  async find(idHash: string): Promise<CodeAttempt | undefined> {
    const row = await this.db.selectFrom('code_attempts').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return (
      row && {
        idHash: row.id_hash,
        purpose: row.purpose as CodeAttemptPurpose,
        factor: row.factor as CodeFactor,
        accountId: row.account_id,
        authenticatorId: row.authenticator_id,
        throttleKey: row.throttle_key,
        codeHash: row.code_hash,
        refusedReason: row.refused_reason,
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
        consumedAt: row.consumed_at === null ? null : Number(row.consumed_at),
      }
    );
  }

  async consume(idHash: string, now: number): Promise<boolean> {
    // One conditional UPDATE: of any number of racing sign-ins with this attempt, one gets `true`.
    const result = await this.db
      .updateTable('code_attempts')
      .set({ consumed_at: now })
      .where('id_hash', '=', idHash)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async purgeExpired(now: number): Promise<number> {
    const result = await this.db.deleteFrom('code_attempts').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
