/**
 * What "nothing half-written" means, in SQL: after a crash, a cut connection or a database restart,
 * each of these counts must be zero. They hold for the reliability workloads (enrolment by link and
 * sign-in; no passkey removal, suspension or offboarding), which is all these tests run. A table
 * added later gets its invariants here.
 */
import { sql, type Kysely } from 'kysely';
import { verifyChain } from '../../../src/core/audit/chain.ts';
import { openDatabase, type Db } from '../../../src/store/db.ts';

/** Each query counts the rows that break one invariant. */
export const INVARIANTS: Readonly<Record<string, string>> = {
  // A passkey always belongs to an account, and an account with a passkey has finished enrolling.
  'passkey without account': `select count(*) as n from passkeys p where not exists (select 1 from accounts a where a.id = p.account_id)`,
  'passkey of an account not active': `select count(*) as n from passkeys p join accounts a on a.id = p.account_id where a.status <> 'active'`,
  // Enrolment writes passkey, invitation use, account status and session in one transaction.
  'active account without passkey': `select count(*) as n from accounts a where a.status = 'active' and not exists (select 1 from passkeys p where p.account_id = a.id)`,
  'active account without used invitation': `select count(*) as n from accounts a where a.status = 'active' and not exists (select 1 from invitations i where i.account_id = a.id and i.used_at is not null)`,
  'used invitation of an account not active': `select count(*) as n from invitations i join accounts a on a.id = i.account_id where i.used_at is not null and a.status <> 'active'`,
  'used invitation without passkey': `select count(*) as n from invitations i where i.used_at is not null and not exists (select 1 from passkeys p where p.account_id = i.account_id)`,
  // A session is issued only to an enrolled account, by one of its passkeys.
  'session without account': `select count(*) as n from sessions s where not exists (select 1 from accounts a where a.id = s.account_id)`,
  'session of an account not active': `select count(*) as n from sessions s join accounts a on a.id = s.account_id where a.status <> 'active'`,
  'session without its passkey': `select count(*) as n from sessions s where s.passkey_id is not null and not exists (select 1 from passkeys p where p.id = s.passkey_id and p.account_id = s.account_id)`,
  // Every session and passkey was announced in the audit trail in its own transaction.
  'sign-in sessions without audit event': `select count(*) as n from sessions s where not exists (select 1 from audit_events e where e.type = 'sign_in' and e.outcome = 'success' and e.account_id = s.account_id and e.details like '%' || s.id || '%')`,
  'passkey without audit event': `select count(*) as n from passkeys p where not exists (select 1 from audit_events e where e.type = 'passkey.registered' and e.outcome = 'success' and e.account_id = p.account_id and e.details like '%' || p.id || '%')`,
  // One-time codes and the OpenID provider hang off accounts too.
  'code authenticator without account': `select count(*) as n from authenticators x where not exists (select 1 from accounts a where a.id = x.account_id)`,
  'recovery code without its authenticator': `select count(*) as n from recovery_codes r where not exists (select 1 from authenticators x where x.id = r.authenticator_id)`,
  'provider state of a missing account': `select count(*) as n from oidc_payloads o where o.account_id is not null and not exists (select 1 from accounts a where a.id = o.account_id)`,
  // The audit chain's head names its last event and the sequence has no gaps.
  'audit head not at the last event': `select count(*) as n from audit_head h where h.last_seq <> (select coalesce(max(seq), 0) from audit_events)`,
  'audit sequence gaps': `select (select coalesce(max(seq), 0) from audit_events) - (select count(*) from audit_events) as n`,
};

export interface InvariantCheck {
  /** Rows breaking each invariant: all must be 0. */
  readonly violations: Record<string, number>;
  /** SQLite only: `PRAGMA integrity_check` (must be `ok`) and foreign key problems (must be 0). */
  readonly integrity: string | null;
  readonly foreignKeyProblems: number;
  readonly auditEventsVerified: number;
  readonly auditChainBrokenAt: number | null;
  readonly counts: { readonly accounts: number; readonly passkeys: number; readonly sessions: number };
}

async function count(k: Kysely<any>, query: string): Promise<number> {
  const { rows } = await sql.raw<{ n: number | string }>(query).execute(k);
  return Number(rows[0]?.n ?? 0);
}

/** Opens `databaseUrl` on its own connection and checks every invariant, the audit chain and (SQLite) the file. */
export async function checkInvariants(databaseUrl: string): Promise<InvariantCheck> {
  const db: Db = openDatabase(databaseUrl);
  try {
    const k = db.kysely as Kysely<any>;
    const violations: Record<string, number> = {};
    for (const [name, query] of Object.entries(INVARIANTS)) violations[name] = await count(k, query);
    let integrity: string | null = null;
    let foreignKeyProblems = 0;
    if (db.dialect === 'sqlite') {
      const { rows } = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(k);
      integrity = rows.map((r) => r.integrity_check).join('; ');
      foreignKeyProblems = (await sql`pragma foreign_key_check`.execute(k)).rows.length;
    }
    let prev = { seq: 0, hash: '' };
    let verified = 0;
    let brokenAt: number | null = null;
    for (;;) {
      const batch = await k.selectFrom('audit_events').selectAll().where('seq', '>', prev.seq).orderBy('seq').limit(2000).execute();
      if (batch.length === 0) break;
      const events = batch.map((r: any) => ({
        seq: Number(r.seq),
        at: Number(r.at),
        type: r.type,
        outcome: r.outcome,
        reason: r.reason,
        accountId: r.account_id,
        ip: r.ip,
        userAgent: r.user_agent,
        details: r.details,
        prevHash: r.prev_hash,
        hash: r.hash,
      }));
      const check = verifyChain(events, prev);
      verified += check.checked;
      if (!check.ok) {
        brokenAt = check.brokenAt ?? null;
        break;
      }
      const last = events[events.length - 1]!;
      prev = { seq: last.seq, hash: last.hash };
    }
    return {
      violations,
      integrity,
      foreignKeyProblems,
      auditEventsVerified: verified,
      auditChainBrokenAt: brokenAt,
      counts: {
        accounts: await count(k, 'select count(*) as n from accounts'),
        passkeys: await count(k, 'select count(*) as n from passkeys'),
        sessions: await count(k, 'select count(*) as n from sessions'),
      },
    };
  } finally {
    await db.close();
  }
}

/** The invariant names whose count is not zero, for a readable assertion. */
export function broken(check: InvariantCheck): Record<string, number> {
  return Object.fromEntries(Object.entries(check.violations).filter(([, n]) => n !== 0));
}
