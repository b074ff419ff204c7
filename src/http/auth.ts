import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { rateLimitKeyForAddress } from '../core/address.ts';
import { fail, type Result } from '../core/errors.ts';
import type { Deps } from '../services/deps.ts';
import { checkRateLimit } from '../services/rateLimit.ts';
import { isSignIn, limitedCode, resolveSession, type ActiveSession } from '../services/sessions.ts';
import { clientAddress, requestContext, sessionToken } from './context.ts';
import { assessSession, riskFailure } from '../services/risk/evaluate.ts';
import { sendFailure } from './reply.ts';

const sessions = new WeakMap<FastifyRequest, ActiveSession>();

/** The session a request's cookie names, checked against the database. */
export async function authenticate(deps: Deps, request: FastifyRequest): Promise<Result<ActiveSession>> {
  const active = await resolveSession(deps, sessionToken(request, deps.config));
  if (!active.ok) return active;
  sessions.set(request, active.value);
  // Continuous evaluation (NIST SP 800-207 tenet 6, docs/risk.md): every use of a session asks the
  // risk policy again; a browser that is not the session's own is asked to sign in again.
  const { session, account } = active.value;
  if (session.purpose !== 'sign_in') return active;
  const context = requestContext(request);
  const refused = riskFailure(assessSession(deps, session, account.role, context));
  if (!refused) return active;
  await deps.store.audit.append({
    type: 'risk.session',
    outcome: 'failure',
    reason: refused.code,
    accountId: account.id,
    context,
    at: deps.clock(),
    details: { session: session.id, reasons: refused.risk?.reasons ?? [] },
  });
  return refused;
}

/** The live session `authenticate` found for this request, if it was asked (who a later refusal refused). */
export function authenticatedAs(request: FastifyRequest): ActiveSession | undefined {
  return sessions.get(request);
}

/**
 * The session of a request that someone is *signed in* with: a recovery session (README
 * "Recovery") is not one, so the OpenID provider's sign-in never takes it for a sign-in.
 */
export async function authenticateSignedIn(deps: Deps, request: FastifyRequest): Promise<Result<ActiveSession>> {
  const active = await authenticate(deps, request);
  return active.ok && !isSignIn(active.value.session) ? fail(limitedCode(active.value.session)) : active;
}

/** Per-address limit on the passkey ceremony endpoints (an IPv6 client counts by its /64). */
export function ceremonyRateLimit(deps: Deps): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { ceremonyMax, windowMs } = deps.config.rateLimit;
    const result = await checkRateLimit(deps, `ceremony:${rateLimitKeyForAddress(clientAddress(request))}`, { max: ceremonyMax, windowMs });
    if (!result.ok) return sendFailure(reply, result);
  };
}
