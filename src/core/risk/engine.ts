import { ACR_VALUES, acrSatisfies, type Acr } from '../assurance/level.ts';

/**
 * The policy engine (DESIGN.md "Policy is one engine of named checks"): pure, no I/O. A check looks
 * at plain facts and answers satisfied, or what it requires (a level and a maximum age, or deny)
 * and why, with a stable reason code. The engine runs every check and returns every reason, not the
 * first, so a person and the audit trail see the whole picture.
 */

/** What a step-up asks of the authentication behind a request: a level and a maximum age. */
export interface Requirement {
  /** Weakest acceptable `acr`; `null`: any level. */
  readonly acr: Acr | null;
  /** Longest acceptable time since authentication, in seconds; `null`: any age. */
  readonly maxAge: number | null;
}

export interface Unmet {
  readonly requires: Requirement | 'deny';
  /** Stable reason code (`new_country`, `max_age`, `factor_not_allowed`, ...). */
  readonly reason: string;
  /** A sentence for the person, when the check has a better one than the reason's words. */
  readonly advice?: string;
}

export type CheckResult = 'satisfied' | Unmet;

export interface Check<I> {
  readonly name: string;
  run(input: I): CheckResult | readonly CheckResult[];
}

export type Verdict = 'allow' | 'step_up' | 'deny';

export interface Decision {
  readonly decision: Verdict;
  /** Every reason of every unmet check, in check order, without repeats. */
  readonly reasons: readonly string[];
  /** The strongest level and the shortest age any step-up asked for (`null` unless `step_up`). */
  readonly requires: Requirement | null;
  /** Advice given by the unmet checks, in order. */
  readonly advice: readonly string[];
}

export const ALLOW: Decision = { decision: 'allow', reasons: [], requires: null, advice: [] };

const RANK = new Map<Acr, number>(ACR_VALUES.map((acr, i) => [acr, i]));

/** The requirement that meets both: the stronger level, the shorter age. */
export function joinRequirements(a: Requirement | null, b: Requirement | null): Requirement | null {
  if (!a) return b;
  if (!b) return a;
  const acr = a.acr === null ? b.acr : b.acr === null ? a.acr : RANK.get(a.acr)! >= RANK.get(b.acr)! ? a.acr : b.acr;
  const maxAge = a.maxAge === null ? b.maxAge : b.maxAge === null ? a.maxAge : Math.min(a.maxAge, b.maxAge);
  return { acr, maxAge };
}

/** The authentication a requirement is judged against: its level and when it happened (ms). */
export interface Authentication {
  readonly acr: Acr;
  readonly authTime: number;
}

/**
 * Whether an authentication meets a requirement at `now` (ms). `max_age` 0 asks for a new
 * authentication (as in OpenID Connect Core §3.1.2.1): only the one being made now (`current`) meets
 * it, however few milliseconds an earlier one is old.
 */
export function meets(auth: Authentication | null, requirement: Requirement, now: number, current = false): boolean {
  if (!auth) return false;
  if (requirement.acr !== null && !acrSatisfies(auth.acr, requirement.acr)) return false;
  if (requirement.maxAge === 0 && !current) return false;
  if (requirement.maxAge !== null && now - auth.authTime > requirement.maxAge * 1000) return false;
  return true;
}

/** Combines check results: any deny denies; else any step-up steps up (requirements joined); else allow. */
export function combine(results: readonly CheckResult[]): Decision {
  const reasons: string[] = [];
  const advice: string[] = [];
  let deny = false;
  let requires: Requirement | null = null;
  for (const result of results) {
    if (result === 'satisfied') continue;
    if (!reasons.includes(result.reason)) reasons.push(result.reason);
    if (result.advice && !advice.includes(result.advice)) advice.push(result.advice);
    if (result.requires === 'deny') deny = true;
    else requires = joinRequirements(requires, result.requires);
  }
  if (deny) return { decision: 'deny', reasons, requires: null, advice };
  if (reasons.length > 0) return { decision: 'step_up', reasons, requires: requires ?? { acr: null, maxAge: null }, advice };
  return ALLOW;
}

/** Runs every check on the input and combines what they say. */
export function evaluate<I>(checks: readonly Check<I>[], input: I): Decision {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const result = check.run(input);
    if (Array.isArray(result)) results.push(...(result as CheckResult[]));
    else results.push(result as CheckResult);
  }
  return combine(results);
}

/** Two decisions as one (a sign-in's role checks and its risk rules, say). */
export function joinDecisions(a: Decision, b: Decision): Decision {
  if (a.decision === 'allow') return b;
  if (b.decision === 'allow') return a;
  const reasons = [...a.reasons, ...b.reasons.filter((r) => !a.reasons.includes(r))];
  const advice = [...a.advice, ...b.advice.filter((r) => !a.advice.includes(r))];
  if (a.decision === 'deny' || b.decision === 'deny') return { decision: 'deny', reasons, requires: null, advice };
  return { decision: 'step_up', reasons, requires: joinRequirements(a.requires, b.requires), advice };
}
