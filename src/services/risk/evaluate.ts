import type { Acr } from '../../core/assurance/level.ts';
import { fail, type Failure } from '../../core/errors.ts';
import type { RequestContext, Session } from '../../core/model.ts';
import { evaluate, type Decision, type Requirement } from '../../core/risk/engine.ts';
import { reasonsInWords } from '../../core/risk/reasons.ts';
import { mayNeedSignals, type FactorClass, type RiskEvent } from '../../core/risk/rules.ts';
import { signalsOf, type PastSignIn, type Place, type Signal, type SignalFacts } from '../../core/risk/signals.ts';
import { agentFamily } from '../../core/userAgent.ts';
import type { RiskHistoryEvent } from '../../store/ports.ts';
import type { Deps } from '../deps.ts';

/**
 * Asks the risk policy at each decision point (issue 14): sign-in, every session use, privileged
 * actions and authorization. Gathers the facts the policy's signals need, and no more: the account's
 * recent sign-ins are read (one indexed query) only when a rule names a signal that needs them.
 */

/** How many of the account's latest audit events the history signals look at. */
const HISTORY_EVENTS = 50;

/** What the sign-in audit event keeps under `risk` (the /account page and the admin console read it). */
export interface RiskDetails {
  readonly decision: Decision['decision'];
  readonly reasons: readonly string[];
  readonly signals: readonly Signal[];
  readonly device: string | null;
  readonly place: { readonly country: string | null; readonly city: string | null; readonly lat: number | null; readonly lon: number | null } | null;
}

export interface Assessed {
  readonly decision: Decision;
  readonly details: RiskDetails;
}

const METHOD_FACTOR: Readonly<Record<string, FactorClass>> = {
  passkey: 'passkey',
  enrolment: 'passkey',
  recovery_passkey: 'passkey',
  migration_passkey: 'passkey',
  totp: 'code',
  sms_code: 'code',
  email_code: 'code',
  recovery_code: 'recovery',
  migration_password: 'password',
};

export const factorOfMethod = (method: string): FactorClass => METHOD_FACTOR[method] ?? 'code';
const factorOfSession = (session: Session): FactorClass => (session.purpose === 'recovery' ? 'recovery' : session.passkeyId !== null ? 'passkey' : 'code');

/** An earlier sign-in as the signals see it: the place and device it recorded, else what its event says. */
function pastSignIn(event: RiskHistoryEvent): PastSignIn {
  return {
    at: event.at,
    success: event.outcome === 'success',
    reason: event.reason,
    passkey: event.passkey,
    agent: event.device !== undefined ? event.device : agentFamily(event.userAgent),
    place: (event.place as Place | undefined) ?? null,
  };
}

/**
 * When the SIM of the account's phone last changed, as an SMS delivery refused for it recorded the
 * gateway's word (services/codes/signInStart.ts); the delivery's own time for older events.
 */
function simChangedAt(event: RiskHistoryEvent): number | null {
  if (event.type !== 'code.delivery' || event.reason !== 'sms_sim_changed') return null;
  const reported = event.simChangedAt === null ? Number.NaN : Date.parse(event.simChangedAt);
  return Number.isNaN(reported) ? event.at : reported;
}

async function history(deps: Deps, accountId: string, now: number): Promise<{ history: PastSignIn[]; simChanged: boolean }> {
  const events = await deps.store.audit.recentForRisk(accountId, HISTORY_EVENTS);
  // The window runs from the change itself, as it does for the SMS codes it refuses (codes/deliver.ts).
  const since = now - deps.config.sms.simChangeWindowMs;
  return {
    history: events.filter((e) => e.type === 'sign_in').map(pastSignIn),
    simChanged: events.some((e) => (simChangedAt(e) ?? -Infinity) >= since),
  };
}

export interface SignInFacts {
  readonly accountId: string;
  readonly role: string;
  readonly method: string;
  readonly passkeyId: string | null;
  readonly context: RequestContext;
  readonly acr: Acr;
  readonly now: number;
}

