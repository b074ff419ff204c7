import type { Acr } from '../../core/assurance/level.ts';
import { isAcr } from '../../core/assurance/level.ts';
import type { AuditEvent } from '../../core/model.ts';
import { evaluate, type Decision } from '../../core/risk/engine.ts';
import { policyCheck, type RiskPolicy } from '../../core/risk/rules.ts';
import { signalsOf, type PastSignIn, type Place, type Signal } from '../../core/risk/signals.ts';
import { agentFamily } from '../../core/userAgent.ts';
import type { Deps } from '../deps.ts';
import { factorOfMethod, type RiskDetails } from './evaluate.ts';

/**
 * `keybound policy test`: replays the sign-ins of the audit trail, oldest first, through a policy
 * and says what it would have decided. Each sign-in is judged on the account's sign-ins before it
 * in the replay (so a short `--since` window sees less history than the server did).
 */
export interface Replayed {
  readonly at: number;
  readonly seq: number;
  readonly accountId: string | null;
  readonly method: string;
  /** What happened: `success`, or the refusal's code. */
  readonly recorded: string;
  readonly signals: readonly Signal[];
  readonly decision: Decision['decision'];
  readonly reasons: readonly string[];
}

const PAGE = 1000;

export async function replaySignIns(deps: Deps, policy: RiskPolicy, since: number): Promise<Replayed[]> {
  const check = policyCheck(policy);
  const roles = new Map<string, string>();
  const histories = new Map<string, PastSignIn[]>();
  const out: Replayed[] = [];
  const events: AuditEvent[] = [];
  for (let before: number | undefined; ; ) {
    const page = await deps.store.audit.list({ type: 'sign_in', since, limit: PAGE, ...(before !== undefined ? { beforeSeq: before } : {}) });
    events.push(...page);
    if (page.length < PAGE) break;
    before = page.at(-1)!.seq;
  }
  events.reverse();
  for (const event of events) {
    const accountId = event.accountId;
    const method = typeof event.details.method === 'string' ? event.details.method : 'passkey';
    const recordedRisk = event.details.risk as Partial<RiskDetails> | undefined;
    const place: Place | null = (recordedRisk?.place as Place | undefined) ?? (event.ip && deps.risk.placeOf ? deps.risk.placeOf(event.ip) : null);
    const device = recordedRisk?.device ?? agentFamily(event.userAgent);
    const passkey = typeof event.details.passkey === 'string' ? event.details.passkey : null;
    if (accountId && !roles.has(accountId)) roles.set(accountId, (await deps.store.accounts.findById(accountId))?.role ?? 'member');
    const history = accountId ? (histories.get(accountId) ?? []) : [];
    const signals = signalsOf({ now: event.at, passkey, agent: device, place, history, failureMax: deps.config.risk.failureMax, failureWindowMs: deps.config.risk.failureWindowMs });
    const acr = typeof event.details.acr === 'string' && isAcr(event.details.acr) ? (event.details.acr as Acr) : null;
    const decision = evaluate([check], { event: 'sign_in', signals, role: accountId ? roles.get(accountId)! : 'member', client: null, factor: factorOfMethod(method), auth: acr ? { acr, authTime: event.at } : null, now: event.at });
    out.push({ at: event.at, seq: event.seq, accountId, method, recorded: event.outcome === 'success' ? 'success' : (event.reason ?? 'failure'), signals, decision: decision.decision, reasons: decision.reasons });
    if (accountId) histories.set(accountId, [{ at: event.at, success: event.outcome === 'success', reason: event.reason ?? null, passkey, agent: device, place }, ...history].slice(0, 50));
  }
  return out;
}
