import type { FastifyRequest, onSendHookHandler } from 'fastify';
import type { Deps } from '../services/deps.ts';
import { auditRefusal, liveSessionAccount } from '../services/securityAudit.ts';
import { authenticatedAs } from './auth.ts';
import { clientAddress, requestContext, sessionToken } from './context.ts';
import { refusalOf } from './reply.ts';

/**
 * What a refusal is as a security event (OWASP ASVS 5.0 16.3.2, 16.3.3): the stable `event` name
 * of its warn log line, and whether it may go to the audit trail.
 *
 * Audit or log only, by who can cause it and how often:
 * - Refused authorization (a live session asking for what it may not have): audited, with the
 *   account, route and reason, within a per-account budget (services/securityAudit.ts), because it
 *   says what a signed-in person, or someone holding their session, tried.
 * - A cross-site request refused by the origin check: audited like a refused authorization when it
 *   carried a live session (someone made a signed-in browser send it); log only otherwise.
 * - Rate-limit refusals and invalid input (schema validation, a body type the route does not take):
 *   log only, and counted in `keybound_security_events_total`. Anyone can send them as fast as the
 *   network allows, so auditing them would let an attacker flood the trail that is kept for good.
 */
interface SecurityEvent {
  readonly event: string;
  readonly audit: boolean;
  readonly message: string;
}

const REFUSED_AUTHORIZATION: SecurityEvent = { event: 'authorization.refused', audit: true, message: 'security event: a request was refused authorization' };
const INVALID: SecurityEvent = { event: 'request.invalid', audit: false, message: 'security event: a request failed input validation' };

/** Keyed by error code (src/core/errors.ts); codes not listed are not security events. */
const EVENTS: Readonly<Record<string, SecurityEvent>> = {
  fresh_auth_required: REFUSED_AUTHORIZATION,
  session_end_not_allowed: REFUSED_AUTHORIZATION,
  // The administrators' role gate, where it exists.
  admin_required: REFUSED_AUTHORIZATION,
  // Takeover-path guard (docs/paths.md): a change that would weaken an account below its role.
  policy_would_weaken_account: REFUSED_AUTHORIZATION,
  migration_session_limited: REFUSED_AUTHORIZATION,
  // A second administrator's approval asked of the requester or the holder (services/approvals.ts).
  approval_not_allowed: REFUSED_AUTHORIZATION,
  // Shared Signals management (ssf/auth.ts): logged with the route (a client is no account, so
  // there is no account trail to add it to).
  ssf_scope_required: REFUSED_AUTHORIZATION,
  ssf_token_invalid: { event: 'authorization.refused', audit: false, message: 'security event: a Shared Signals request with an invalid token was refused' },
  origin_not_allowed: { event: 'request.cross_site_refused', audit: true, message: 'security event: a request from a foreign origin was refused' },
  rate_limited: { event: 'request.rate_limited', audit: false, message: 'security event: a request was refused by a rate limit' },
  invalid_request: INVALID,
  unsupported_media_type: INVALID,
};

/**
 * Turns each refusal into a security event, in one place: every refusal is answered by
 * `sendFailure` (reply.ts), which notes its code, and this hook (on every answer, before it is sent)
 * logs it at warn with a stable `event`, the request id, client address, method and route pattern,
 * never a body, header or token, and audits it where `EVENTS` says so.
 */
export function securityEvents(deps: Deps): onSendHookHandler {
  // Callback form (security.ts, securityHeaders): an answer that is no refusal, nearly all of them,
  // passes without a promise; a refusal is logged, and audited where EVENTS says, before it is sent.
  return (request, _reply, payload, done) => {
    const code = refusalOf(request);
    const kind = code === undefined ? undefined : EVENTS[code];
    if (!code || !kind) return done(null, payload);
    recordRefusal(deps, request, code, kind).then(() => done(null, payload), done);
  };
}

async function recordRefusal(deps: Deps, request: FastifyRequest, code: string, kind: SecurityEvent): Promise<void> {
  const route = request.routeOptions.url ?? 'unmatched';
  let account = authenticatedAs(request)?.account.id ?? null;
  let audited = false;
  try {
    // The origin check runs before any session is looked at: find out whose browser sent it.
    if (kind.audit && !account) account = await liveSessionAccount(deps, sessionToken(request, deps.config));
    if (kind.audit && account) {
      audited = await auditRefusal(deps, `account:${account}`, {
        type: 'authorization.refused',
        outcome: 'failure',
        reason: code,
        accountId: account,
        context: requestContext(request),
        details: { method: request.method, route },
        at: deps.clock(),
      });
    }
  } catch (error) {
    deps.log.warn({ event: 'audit.failed', reason: code, err: { message: (error as Error).message } }, 'a refusal could not be audited');
  }
  deps.metrics.securityEvents.inc({ event: kind.event, reason: code });
  deps.log.warn(
    { event: kind.event, reason: code, reqId: request.id, ip: clientAddress(request), method: request.method, route, ...(account ? { account, audited } : {}) },
    kind.message,
  );
}
