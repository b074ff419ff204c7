import { fail, ok, type Result } from '../core/errors.ts';
import type { Account, RequestContext, Session } from '../core/model.ts';
import { parseToken, secretMatches } from '../core/tokens.ts';
import type { Store } from '../store/index.ts';
import type { Deps } from './deps.ts';
import { endSessionGrants, moveSessionGrants } from './grants.ts';
import { requireFresh } from './freshness.ts';
import { queueLogouts } from '../oidc/backchannel.ts';
import { queueSecurityEvent, SSF_EVENTS, type InitiatingEntity } from '../ssf/events.ts';

/** How stale `last_seen_at` may get before a request writes it again (spares a write per request). */
const TOUCH_INTERVAL_MS = 60_000;

export interface ActiveSession {
  readonly session: Session;
  readonly account: Account;
}

/**
 * Resolves a session token: the row by id, the secret by constant-time hash comparison, then the
 * revocation, idle and absolute limits and the account's status. Every check reads the database,
 * so a revocation on any instance takes effect on the next request everywhere.
 */
export async function resolveSession(deps: Deps, token: string | undefined): Promise<Result<ActiveSession>> {
  if (!token) return fail('session_required');
  const parts = parseToken(token);
  if (!parts) return fail('session_required');
  const session = await deps.store.sessions.findById(parts.id);
  if (!session || !secretMatches(parts.secret, session.secretHash)) return fail('session_required');
  const now = deps.clock();
  if (session.revokedAt !== null || session.expiresAt <= now || session.idleExpiresAt <= now) return fail('session_expired');
  const account = await deps.store.accounts.findById(session.accountId);
  // An imported account is still invited while its migration session binds its first passkey.
  const usable = account?.status === 'active' || (account?.status === 'invited' && session.purpose === 'migration');
  if (!account || !usable) return fail('session_expired');
  if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) {
    const idle = deps.config.sessionLimits[session.aal].idleMs;
    const idleExpiresAt = Math.min(now + idle, session.expiresAt);
    await deps.store.sessions.touch(session.id, now, idleExpiresAt);
    return ok({ session: { ...session, lastSeenAt: now, idleExpiresAt }, account });
  }
  return ok({ session, account });
}

export async function signOut(deps: Deps, active: ActiveSession, context: RequestContext): Promise<void> {
  await revokeSession(deps, active, active.session.id, context);
}

/**
 * Why a session was ended: the holder signed it out (`sign_out`), ended it from another of their
 * sessions (`revoked`) or ended all their others (`others_ended`), a new sign-in in the same
 * browser replaced it (`replaced`), or the account reached `KEYBOUND_SESSION_MAX_PER_ACCOUNT`
 * (`session_limit`), or the passkey that signed it in was reported lost (`passkey_lost`), or a
 * passkey was bound through recovery, which ends every other session of the account (`recovered`);
 * or an administrator suspended or offboarded the account or ended its sessions.
 */
export type SessionEndReason = 'sign_out' | 'revoked' | 'others_ended' | 'replaced' | 'session_limit' | 'passkey_lost' | 'recovered' | 'migrated' | AdminSessionEndReason;

/** Endings an administrator or operator causes (services/lifecycle.ts): a suspension, an offboarding, `sessions revoke`. */
export type AdminSessionEndReason = 'suspended' | 'offboarded' | 'admin_revoked' | 'assisted_recovery';

export interface SessionEnding {
  readonly accountId: string;
  readonly sessionIds: readonly string[];
  readonly reason: SessionEndReason;
  /** The session that asked for the ending, or the new one a sign-in issues. */
  readonly by: string;
  readonly context: RequestContext;
  readonly at: number;
}

/** CAEP 1.0 §2 `initiating_entity` of each way a session ends. */
const ENDED_BY: Record<SessionEndReason, InitiatingEntity> = {
  sign_out: 'user',
  revoked: 'user',
  others_ended: 'user',
  replaced: 'user',
  session_limit: 'policy',
  passkey_lost: 'user',
  recovered: 'user',
  migrated: 'user',
  suspended: 'admin',
  offboarded: 'admin',
  admin_revoked: 'admin',
  // Approved by administrators (services/approvals.ts); the holder's old sessions end at redemption.
  assisted_recovery: 'admin',
};

