import type { Kysely, Selectable } from 'kysely';
import type { CodeFactor } from '../../codes/factors.ts';
import type { CodeAttempt, CodeAttemptPurpose } from '../../core/model.ts';
import type { CodeAttemptStore } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { CodeAttemptsTable, Database } from '../schema.ts';

const insertAttempt = prepared((db, row: Selectable<CodeAttemptsTable>) => db.insertInto('code_attempts').values(row));
const byIdHash = prepared((db, idHash: string) => db.selectFrom('code_attempts').selectAll().where('id_hash', '=', idHash));
// One conditional UPDATE: of any number of racing sign-ins with this attempt, one gets `true`.
const consumeAttempt = prepared((db, idHash: string, now: number) =>
  db.updateTable('code_attempts').set({ consumed_at: now }).where('id_hash', '=', idHash).where('consumed_at', 'is', null).where('expires_at', '>', now),
);

export class SqlCodeAttemptStore implements CodeAttemptStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(a: CodeAttempt): Promise<void> {
    await insertAttempt(this.db, {
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
    });
  }

  async find(idHash: string): Promise<CodeAttempt | undefined> {
    const [row] = (await byIdHash(this.db, idHash)).rows;
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
    const result = await consumeAttempt(this.db, idHash, now);
    return Number(result.numAffectedRows) === 1;
  }

  async purgeExpired(now: number): Promise<number> {
    const result = await this.db.deleteFrom('code_attempts').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async expireForAccount(accountId: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('code_attempts')
      .set({ expires_at: now })
      .where('account_id', '=', accountId)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
