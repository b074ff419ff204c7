import { ACR } from '../../core/assurance/level.ts';
import type { SignInTally } from '../../store/ports.ts';
import type { Deps } from '../deps.ts';
import { nhiReport, type EntryKind, type Issue } from '../nhi/report.ts';
import { analyseAll, type RoleSummary } from '../paths/analyse.ts';

/**
 * The posture dashboard's figures (issue 16; `GET /api/v1/admin/posture`, /admin/posture): every
 * chart is drawn from this and nothing else. Counts come from the database's aggregates
 * (store/sql/posture.ts), levels from the takeover-path analysis (docs/paths.md), machine hygiene
 * from `nhi report`.
 */

export const DAY_MS = 86_400_000;
export const DEFAULT_DAYS = 30;
export const MAX_DAYS = 365;

/** Levels a phishing relay cannot reach (NIST SP 800-63B-4 §3.2.5): `aal2:phr` and `aal3`. */
export const PHISHING_RESISTANT_ACRS: readonly string[] = [ACR.aal2PhishingResistant, ACR.aal3];
/** Sign-in methods that are one-time codes (README "One-time codes"). */
export const CODE_METHODS = ['totp', 'sms_code', 'email_code'] as const;

export interface DaySignIns {
  readonly date: string;
  readonly total: number;
  readonly phishingResistant: number;
}

export interface Posture {
  readonly generatedAt: string;
  readonly days: number;
  readonly since: string;
  readonly signIns: { readonly total: number; readonly phishingResistant: number; readonly byDay: readonly DaySignIns[] };
  readonly factorMix: readonly { readonly role: string; readonly accounts: number; readonly factors: Readonly<Record<string, number>> }[];
  readonly levels: readonly Pick<RoleSummary, 'role' | 'requiredAcr' | 'accounts' | 'belowRequired' | 'byEffectiveAcr'>[];
  readonly codeSignIns: { readonly byFactor: Readonly<Record<string, number>>; readonly byDay: readonly ({ readonly date: string } & Readonly<Record<string, number | string>>)[] };
  readonly passkeyAdoption: { readonly activeAccounts: number; readonly byDay: readonly { readonly date: string; readonly accounts: number }[] };
  readonly nhi: { readonly workloads: number; readonly apiKeys: number; readonly delegations: number; readonly issues: Readonly<Record<EntryKind, Readonly<Record<Issue, number>>>> };
}

const dateOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** Each day of the window, oldest first, as epoch days. */
function windowDays(now: number, days: number): number[] {
  const today = Math.floor(now / DAY_MS);
  return Array.from({ length: days }, (_, i) => today - days + 1 + i);
}

function signInSeries(tallies: readonly SignInTally[], days: readonly number[]) {
  const byDay = new Map(days.map((d) => [d, { total: 0, phishingResistant: 0 }]));
  const codes = new Map(days.map((d) => [d, Object.fromEntries(CODE_METHODS.map((m) => [m, 0])) as Record<string, number>]));
  for (const t of tallies) {
    const day = byDay.get(t.day);
    if (!day) continue;
    day.total += t.count;
    if (PHISHING_RESISTANT_ACRS.includes(t.acr)) day.phishingResistant += t.count;
    if ((CODE_METHODS as readonly string[]).includes(t.method)) codes.get(t.day)![t.method]! += t.count;
  }
  return { byDay, codes };
}

export async function gatherPosture(deps: Deps, input: { days: number }): Promise<Posture> {
  const now = deps.clock();
  const days = windowDays(now, input.days);
  const since = days[0]! * DAY_MS;
  const [tallies, holders, firsts, summary, nhi] = await Promise.all([
    deps.store.posture.signInsByDay(since, now + 1),
    deps.store.posture.factorHolders(),
    deps.store.posture.firstPasskeys(since),
    analyseAll(deps),
    nhiReport(deps, { disable: false, by: 'posture' }),
  ]);
  const { byDay, codes } = signInSeries(tallies, days);
  const signIns = days.map((d) => ({ date: dateOf(d), ...byDay.get(d)! }));
  const byFactor = Object.fromEntries(CODE_METHODS.map((m) => [m, days.reduce((n, d) => n + codes.get(d)![m]!, 0)]));
  let adopted = firsts.before;
  const firstByDay = new Map(firsts.byDay.map((r) => [r.day, r.accounts]));
  const adoption = days.map((d) => ({ date: dateOf(d), accounts: (adopted += firstByDay.get(d) ?? 0) }));
  const zero = (): Record<Issue, number> => ({ orphaned: 0, stale: 0, unrotated: 0, expiring: 0, long_lived: 0, unused: 0 });
  const issues = { workload: zero(), api_key: zero(), delegation: zero() };
  for (const e of nhi.entries) for (const i of e.issues) issues[e.kind][i]++;
  return {
    generatedAt: new Date(now).toISOString(),
    days: input.days,
    since: new Date(since).toISOString(),
    signIns: { total: signIns.reduce((n, d) => n + d.total, 0), phishingResistant: signIns.reduce((n, d) => n + d.phishingResistant, 0), byDay: signIns },
    factorMix: holders.map((h) => ({ role: h.role, accounts: h.accounts, factors: h.factors })),
    levels: summary.roles.map((r) => ({ role: r.role, requiredAcr: r.requiredAcr, accounts: r.accounts, belowRequired: r.belowRequired, byEffectiveAcr: r.byEffectiveAcr })),
    codeSignIns: { byFactor, byDay: days.map((d) => ({ date: dateOf(d), ...codes.get(d)! })) },
    passkeyAdoption: { activeAccounts: holders.reduce((n, h) => n + h.accounts, 0), byDay: adoption },
    nhi: { workloads: nhi.workloads, apiKeys: nhi.apiKeys, delegations: nhi.delegations, issues },
  };
}