/**
 * The one place this module ends sessions: one store call and one `session.revoked` event per
 * session actually ended, inside the caller's transaction so they commit with whatever caused them.
 * Anything that must end with a session (its OpenID grants) hooks in here, once, for every reason
 * (`deps` is passed for that).
 */
export async function endSessions(deps: Deps, tx: Store, ending: SessionEnding): Promise<string[]> {
  const ended = await tx.sessions.revokeMany(ending.accountId, ending.sessionIds, ending.at);
  for (const id of ended) {
    // The OpenID grants, refresh tokens and provider session it authorized end with it (issue 10,
    // finding 6), but for a session a new sign-in in the same browser replaced: its grants carry on
    // under the new session (services/grants.ts, moveSessionGrants).
    // Clients that registered a back-channel logout URI are told, after this transaction commits
    // (OpenID Connect Back-Channel Logout 1.0; oidc/backchannel.ts). A replaced session carries on.
    const logouts = ending.reason === 'replaced' ? 0 : await queueLogouts(deps, tx, { sessionId: id, reason: ending.reason, at: ending.at });
    // Shared Signals streams are told too (CAEP 1.0 §3.1), in this transaction (ssf/events.ts).
    if (ending.reason !== 'replaced') {
      await queueSecurityEvent(deps, tx, { accountId: ending.accountId, type: SSF_EVENTS.sessionRevoked, event: { initiating_entity: ENDED_BY[ending.reason], reason_admin: { en: `Keybound session ended: ${ending.reason}` } }, at: ending.at });
    }
    const grants = ending.reason === 'replaced' ? await moveSessionGrants(tx, id, ending.by) : await endSessionGrants(tx, [id]);
    await tx.audit.append({
      type: 'session.revoked',
      outcome: 'success',
      reason: ending.reason,
      accountId: ending.accountId,
      context: ending.context,
      at: ending.at,
      details: { session: id, by: ending.by, self: id === ending.by, reason: ending.reason, ...(ending.reason === 'replaced' ? { grantsMoved: grants } : { grantsEnded: grants, backchannelLogouts: logouts }) },
    });
  }
  return ended;
}

/**
 * Whether a session is a sign-in. A recovery session (README "Recovery") is not: only the routes
 * declared for it take it (http/gates.ts `admit`), and neither the OpenID provider's sign-in
 * (http/auth.ts `authenticateSignedIn`) nor single sign-on (oidc/policy.ts) ever does.
 */
export function isSignIn(session: Session): boolean {
  return session.purpose === 'sign_in';
}

/** Why a session that is not a sign-in is refused where a sign-in is needed. */
export function limitedCode(session: Session): 'recovery_session_limited' | 'migration_session_limited' {
  return session.purpose === 'migration' ? 'migration_session_limited' : 'recovery_session_limited';
}

/** Whether a session was signed in with a passkey (not with one-time or recovery codes alone). */
export function signedInWithPasskey(session: Session): boolean {
  return session.passkeyId !== null && session.amr.includes('pop');
}

/**
 * Ends one of the account's own sessions. Ending the current one is signing out and needs nothing
 * more. Ending another needs a fresh passkey sign-in (OWASP ASVS 5.0 7.5.2: "users are able to
 * view and (having authenticated again with at least one factor) terminate any or all currently
 * active sessions"), and a session signed in with codes may never end a passkey session (ASVS
 * 7.4.3 / 7.5.2: the weaker factor must not lock out the stronger one).
 */
export async function revokeSession(deps: Deps, active: ActiveSession, sessionId: string, context: RequestContext): Promise<Result<null>> {
  const self = sessionId === active.session.id;
  if (!self) {
    const target = await deps.store.sessions.findById(sessionId);
    if (!target || target.accountId !== active.account.id || target.revokedAt !== null) return fail('session_not_found');
    if (signedInWithPasskey(target) && !signedInWithPasskey(active.session)) return fail('session_end_not_allowed');
    const fresh = await mayEndOthers(deps, active);
    if (!fresh.ok) return fresh;
  }
  const now = deps.clock();
  const ended = await deps.store.transaction((tx) =>
    endSessions(deps, tx, { accountId: active.account.id, sessionIds: [sessionId], reason: self ? 'sign_out' : 'revoked', by: active.session.id, context, at: now }),
  );
  return ended.length === 1 ? ok(null) : fail('session_not_found');
}

