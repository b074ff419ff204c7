import type { Kysely } from 'kysely';
import type { Ceremony, CeremonyKind } from '../../core/model.ts';
import type { CeremonyStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class SqlCeremonyStore implements CeremonyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(c: Ceremony): Promise<void> {
    await this.db
      .insertInto('ceremonies')
      .values({
        challenge_hash: c.challengeHash,
        kind: c.kind,
        account_id: c.accountId,
        invitation_id: c.invitationId,
        created_at: c.createdAt,
        expires_at: c.expiresAt,
      })
      .execute();
  }

  async consume(challengeHash: string): Promise<Ceremony | undefined> {
    // DELETE ... RETURNING is one atomic statement on both backends: of any number of concurrent
    // callers, exactly one gets the row.
    const row = await this.db.deleteFrom('ceremonies').where('challenge_hash', '=', challengeHash).returningAll().executeTakeFirst();
    return (
      row && {
        challengeHash: row.challenge_hash,
        kind: row.kind as CeremonyKind,
        accountId: row.account_id,
        invitationId: row.invitation_id,
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
      }
    );
  }

  async purgeExpired(now: number): Promise<number> {
    const result = await this.db.deleteFrom('ceremonies').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
