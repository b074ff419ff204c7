import type { AuditEventInput } from '../core/model.ts';
import { parseToken, secretMatches } from '../core/tokens.ts';
import type { Deps } from './deps.ts';
import { checkRateLimit } from './rateLimit.ts';

/**
 * Refusals one actor (an account, an OAuth client) may add to the audit trail per rate-limit window
 * (`KEYBOUND_RATE_LIMIT_WINDOW`). Past it, a refusal is still logged at warn and counted in
 * `keybound_security_events_total`, but not audited: whoever drives the refusals (the actor itself,
 * or a page sending a signed-in browser's requests) cannot grow the trail, which is kept for good and
 * verified whole by `audit verify`, faster than this. The first refusals of a burst are what an
 * investigation needs; the log line and the counter say how long it went on (OWASP ASVS 5.0 16.3.2, 16.3.3).
 */
export const AUDITED_REFUSALS_PER_WINDOW = 20;

/**
 * Appends `event` unless `actor` has used its budget of audited refusals in this window.
 * Returns whether it was audited.
 */
export async function auditRefusal(deps: Deps, actor: string, event: AuditEventInput): Promise<boolean> {
  const budget = await checkRateLimit(deps, `audit-refusal:${actor}`, { max: AUDITED_REFUSALS_PER_WINDOW, windowMs: deps.config.rateLimit.windowMs });
  if (!budget.ok) return false;
  await deps.store.audit.append(event);
  return true;
}

/**
 * The account a session token names while the session is live, read only: unlike `resolveSession`
 * it never records a use, so a refused request (a cross-site one, say) does not keep a session alive.
 */
export async function liveSessionAccount(deps: Deps, token: string | undefined): Promise<string | null> {
  const parts = token ? parseToken(token) : null;
  if (!parts) return null;
  const session = await deps.store.sessions.findById(parts.id);
  if (!session || !secretMatches(parts.secret, session.secretHash)) return null;
  const now = deps.clock();
  if (session.revokedAt !== null || session.expiresAt <= now || session.idleExpiresAt <= now) return null;
  return session.accountId;
}
