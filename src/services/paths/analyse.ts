import { ACR_VALUES } from '../../core/assurance/level.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import { ROLES, type Account, type Role } from '../../core/model.ts';
import { acrBelow, analyseAccount, type Analysis } from '../../core/paths/index.ts';
import type { Deps } from '../deps.ts';
import { rolePathPolicy } from './policy.ts';
import { authorize, CLI_ACTOR, type Actor } from '../adminAccess.ts';
import { normaliseUsername } from '../lifecycle.ts';
import { analysisJson, type AnalysisJson } from './report.ts';

/** Every way into one account (docs/paths.md), by the server's own configuration. */
export async function analyseAccountPaths(deps: Deps, account: Account): Promise<AnalysisJson> {
  const [facts] = await deps.store.pathFacts.load([account], deps.clock());
  const admins = await deps.store.pathFacts.countActiveAdmins();
  return analysisJson(analyseAccount(facts!, rolePathPolicy(deps, account.role, admins)));
}

/**
 * The same, by username: `analyse --account` (the operator's CLI) and the admin route, whose
 * administrator is checked here too (an admin session at the admin role's level).
 */
export async function analyseUsername(deps: Deps, input: { username: string; actor?: Actor }): Promise<Result<AnalysisJson>> {
  const allowed = await authorize(deps, input.actor ?? CLI_ACTOR, { fresh: false });
  if (!allowed.ok) return allowed;
  const username = normaliseUsername(input.username);
  const account = await deps.store.accounts.findByUsername(username);
  if (!account) return fail('account_not_found', { message: `No account ${username}.` });
  return ok(await analyseAccountPaths(deps, account));
}

export interface RoleSummary {
  readonly role: Role;
  readonly requiredAcr: string;
  readonly accounts: number;
  /** Accounts by effective level (`none`: no way in of their own). */
  readonly byEffectiveAcr: Readonly<Record<string, number>>;
  readonly belowRequired: number;
  /** The most common findings, most frequent first. */
  readonly findings: readonly { readonly code: string; readonly accounts: number }[];
}

export interface Summary {
  readonly roles: readonly RoleSummary[];
  /** Every account (offboarded ones apart) whose effective level is below its role's. */
  readonly below: readonly { readonly account: string; readonly role: Role; readonly effectiveAcr: string | null; readonly requiredAcr: string; readonly weakest: readonly string[] }[];
}

/** Accounts read per query: enough to amortise round trips, small enough to keep memory flat. */
export const ANALYSE_BATCH = 500;

/**
 * Analyses every account, a page at a time (keyset paging on the username), keeping only counts
 * and the accounts below their role's level: memory does not grow with the number of accounts.
 */
export async function analyseAll(deps: Deps, options: { batch?: number; onAnalysis?: (a: Analysis) => void } = {}): Promise<Summary> {
  const batch = options.batch ?? ANALYSE_BATCH;
  const now = deps.clock();
  const admins = await deps.store.pathFacts.countActiveAdmins();
  const policies = Object.fromEntries(ROLES.map((r) => [r, rolePathPolicy(deps, r, admins)])) as Record<Role, ReturnType<typeof rolePathPolicy>>;
  const tallies = Object.fromEntries(ROLES.map((r) => [r, { accounts: 0, byEffectiveAcr: new Map<string, number>(), belowRequired: 0, findings: new Map<string, number>() }]));
  const below: Summary['below'][number][] = [];
  let after: string | null = null;
  for (;;) {
    const page = await deps.store.pathFacts.page(after, batch);
    if (page.length === 0) break;
    after = page[page.length - 1]!.username;
    const facts = await deps.store.pathFacts.load(page.filter((a) => a.status !== 'offboarded'), now);
    for (const f of facts) {
      const analysis = analyseAccount(f, policies[f.role]);
      options.onAnalysis?.(analysis);
      const t = tallies[f.role]!;
      t.accounts++;
      const level = analysis.effectiveAcr ?? 'none';
      t.byEffectiveAcr.set(level, (t.byEffectiveAcr.get(level) ?? 0) + 1);
      for (const finding of analysis.findings) t.findings.set(finding.code, (t.findings.get(finding.code) ?? 0) + 1);
      if (acrBelow(analysis.effectiveAcr, analysis.requiredAcr)) {
        t.belowRequired++;
        below.push({ account: f.username, role: f.role, effectiveAcr: analysis.effectiveAcr, requiredAcr: analysis.requiredAcr, weakest: analysis.paths.filter((p) => p.grantsAcr === analysis.effectiveAcr).map((p) => p.id) });
      }
    }
    if (page.length < batch) break;
  }
  const order = ['none', ...ACR_VALUES];
  return {
    roles: ROLES.map((role) => {
      const t = tallies[role]!;
      return {
        role,
        requiredAcr: policies[role].requiredAcr,
        accounts: t.accounts,
        byEffectiveAcr: Object.fromEntries(order.filter((l) => t.byEffectiveAcr.has(l)).map((l) => [l, t.byEffectiveAcr.get(l)!])),
        belowRequired: t.belowRequired,
        findings: [...t.findings].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5).map(([code, accounts]) => ({ code, accounts })),
      };
    }),
    below,
  };
}
