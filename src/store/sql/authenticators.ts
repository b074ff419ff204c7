import type { Kysely, Selectable } from 'kysely';
import type { CodeAuthenticatorKind } from '../../codes/factors.ts';
import type { TotpParams } from '../../codes/totp.ts';
import type { CodeAuthenticator, CodeAuthenticatorStatus } from '../../core/model.ts';
import type { AuthenticatorStore } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { AuthenticatorsTable, Database } from '../schema.ts';

const byId = prepared((db, id: string) => db.selectFrom('authenticators').selectAll().where('id', '=', id));
const bound = prepared((db, accountId: string, kind: string) =>
  db.selectFrom('authenticators').selectAll().where('account_id', '=', accountId).where('kind', '=', kind).where('status', '<>', 'pending'),
);
// The guess is counted before it is checked, in one statement: of any number of racing guesses,
// at most `limit` ever find `failures < limit` (NIST SP 800-63B-4 §3.2.2).
const reserve = prepared((db, id: string, limit: number) =>
  db
    .updateTable('authenticators')
    .set((eb) => ({ failures: eb('failures', '+', 1) }))
    .where('id', '=', id)
    .where('status', 'in', ['active', 'pending'])
    .where('failures', '<', limit)
    .returning('failures'),
);
const used = prepared((db, id: string, now: number) =>
  db.updateTable('authenticators').set({ failures: 0, last_used_at: now }).where('id', '=', id).where('status', '=', 'active'),
);
// RFC 6238 §5.2: a step, once accepted, is never accepted again (nor any step before it).
const usedStep = prepared((db, id: string, now: number, step: number) =>
  db
    .updateTable('authenticators')
    .set({ failures: 0, last_used_at: now, last_step: step })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)])),
);

const num = (v: number | null) => (v === null ? null : Number(v));

function toAuthenticator(row: Selectable<AuthenticatorsTable>): CodeAuthenticator {
  return {
    id: row.id,
    accountId: row.account_id,
    kind: row.kind as CodeAuthenticatorKind,
    status: row.status as CodeAuthenticatorStatus,
    secret: row.secret,
    totp: row.totp_params === null ? null : (JSON.parse(row.totp_params) as TotpParams),
    destination: row.destination,
    lastStep: num(row.last_step),
    failures: Number(row.failures),
    disabledReason: row.disabled_reason,
    createdAt: Number(row.created_at),
    confirmedAt: num(row.confirmed_at),
    lastUsedAt: num(row.last_used_at),
  };
}

export class SqlAuthenticatorStore implements AuthenticatorStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(a: CodeAuthenticator): Promise<void> {
    await this.db
      .insertInto('authenticators')
      .values({
        id: a.id,
        account_id: a.accountId,
        kind: a.kind,
        status: a.status,
        secret: a.secret,
        totp_params: a.totp === null ? null : JSON.stringify(a.totp),
        destination: a.destination,
        last_step: a.lastStep,
        failures: a.failures,
        disabled_reason: a.disabledReason,
        created_at: a.createdAt,
        confirmed_at: a.confirmedAt,
        last_used_at: a.lastUsedAt,
      })
      .execute();
  }

  async findById(id: string): Promise<CodeAuthenticator | undefined> {
    const [row] = (await byId(this.db, id)).rows;
    return row && toAuthenticator(row);
  }

  async findBound(accountId: string, kind: CodeAuthenticatorKind): Promise<CodeAuthenticator | undefined> {
    const [row] = (await bound(this.db, accountId, kind)).rows;
    return row && toAuthenticator(row);
  }

  async listBound(accountId: string): Promise<CodeAuthenticator[]> {
    const rows = await this.db.selectFrom('authenticators').selectAll().where('account_id', '=', accountId).where('status', '<>', 'pending').orderBy('created_at').execute();
    return rows.map(toAuthenticator);
  }

  async findPending(accountId: string, kind: CodeAuthenticatorKind): Promise<CodeAuthenticator | undefined> {
    const row = await this.db
      .selectFrom('authenticators')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('kind', '=', kind)
      .where('status', '=', 'pending')
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row && toAuthenticator(row);
  }

  async removePending(accountId: string, kind: CodeAuthenticatorKind): Promise<number> {
    const result = await this.db.deleteFrom('authenticators').where('account_id', '=', accountId).where('kind', '=', kind).where('status', '=', 'pending').executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async reserveGuess(id: string, limit: number): Promise<number | null> {
    const [row] = (await reserve(this.db, id, limit)).rows;
    return row ? Number(row.failures) : null;
  }

  async disableIfExhausted(id: string, limit: number, reason: string): Promise<boolean> {
    const result = await this.db
      .updateTable('authenticators')
      .set({ status: 'disabled', disabled_reason: reason })
      .where('id', '=', id)
      .where('status', 'in', ['active', 'pending'])
      .where('failures', '>=', limit)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recordUse(id: string, use: { now: number; step?: number }): Promise<boolean> {
    const result = use.step === undefined ? await used(this.db, id, use.now) : await usedStep(this.db, id, use.now, use.step);
    return Number(result.numAffectedRows) === 1;
  }

  async bind(id: string, use: { now: number; step?: number }): Promise<boolean> {
    const pending = await this.db.selectFrom('authenticators').select(['account_id', 'kind']).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
    if (!pending) return false;
    // The new authenticator replaces every other of its kind (NIST SP 800-63B-4 §4.1: a new phone
    // number is a new authenticator; a new recovery-code set replaces the whole old set).
    await this.db.deleteFrom('authenticators').where('account_id', '=', pending.account_id).where('kind', '=', pending.kind).where('id', '<>', id).execute();
    const result = await this.db
      .updateTable('authenticators')
      .set({ status: 'active', confirmed_at: use.now, failures: 0, ...(use.step !== undefined ? { last_step: use.step } : {}) })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async reseal(id: string, sealed: string): Promise<void> {
    await this.db.updateTable('authenticators').set({ secret: sealed }).where('id', '=', id).execute();
  }

  async remove(accountId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('authenticators').where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async disableKinds(accountId: string, kinds: readonly CodeAuthenticatorKind[], reason: string): Promise<{ id: string; kind: CodeAuthenticatorKind }[]> {
    if (kinds.length === 0) return [];
    const live = await this.db
      .selectFrom('authenticators')
      .select(['id', 'kind'])
      .where('account_id', '=', accountId)
      .where('kind', 'in', [...kinds])
      .where('status', 'in', ['active', 'pending'])
      .execute();
    if (live.length === 0) return [];
    await this.db
      .updateTable('authenticators')
      .set({ status: 'disabled', disabled_reason: reason })
      .where('id', 'in', live.map((a) => a.id))
      .where('status', 'in', ['active', 'pending'])
      .execute();
    return live.map((a) => ({ id: a.id, kind: a.kind as CodeAuthenticatorKind }));
  }

  async disableForAccount(accountId: string, reason: string): Promise<number> {
    const result = await this.db
      .updateTable('authenticators')
      .set({ status: 'disabled', disabled_reason: reason })
      .where('account_id', '=', accountId)
      .where('status', 'in', ['active', 'pending'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
