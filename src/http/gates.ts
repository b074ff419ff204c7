import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { fail, type Result } from '../core/errors.ts';
import type { Deps } from '../services/deps.ts';
import { requireAdmin } from '../services/adminAccess.ts';
import { requireFresh } from '../services/freshness.ts';
import { isSignIn, limitedCode, type ActiveSession } from '../services/sessions.ts';
import { authenticate } from './auth.ts';
import type { Access } from './declare.ts';
import { sendFailure } from './reply.ts';

/** The media type of a Content-Type header, without parameters, in lower case. */
export function mediaType(header: string | undefined): string {
  if (header === undefined) return '';
  const semicolon = header.indexOf(';');
  return (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

/** Whether a request carries a body (a positive Content-Length, or a chunked one). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return request.headers['transfer-encoding'] !== undefined;
}

/**
 * A body must be of a declared type: JSON for the API. A form post or `text/plain` is what a page
 * of another site can send without asking (no CORS preflight), so it never reaches a handler.
 * Runs before the body is read.
 */
export function contentTypeGate(types: readonly string[]): onRequestHookHandler {
  const message = `Send the request body as ${types.join(' or ')}.`;
  // Callback form (security.ts, securityHeaders): a refusal answers and does not call `done`.
  return (request, reply, done) => {
    if (hasBody(request) && !types.includes(mediaType(request.headers['content-type']))) sendFailure(reply, { code: 'unsupported_media_type', message });
    else done();
  };
}

/**
 * The session a route's access asks for: refused when there is none, or when it is not fresh enough.
 * A recovery session (README "Recovery") is admitted only by routes declared `recovery`, and there
 * without the freshness check: it is at most minutes old and holds no passkey, and the services
 * behind those routes say what it may do (bind a passkey; end sessions, never a passkey's).
 */
export async function admit(deps: Deps, request: FastifyRequest, access: Exclude<Access, 'anyone'>, route: { readonly recovery?: true } = {}): Promise<Result<ActiveSession>> {
  const active = await authenticate(deps, request);
  if (active.ok && !isSignIn(active.value.session)) return route.recovery ? active : fail(limitedCode(active.value.session));
  if (!active.ok || access === 'session') return active;
  if ('admin' in access) {
    const admitted = await requireAdmin(deps, active.value, { fresh: access.fresh === true });
    return admitted.ok ? active : admitted;
  }
  const fresh = await requireFresh(deps, active.value, access.minAal !== undefined ? { minAal: access.minAal } : {});
  return fresh.ok ? active : fresh;
}
