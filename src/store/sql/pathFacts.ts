import type { Kysely } from 'kysely';
import type { AccountFacts, CodeFactorFact, LinkFact, PasskeyFact } from '../../core/paths/model.ts';
import type { Account } from '../../core/model.ts';
import type { PathFactStore } from '../ports.ts';
import type { Database } from '../schema.ts';
import { toAccount } from './accounts.ts';

const CODE_KIND: Readonly<Record<string, CodeFactorFact['factor']>> = { totp: 'totp', sms_code: 'sms', email_code: 'email' };

/**
 * What takeover-path analysis reads (core/paths), a page of accounts at a time: accounts in
 * username order after a key (keyset paging, so memory stays bounded however many accounts there
 * are), then their passkeys, code factors, unused recovery codes and usable links in four queries.
 */
export class SqlPathFactStore implements PathFactStore {
  constructor(private readonly db: Kysely<Database>) {}

  async page(after: string | null, limit: number): Promise<Account[]> {
    let query = this.db.selectFrom('accounts').selectAll().orderBy('username').limit(limit);
    if (after !== null) query = query.where('username', '>', after);
    return (await query.execute()).map(toAccount);
  }

  async countActiveAdmins(): Promise<number> {
    const row = await this.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').where('status', '=', 'active').executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async load(accounts: readonly Account[], now: number): Promise<AccountFacts[]> {
    if (accounts.length === 0) return [];
    const ids = accounts.map((a) => a.id);
    const [passkeys, authenticators, recovery, links] = await Promise.all([
      this.db.selectFrom('passkeys').select(['id', 'account_id', 'nickname', 'backup_eligible', 'user_verified', 'attestation_trusted']).where('account_id', 'in', ids).where('status', '=', 'active').orderBy('id').execute(),
      this.db.selectFrom('authenticators').select(['account_id', 'kind', 'destination']).where('account_id', 'in', ids).where('status', '=', 'active').execute(),
      this.db
        .selectFrom('recovery_codes')
        .innerJoin('authenticators', 'authenticators.id', 'recovery_codes.authenticator_id')
        .select((eb) => ['authenticators.account_id as account_id', eb.fn.countAll<number>().as('n')])
        .where('authenticators.account_id', 'in', ids)
        .where('authenticators.kind', '=', 'recovery_codes')
        .where('authenticators.status', '=', 'active')
        .where('recovery_codes.used_at', 'is', null)
        .groupBy('authenticators.account_id')
        .execute(),
      this.db.selectFrom('invitations').select(['id', 'account_id', 'kind', 'max_aal']).where('account_id', 'in', ids).where('used_at', 'is', null).where('expires_at', '>', now).orderBy('id').execute(),
    ]);
    const group = <T>(rows: readonly { account_id: string }[], map: (row: never) => T) => {
      const out = new Map<string, T[]>();
      for (const row of rows) {
        const list = out.get(row.account_id) ?? [];
        list.push(map(row as never));
        out.set(row.account_id, list);
      }
      return out;
    };
    const byPasskeys = group(passkeys, (r: (typeof passkeys)[number]): PasskeyFact => ({ id: r.id, nickname: r.nickname, backupEligible: Number(r.backup_eligible) === 1, userVerified: Number(r.user_verified) === 1, attestationTrusted: Number(r.attestation_trusted) === 1 }));
    const byCodes = group(
      authenticators.filter((r) => CODE_KIND[r.kind] !== undefined),
      (r: (typeof authenticators)[number]): CodeFactorFact => ({ factor: CODE_KIND[r.kind]!, destination: r.destination }),
    );
    const phones = new Set(authenticators.filter((r) => r.kind === 'sms_code').map((r) => r.account_id));
    const byRecovery = new Map(recovery.map((r) => [r.account_id, Number(r.n)]));
    const byLinks = group(links, (r: (typeof links)[number]): LinkFact => ({ id: r.id, kind: r.kind === 'device' ? 'device' : 'enrolment', maxAal: r.max_aal === null ? null : (Number(r.max_aal) as 1 | 2 | 3) }));
    return accounts.map((a) => ({
      username: a.username,
      role: a.role,
      status: a.status,
      passkeys: byPasskeys.get(a.id) ?? [],
      codeFactors: byCodes.get(a.id) ?? [],
      recoveryCodes: byRecovery.get(a.id) ?? 0,
      links: byLinks.get(a.id) ?? [],
      noticeChannel: a.email !== null || phones.has(a.id),
    }));
  }
}
