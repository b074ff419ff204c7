import { fail, ok, type Result } from '../core/errors.ts';
import type { Account, RequestContext, Session } from '../core/model.ts';
import { parseToken, secretMatches } from '../core/tokens.ts';
import type { Deps } from './deps.ts';
import { endSessionGrants } from './grants.ts';

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
  if (!account || account.status !== 'active') return fail('session_expired');
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
 * Revokes one of the account's own sessions, and with it the OpenID grants, refresh tokens and
 * provider session it authorized (services/grants.ts), in one transaction.
 */
export async function revokeSession(deps: Deps, active: ActiveSession, sessionId: string, context: RequestContext): Promise<Result<null>> {
  const now = deps.clock();
  const revoked = await deps.store.transaction(async (tx) => {
    if (!(await tx.sessions.revoke(active.account.id, sessionId, now))) return false;
    const grants = await endSessionGrants(tx, [sessionId]);
    await tx.audit.append({
      type: 'session.revoked',
      outcome: 'success',
      accountId: active.account.id,
      context,
      at: now,
      details: { session: sessionId, by: active.session.id, self: sessionId === active.session.id, grants },
    });
    return true;
  });
  return revoked ? ok(null) : fail('session_not_found');
}

export async function listSessions(deps: Deps, active: ActiveSession): Promise<Session[]> {
  return deps.store.sessions.listActive(active.account.id, deps.clock());
}
