import { assess, type Assurance, type FactorEvidence } from '../core/assurance/level.ts';
import { fail, ok, type ErrorCode, type Failure, type Result } from '../core/errors.ts';
import type { Account, AccountStatus, RequestContext, Session, SessionPurpose } from '../core/model.ts';
import { recoveryProofsMet } from '../core/policy.ts';
import { evaluate } from '../core/risk/engine.ts';
import { ROLE_CHECKS } from '../core/risk/checks.ts';
import { hashSecret, newToken } from '../core/tokens.ts';
import type { Store } from '../store/index.ts';
import type { Deps } from './deps.ts';
import { endSessions, endSessionsOverLimit, signedInWithPasskey } from './sessions.ts';
import { migrationAssurance, migrationClosed } from './migration/window.ts';
import { assessSignIn, riskFailure } from './risk/evaluate.ts';
import { atomically } from './atomically.ts';

export type SignInMethod = 'passkey' | 'enrolment' | 'totp' | 'sms_code' | 'email_code' | 'recovery_code' | 'recovery_passkey' | 'migration_password' | 'migration_passkey';

/**
 * How long a recovery session lives (README "Recovery"): long enough to add a passkey, no longer;
 * it is neither extended by use nor a sign-in (its `acr` is never shown to an application).
 */
export const RECOVERY_SESSION_MS = 15 * 60_000;

export interface SignInRequest {
  readonly account: Account;
  readonly method: SignInMethod;
  /** Every factor verified in this sign-in; the level is computed from these and nothing else. */
  readonly factors: readonly FactorEvidence[];
  readonly passkeyId: string | null;
  readonly context: RequestContext;
  /**
   * Writes that must commit with the session or not at all (consume an invitation, move a sign
   * counter, store a TOTP time step). Return a failure to roll everything back.
   */
  readonly commit?: (tx: Store) => Promise<Failure | null>;
  /** Extra audit details (never secrets). */
  readonly details?: Record<string, unknown>;
  /**
   * The live session the request carried (its cookie, resolved by the HTTP layer), if any. A sign-in
   * of the same account ends it in the same transaction as the new session is issued.
   */
  readonly presentedSessionId?: string | null;
  /**
   * `recovery`: a recovery session (README "Recovery"), issued for the role's recovery proofs
   * instead of its sign-in policy; it can only bind a passkey and see and end sessions.
   */
  readonly purpose?: SessionPurpose;
}

export interface SignedIn {
  readonly account: Account;
  readonly session: Session;
  /** The session token, `id.secret`: handed to the client once, never stored. */
  readonly token: string;
  readonly assurance: Assurance;
}

/**
 * Methods that hold an invited account: an enrolment, and an imported account's move (README
 * "Importing accounts"): its old password opens a migration session, and the passkey bound from it
 * activates the account as an enrolment does.
 */
const INVITED_METHODS: readonly SignInMethod[] = ['enrolment', 'migration_password', 'migration_passkey'];

/** Active accounts sign in; an invited one only by enrolling or moving over (either activates it with a passkey). */
const maySignIn = (status: AccountStatus | undefined, method: SignInMethod) => status === 'active' || (status === 'invited' && INVITED_METHODS.includes(method));

/**
 * The one place a session is issued. Every sign-in path ends here: it computes the assurance level
 * from the verified factors, refuses accounts that may not sign in, writes the session and the
 * audit event in the same transaction as the path's own writes, and counts the sign-in.
 */
