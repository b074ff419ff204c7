import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Dialect } from '../db.ts';
import type { CredentialFacts, FactorHolders, PostureStore, SignInTally } from '../ports.ts';
import type { Database } from '../schema.ts';

const DAY_MS = 86_400_000;

/**
 * Aggregates for the posture dashboard and the standards report (issue 16), counted by the
 * database: a window of sign-in events grouped by day, method and level (index
 * `audit_events_type_at`, migration 025), and counts of accounts by the credentials they hold.
 * Nothing here returns a row per account or per event.
 */
export class SqlPostureStore implements PostureStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  /** A field of an audit event's JSON details, as text. */
  private detail(field: 'method' | 'acr' | 'purpose') {
    // Inlined, not bound: PostgreSQL matches a grouped expression to the selected one by its text,
    // and two bound parameters are two different expressions to it. `field` is one of three names.
    return this.dialect === 'postgres' ? sql<string | null>`(details::json ->> ${sql.lit(field)})` : sql<string | null>`json_extract(details, ${sql.lit('$.' + field)})`;
  }

  async signInsByDay(since: number, until: number): Promise<SignInTally[]> {
    const day = sql<number>`(at / ${sql.lit(DAY_MS)})`;
    const method = this.detail('method');
    const acr = this.detail('acr');
    const purpose = this.detail('purpose');
    const rows = await this.db
      .selectFrom('audit_events')
      .select([day.as('day'), method.as('method'), acr.as('acr'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('type', '=', 'sign_in')
      .where('at', '>=', since)
      .where('at', '<', until)
      .where('outcome', '=', 'success')
      // A recovery session is not a sign-in (README "Recovery").
      .where(purpose, 'is', null)
      .groupBy([day, method, acr])
      .execute();
    return rows.map((r) => ({ day: Number(r.day), method: r.method ?? 'unknown', acr: r.acr ?? 'unknown', count: Number(r.n) }));
  }

  async factorHolders(): Promise<FactorHolders[]> {
    const [accounts, passkeys, codes] = await Promise.all([
      this.db.selectFrom('accounts').select(['role', (eb) => eb.fn.countAll<number>().as('n')]).where('status', '=', 'active').groupBy('role').execute(),
      this.db
        .selectFrom('passkeys')
        .innerJoin('accounts', 'accounts.id', 'passkeys.account_id')
        .select(['accounts.role as role', 'passkeys.backup_eligible as be', (eb) => eb.fn.count<number>('passkeys.account_id').distinct().as('n')])
        .where('accounts.status', '=', 'active')
        .where('passkeys.status', '=', 'active')
        .groupBy(['accounts.role', 'passkeys.backup_eligible'])
        .execute(),
      this.db
        .selectFrom('authenticators')
        .innerJoin('accounts', 'accounts.id', 'authenticators.account_id')
        .select(['accounts.role as role', 'authenticators.kind as kind', (eb) => eb.fn.count<number>('authenticators.account_id').distinct().as('n')])
        .where('accounts.status', '=', 'active')
        .where('authenticators.status', '=', 'active')
        .groupBy(['accounts.role', 'authenticators.kind'])
        .execute(),
    ]);
    return accounts.map((a) => {
      const factors: Record<string, number> = {};
      for (const p of passkeys.filter((p) => p.role === a.role)) factors[Number(p.be) === 1 ? 'passkey_syncable' : 'passkey_device_bound'] = Number(p.n);
      for (const c of codes.filter((c) => c.role === a.role)) factors[c.kind] = Number(c.n);
      return { role: a.role, accounts: Number(a.n), factors };
    });
  }

  async firstPasskeys(since: number): Promise<{ before: number; byDay: { day: number; accounts: number }[] }> {
    // Each active account's first passkey (any status: adoption is when it began), by day.
    const firsts = this.db
      .selectFrom('passkeys')
      .innerJoin('accounts', 'accounts.id', 'passkeys.account_id')
      .select([(eb) => eb.fn.min('passkeys.created_at').as('first')])
      .where('accounts.status', '=', 'active')
      .groupBy('passkeys.account_id')
      .as('f');
    const day = sql<number>`(f.first / ${sql.lit(DAY_MS)})`;
    const [before, byDay] = await Promise.all([
      this.db.selectFrom(firsts).select((eb) => eb.fn.countAll<number>().as('n')).where('f.first', '<', since).executeTakeFirst(),
      this.db.selectFrom(firsts).select([day.as('day'), (eb) => eb.fn.countAll<number>().as('n')]).where('f.first', '>=', since).groupBy(day).orderBy(day).execute(),
    ]);
    return { before: Number(before?.n ?? 0), byDay: byDay.map((r) => ({ day: Number(r.day), accounts: Number(r.n) })) };
  }

  async credentialFacts(input: { signedInSince: number; now: number }): Promise<CredentialFacts> {
    const count = async (query: { executeTakeFirst(): Promise<{ n: number | string | bigint } | undefined> }) => Number((await query.executeTakeFirst())?.n ?? 0);
    const activePasskey = (eb: ExpressionBuilder<Database, 'accounts'>, deviceBound: boolean | null) =>
      eb
        .selectFrom('passkeys')
        .select('passkeys.id')
        .whereRef('passkeys.account_id', '=', 'accounts.id')
        .where('passkeys.status', '=', 'active')
        .$if(deviceBound === true, (q) => q.where('passkeys.backup_eligible', '=', 0));
    const admins = () => this.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('accounts.role', '=', 'admin').where('accounts.status', '=', 'active');
    const [adminsOnlySyncable, activeWithoutPasskey, passkeysWithoutUv, passkeys, passkeysTrusted, adminsIdle, endedWithSessions, streams] = await Promise.all([
      count(admins().where((eb) => eb.and([eb.exists(activePasskey(eb, null)), eb.not(eb.exists(activePasskey(eb, true)))]))),
      count(this.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('accounts.status', '=', 'active').where((eb) => eb.not(eb.exists(activePasskey(eb, null))))),
      count(this.db.selectFrom('passkeys').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'active').where('user_verified', '=', 0)),
      count(this.db.selectFrom('passkeys').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'active')),
      count(this.db.selectFrom('passkeys').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'active').where('attestation_trusted', '=', 1)),
      count(admins().where((eb) => eb.or([eb('accounts.last_sign_in_at', 'is', null), eb('accounts.last_sign_in_at', '<', input.signedInSince)]))),
      count(
        this.db
          .selectFrom('accounts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('accounts.status', 'in', ['suspended', 'offboarded'])
          .where((eb) => eb.exists(eb.selectFrom('sessions').select('sessions.id').whereRef('sessions.account_id', '=', 'accounts.id').where('sessions.revoked_at', 'is', null).where('sessions.expires_at', '>', input.now))),
      ),
      count(this.db.selectFrom('ssf_streams').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'enabled')),
    ]);
    return { adminsOnlySyncable, activeWithoutPasskey, passkeysWithoutUv, passkeys, passkeysTrusted, adminsNotSignedInSince: adminsIdle, endedWithLiveSessions: endedWithSessions, enabledStreams: streams };
  }
}
