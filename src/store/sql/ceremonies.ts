import type { Kysely, Selectable } from 'kysely';
import type { Ceremony, CeremonyKind } from '../../core/model.ts';
import type { CeremonyStore } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { CeremoniesTable, Database } from '../schema.ts';

const insertCeremony = prepared((db, row: Selectable<CeremoniesTable>) => db.insertInto('ceremonies').values(row));
// DELETE ... RETURNING is one atomic statement on both backends: of any number of concurrent
// callers, exactly one gets the row.
const deleteCeremony = prepared((db, challengeHash: string) => db.deleteFrom('ceremonies').where('challenge_hash', '=', challengeHash).returningAll());
const selectCeremony = prepared((db, challengeHash: string) => db.selectFrom('ceremonies').selectAll().where('challenge_hash', '=', challengeHash));

function toCeremony(row: Selectable<CeremoniesTable>): Ceremony {
  return {
    challengeHash: row.challenge_hash,
    kind: row.kind as CeremonyKind,
    accountId: row.account_id,
    invitationId: row.invitation_id,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

export class SqlCeremonyStore implements CeremonyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(c: Ceremony): Promise<void> {
    await insertCeremony(this.db, {
      challenge_hash: c.challengeHash,
      kind: c.kind,
      account_id: c.accountId,
      invitation_id: c.invitationId,
      created_at: c.createdAt,
      expires_at: c.expiresAt,
    });
  }

  async find(challengeHash: string): Promise<Ceremony | undefined> {
    const [row] = (await selectCeremony(this.db, challengeHash)).rows;
    return row && toCeremony(row);
  }

  async consume(challengeHash: string): Promise<Ceremony | undefined> {
    const [row] = (await deleteCeremony(this.db, challengeHash)).rows;
    return row && toCeremony(row);
  }

  async purgeExpired(now: number): Promise<number> {
    const result = await this.db.deleteFrom('ceremonies').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