/** The policy's word on a sign-in about to be completed (its own level and time are the step-up's measure). */
export async function assessSignIn(deps: Deps, f: SignInFacts): Promise<Assessed> {
  const { risk } = deps;
  const device = agentFamily(f.context.userAgent);
  const place = risk.placeOf?.(f.context.ip) ?? null;
  const input = { event: 'sign_in' as const, role: f.role, client: null, factor: factorOfMethod(f.method), auth: { acr: f.acr, authTime: f.now }, now: f.now };
  // The account's recent events are read only when a rule that looks at them could apply here.
  const needsHistory = mayNeedSignals(risk.historyRules, input);
  const facts: SignalFacts = {
    now: f.now,
    passkey: f.passkeyId,
    agent: device,
    place,
    failureMax: deps.config.risk.failureMax,
    failureWindowMs: deps.config.risk.failureWindowMs,
    ...(needsHistory ? await history(deps, f.accountId, f.now) : {}),
  };
  const signals = signalsOf(facts);
  // Written out, not `{ ...input, signals }`: a property added to a spread's copy makes a new hidden
  // class on every sign-in (BENCHMARKS.md, eleventh look).
  const decision = evaluate([risk.check], { event: input.event, signals, role: input.role, client: input.client, factor: input.factor, auth: input.auth, now: input.now });
  return { decision, details: { decision: decision.decision, reasons: decision.reasons, signals, device, place } };
}

/** The policy's word on one use of a session (continuous evaluation, NIST SP 800-207 tenet 6). */
export function assessSession(deps: Deps, session: Session, role: string, context: RequestContext, extra: { event?: RiskEvent; privileged?: boolean; client?: string | null; sensitiveClient?: boolean } = {}): Decision {
  const now = deps.clock();
  const signals = signalsOf({
    now,
    session: { ip: session.ip, agent: agentFamily(session.userAgent), requestIp: context.ip, requestAgent: agentFamily(context.userAgent) },
    ...(extra.privileged !== undefined ? { privileged: extra.privileged } : {}),
    ...(extra.sensitiveClient !== undefined ? { sensitiveClient: extra.sensitiveClient } : {}),
  });
  return evaluate([deps.risk.check], {
    event: extra.event ?? 'session',
    signals,
    role,
    client: extra.client ?? null,
    factor: factorOfSession(session),
    auth: { acr: session.acr as Acr, authTime: session.authTime },
    now,
  });
}

/** The policy's word on a privileged action (admin API, role changes, recovery approvals) by a session. */
export function assessAction(deps: Deps, session: Session, role: string): Decision {
  // The session's own address and browser: the use itself was judged when the session was admitted.
  return assessSession(deps, session, role, { ip: session.ip, userAgent: session.userAgent }, { event: 'action', privileged: true });
}

/**
 * What the risk policy asks of a sign-in for an OpenID client (event `authorize`), whatever the
 * session: the step-up every matching rule requires, joined, or `deny`; `null` when nothing.
 */
export function authorizeRequirement(deps: Deps, client: { readonly clientId: string; readonly sensitive: boolean }): Requirement | 'deny' | null {
  const now = deps.clock();
  const signals = signalsOf({ now, sensitiveClient: client.sensitive });
  const decision = evaluate([deps.risk.check], { event: 'authorize', signals, role: '', client: client.clientId, factor: 'passkey', auth: null, now });
  return decision.decision === 'deny' ? 'deny' : decision.requires;
}

/** A decision that is not `allow`, as the failure answered: `403 risk_denied` or `401 step_up_required`. */
export function riskFailure(decision: Decision): Failure | null {
  if (decision.decision === 'allow') return null;
  const words = reasonsInWords(decision.reasons);
  const advice = decision.advice.length > 0 ? ` ${decision.advice.join(' ')}` : '';
  if (decision.decision === 'deny') return fail('risk_denied', { message: `Refused because of: ${words}.${advice}`, risk: { reasons: decision.reasons } });
  return fail('step_up_required', {
    message: `Sign in again with a passkey, because of: ${words}.${advice}`,
    risk: { reasons: decision.reasons, acrValues: decision.requires?.acr ?? null, maxAge: decision.requires?.maxAge ?? null },
  });
}