/**
 * "Sign out everywhere else" (OWASP ASVS 5.0 7.4.3, offered after an authenticator change, and
 * 7.5.2): ends every other live session of the account, after a fresh passkey sign-in. Returns how
 * many ended. Freshness means a passkey sign-in, so a code session never gets this far (and never
 * ends a passkey session this way).
 */
export async function endOtherSessions(deps: Deps, active: ActiveSession, context: RequestContext): Promise<Result<{ ended: number }>> {
  const fresh = await mayEndOthers(deps, active);
  if (!fresh.ok) return fresh;
  const now = deps.clock();
  const ended = await deps.store.transaction(async (tx) => {
    // A recovery session holds no passkey: it ends the others but those signed in with one (7.4.3).
    const others = (await tx.sessions.listActive(active.account.id, now)).filter((s) => s.id !== active.session.id && (signedInWithPasskey(active.session) || !signedInWithPasskey(s)));
    return endSessions(deps, tx, { accountId: active.account.id, sessionIds: others.map((s) => s.id), reason: 'others_ended', by: active.session.id, context, at: now });
  });
  return ok({ ended: ended.length });
}

/**
 * Whether a session may end the account's other sessions: a fresh passkey sign-in, or a recovery
 * session (README "Recovery"), which is at most minutes old, was opened by the role's recovery
 * proofs, and has this as one of its two powers. Neither a recovery nor any code session ever
 * ends a session signed in with a passkey (the callers apply ASVS 7.4.3).
 */
async function mayEndOthers(deps: Deps, active: ActiveSession): Promise<Result<null>> {
  if (active.session.purpose === 'recovery') return ok(null);
  // A migration session (README "Importing accounts") only binds a passkey; it ends nothing.
  if (active.session.purpose === 'migration') return fail('migration_session_limited');
  return requireFresh(deps, active);
}

/**
 * OWASP ASVS 5.0 7.1.2 (a per-account limit on concurrent sessions, and what happens at it): with
 * `max` live sessions already, a sign-in ends the least recently used ones so its own fits. It does
 * not refuse: a person locked out by sessions they forgot on other devices is worse off than one
 * whose oldest idle session ends, and every ending is audited. One exception keeps 7.4.3's rule
 * that codes never end a passkey session: a sign-in without a passkey ends only sessions without
 * one, and is refused (`session_limit_reached`) when passkey sessions alone fill the limit. Called
 * inside the sign-in's transaction, before the new session is written. `max` 0: no limit.
 */
export async function endSessionsOverLimit(
  deps: Deps,
  tx: Store,
  input: { accountId: string; newSessionId: string; withPasskey: boolean; max: number; context: RequestContext; at: number; liveSessions?: number | undefined },
): Promise<Result<string[]>> {
  if (input.max <= 0) return ok([]);
  // Counted first (or given, when the caller's hold on the account counted them: signIn.ts): most
  // sign-ins are far below the limit, and listing reads every live session.
  const live = input.liveSessions ?? (await tx.sessions.countActive(input.accountId, input.at));
  if (live < input.max) return ok([]);
  const listed = await tx.sessions.listActive(input.accountId, input.at);
  const excess = listed.length - (input.max - 1);
  if (excess <= 0) return ok([]);
  const endable = input.withPasskey ? listed : listed.filter((s) => !signedInWithPasskey(s));
  if (endable.length < excess) return fail('session_limit_reached');
  const leastRecent = [...endable].sort((a, b) => a.lastSeenAt - b.lastSeenAt || a.createdAt - b.createdAt).slice(0, excess);
  return ok(
    await endSessions(deps, tx, {
      accountId: input.accountId,
      sessionIds: leastRecent.map((s) => s.id),
      reason: 'session_limit',
      by: input.newSessionId,
      context: input.context,
      at: input.at,
    }),
  );
}

export async function listSessions(deps: Deps, active: ActiveSession): Promise<Session[]> {
  return deps.store.sessions.listActive(active.account.id, deps.clock());
}
