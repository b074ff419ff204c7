import type { Kysely, Selectable } from 'kysely';
import type { Account, Passkey, PasskeyStatus } from '../../core/model.ts';
import type { PasskeyStore } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { AccountsTable, Database, PasskeysTable } from '../schema.ts';
import { toAccount } from './accounts.ts';

const byCredentialId = prepared((db, credentialId: string) => db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId));
// A passkey sign-in reads the credential and its account together (one statement instead of two);
// the account's columns come back prefixed `owner_` (a passkey has an `account_id` of its own).
const withOwnerByCredentialId = prepared((db, credentialId: string) =>
  db
    .selectFrom('passkeys')
    .innerJoin('accounts', 'accounts.id', 'passkeys.account_id')
    .selectAll('passkeys')
    .select([
      'accounts.id as owner_id',
      'accounts.username as owner_username',
      'accounts.display_name as owner_display_name',
      'accounts.role as owner_role',
      'accounts.status as owner_status',
      'accounts.user_handle as owner_user_handle',
      'accounts.email as owner_email',
      'accounts.created_at as owner_created_at',
      'accounts.updated_at as owner_updated_at',
      'accounts.last_sign_in_at as owner_last_sign_in_at',
    ])
    .where('passkeys.credential_id', '=', credentialId),
);
const recordUse = prepared((db, id: string, expectedSignCount: number, signCount: number, backupState: number, now: number) =>
  db
    .updateTable('passkeys')
    .set({ sign_count: signCount, backup_state: backupState, last_used_at: now })
    .where('id', '=', id)
    .where('sign_count', '=', expectedSignCount)
    .where('status', '=', 'active'),
);

function toPasskey(row: Selectable<PasskeysTable>): Passkey {
  return {
    id: row.id,
    accountId: row.account_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    alg: Number(row.alg),
    signCount: Number(row.sign_count),
    transports: JSON.parse(row.transports) as string[],
    aaguid: row.aaguid,
    backupEligible: Number(row.backup_eligible) === 1,
    backupState: Number(row.backup_state) === 1,
    userVerified: Number(row.user_verified) === 1,
    attestationFormat: row.attestation_format,
    attestationTrusted: Number(row.attestation_trusted) === 1,
    nickname: row.nickname,
    status: row.status as PasskeyStatus,
    flaggedReason: row.flagged_reason,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

export class SqlPasskeyStore implements PasskeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(p: Passkey): Promise<boolean> {
    // ON CONFLICT DO NOTHING rather than catching the unique violation: on PostgreSQL an error aborts
    // the surrounding transaction (registration inserts inside one), so `false` must not be an error.
    const result = await this.db
      .insertInto('passkeys')
      .values({
        id: p.id,
        account_id: p.accountId,
        credential_id: p.credentialId,
        public_key: p.publicKey,
        alg: p.alg,
        sign_count: p.signCount,
        transports: JSON.stringify(p.transports),
        aaguid: p.aaguid,
        backup_eligible: p.backupEligible ? 1 : 0,
        backup_state: p.backupState ? 1 : 0,
        user_verified: p.userVerified ? 1 : 0,
        attestation_format: p.attestationFormat,
        attestation_trusted: p.attestationTrusted ? 1 : 0,
        nickname: p.nickname,
        status: p.status,
        flagged_reason: p.flaggedReason,
        created_at: p.createdAt,
        last_used_at: p.lastUsedAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows) === 1;
  }

  async findByCredentialId(credentialId: string): Promise<Passkey | undefined> {
    const [row] = (await byCredentialId(this.db, credentialId)).rows;
    return row && toPasskey(row);
  }

  async findWithOwner(credentialId: string): Promise<{ passkey: Passkey; account: Account } | undefined> {
    const [row] = (await withOwnerByCredentialId(this.db, credentialId)).rows;
    if (!row) return undefined;
    const owner: Selectable<AccountsTable> = {
      id: row.owner_id,
      username: row.owner_username,
      display_name: row.owner_display_name,
      role: row.owner_role,
      status: row.owner_status,
      user_handle: row.owner_user_handle,
      email: row.owner_email,
      created_at: row.owner_created_at,
      updated_at: row.owner_updated_at,
      last_sign_in_at: row.owner_last_sign_in_at,
    };
    return { passkey: toPasskey(row), account: toAccount(owner) };
  }

  async findById(id: string): Promise<Passkey | undefined> {
    const row = await this.db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPasskey(row);
  }

  async listByAccount(accountId: string): Promise<Passkey[]> {
    const rows = await this.db.selectFrom('passkeys').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
    return rows.map(toPasskey);
  }

  async recordUse(id: string, use: { expectedSignCount: number; signCount: number; backupState: boolean; now: number }): Promise<boolean> {
    const result = await recordUse(this.db, id, use.expectedSignCount, use.signCount, use.backupState ? 1 : 0, use.now);
    return Number(result.numAffectedRows) === 1;
  }

  async flag(id: string, reason: string): Promise<void> {
    await this.db.updateTable('passkeys').set({ status: 'flagged', flagged_reason: reason }).where('id', '=', id).execute();
  }

  async rename(accountId: string, id: string, nickname: string): Promise<boolean> {
    const result = await this.db.updateTable('passkeys').set({ nickname }).where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async remove(accountId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('passkeys').where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async countActive(accountId: string): Promise<number> {
    const row = await this.db
      .selectFrom('passkeys')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('account_id', '=', accountId)
      .where('status', '=', 'active')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async disableForAccount(accountId: string, reason: string): Promise<number> {
    const result = await this.db.updateTable('passkeys').set({ status: 'disabled', flagged_reason: reason }).where('account_id', '=', accountId).where('status', '<>', 'disabled').executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