export async function completeSignIn(deps: Deps, request: SignInRequest): Promise<Result<SignedIn>> {
  const { account, context } = request;
  const now = deps.clock();
  if (!maySignIn(account.status, request.method)) return refuseRequest(deps, request, fail('account_not_active'));
  // Role policy is enforced here, where every path passes, not only in the paths that know of it.
  const policy = deps.policies[account.role];
  const purpose = request.purpose ?? 'sign_in';
  const assurance = purpose === 'migration' ? migrationAssurance(request.factors) : assess(request.factors);
  if (purpose === 'migration') {
    // The role's migration window is its policy for this path (README "Importing accounts"),
    // checked here too so no caller can open a migration session after the date.
    const closed = migrationClosed(deps, account.role);
    if (closed) return refuseRequest(deps, request, closed);
  } else if (purpose === 'recovery') {
    // A recovery is judged by the role's recovery policy (NIST SP 800-63B-4 §4.2.1), not its
    // sign-in policy: what it opens can only bind a passkey, which is then the sign-in.
    const problem = recoveryProofsMet(policy, request.factors);
    if (problem) return refuseRequest(deps, request, fail(problem));
  } else {
    // The role's checks in the policy engine (core/risk/checks.ts); the first reason is the
    // error code answered, as before, and the audit event keeps them all.
    const roleDecision = evaluate(ROLE_CHECKS, { policy, factors: request.factors, aal: assurance.aal });
    if (roleDecision.decision !== 'allow') return refuseRequest(deps, request, fail(roleDecision.reasons[0] as ErrorCode));
  }
  // The risk policy (services/risk, docs/risk.md) has its word on every path, after the role's.
  const assessed = await assessSignIn(deps, { accountId: account.id, role: account.role, method: request.method, passkeyId: request.passkeyId, context, acr: assurance.acr, now });
  const risky = riskFailure(assessed.decision);
  if (risky) {
    return recordSignInFailure(deps, risky, { method: request.method, accountId: account.id, context, details: { passkey: request.passkeyId, risk: assessed.details } });
  }
  const limits = purpose !== 'sign_in' ? { idleMs: RECOVERY_SESSION_MS, maxMs: RECOVERY_SESSION_MS } : deps.config.sessionLimits[assurance.aal];
  const token = newToken(deps.random);
  const session: Session = {
    id: token.id,
    accountId: account.id,
    secretHash: hashSecret(token.secret),
    aal: assurance.aal,
    acr: assurance.acr,
    amr: assurance.amr,
    authTime: now,
    passkeyId: request.passkeyId,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: Math.min(now + limits.idleMs, now + limits.maxMs),
    expiresAt: now + limits.maxMs,
    ip: context.ip,
    userAgent: context.userAgent,
    revokedAt: null,
    purpose,
  };
  // One transaction (services/atomically.ts): a failure returned anywhere in it undoes every write.
  const committed = await atomically(deps, async (tx): Promise<Result<null>> => {
    // The account is held from here to the commit: a suspension (or any status change) that
    // committed after the account was read above is seen now rather than outlived by this session,
    // and concurrent sign-ins of one account count its live sessions one after the other, so the
    // per-account limit (ASVS 7.1.2) is never exceeded. `recordSignIn` is the hold: it takes the
    // account only while it is active (a row lock on PostgreSQL; on SQLite this transaction already
    // has the one write lock) and records when it last signed in (`accounts show`, `accounts list`),
    // to the hour. An enrolment holds the invited account first, and its `commit` makes it active
    // before the sign-in is recorded.
    const enrolment = INVITED_METHODS.includes(request.method);
    // The hold also counts the account's live sessions (store/ports.ts), for the limit below.
    let held: { liveSessions: number } | null = null;
    if (enrolment && !maySignIn(await tx.accounts.lock(account.id), request.method)) return fail('account_not_active');
    if (!enrolment && !(held = await tx.accounts.recordSignIn(account.id, now))) return fail('account_not_active');
    const refused = request.commit ? await request.commit(tx) : null;
    if (refused) return refused;
    // A migration session is not a sign-in of the account yet: the passkey it binds is.
    if (enrolment && request.method !== 'migration_password' && !(held = await tx.accounts.recordSignIn(account.id, now))) return fail('account_not_active');
    // OWASP ASVS 5.0 7.2.4: "generates a new session token on user authentication, including
    // re-authentication, and terminates the current session token". The store ends it only if it
    // is this account's: a cookie of another account is left alone (the new cookie overwrites it
    // in this browser, and one person's sign-in must not end someone else's session).
    const replaced = request.presentedSessionId
      ? await endSessions(deps, tx, { accountId: account.id, sessionIds: [request.presentedSessionId], reason: 'replaced', by: session.id, context, at: now })
      : [];
    const limited = await endSessionsOverLimit(deps, tx, {
      accountId: account.id,
      newSessionId: session.id,
      withPasskey: signedInWithPasskey(session),
      max: deps.config.sessionMaxPerAccount,
      // Counted before the replaced session ended: count again then (a rare sign-in over a live one).
      liveSessions: replaced.length === 0 ? held?.liveSessions : undefined,
      context,
      at: now,
    });
    if (!limited.ok) return limited;
    const overLimit = limited.value;
    await tx.sessions.create(session);
    await tx.audit.append({
      type: 'sign_in',
      outcome: 'success',
      accountId: account.id,
      context,
      at: now,
      details: {
        method: request.method,
        session: session.id,
        ...(purpose !== 'sign_in' ? { purpose } : {}),
        passkey: request.passkeyId,
        aal: assurance.aal,
        acr: assurance.acr,
        amr: assurance.amr,
        reasons: assurance.reasons,
        risk: assessed.details,
        ...(replaced.length > 0 ? { replaced: replaced[0] } : {}),
        ...(overLimit.length > 0 ? { sessionLimitEnded: overLimit } : {}),
        ...request.details,
      },
    });
    return ok(null);
  });
  if (!committed.ok) return refuseRequest(deps, request, committed);
  deps.metrics.signIns.inc({ method: request.method, result: 'success' });
  const activated = request.method === 'enrolment' || request.method === 'migration_passkey';
  return ok({ account: activated ? { ...account, status: 'active' } : account, session, token: token.token, assurance });
}

/** A refused sign-in request, recorded with the passkey it named. */
function refuseRequest(deps: Deps, request: SignInRequest, failure: Failure): Promise<Failure> {
  return recordSignInFailure(deps, failure, { method: request.method, accountId: request.account.id, context: request.context, details: { passkey: request.passkeyId } });
}

/** Records a refused sign-in (with its reason) in the audit trail and the metrics. */
export async function recordSignInFailure(
  deps: Deps,
  failure: Failure,
  info: { method: SignInMethod; accountId?: string | null; context: RequestContext; details?: Record<string, unknown> },
): Promise<Failure> {
  deps.metrics.signIns.inc({ method: info.method, result: failure.code });
  await deps.store.audit.append({
    type: 'sign_in',
    outcome: 'failure',
    reason: failure.code,
    accountId: info.accountId ?? null,
    context: info.context,
    at: deps.clock(),
    details: { method: info.method, ...info.details },
  });
  return failure;
}
