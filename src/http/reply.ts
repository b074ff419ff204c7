import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage, errorStatus, type ErrorCode, type Failure, type RiskRefusal } from '../core/errors.ts';

/** The JSON body of every error: a stable code, a sentence for a person, and `retry_after` where a limit applies. */
export interface ErrorBody {
  readonly error: ErrorCode;
  readonly message: string;
  readonly retry_after?: number;
  /** Step-up and risk refusals (docs/risk.md): every reason by code, and what to sign in with again. */
  readonly reasons?: readonly string[];
  readonly acr_values?: string;
  readonly max_age?: number;
}

export function errorBody(code: ErrorCode, message?: string, retryAfter?: number, risk?: RiskRefusal): ErrorBody {
  return {
    error: code,
    message: message ?? errorMessage(code),
    ...(retryAfter !== undefined ? { retry_after: retryAfter } : {}),
    ...(risk ? { reasons: risk.reasons, ...(risk.acrValues ? { acr_values: risk.acrValues } : {}), ...(risk.maxAge != null ? { max_age: risk.maxAge } : {}) } : {}),
  };
}

/** The refusal each request was answered with: every refusal is answered here, so securityEvents.ts reads it here. */
const refusals = new WeakMap<FastifyRequest, ErrorCode>();

export function refusalOf(request: FastifyRequest): ErrorCode | undefined {
  return refusals.get(request);
}

/** Records a refusal answered in another format (SCIM, src/scim/reply.ts), for the security events. */
export function noteRefusal(request: FastifyRequest, code: ErrorCode): void {
  refusals.set(request, code);
}

export function sendFailure(reply: FastifyReply, failure: Pick<Failure, 'code' | 'message' | 'retryAfter' | 'risk'>): FastifyReply {
  // Fastify's frameworkErrors hand over a reply without its request.
  if (reply.request) refusals.set(reply.request, failure.code);
  if (failure.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter));
  if (failure.code === 'step_up_required') reply.header('www-authenticate', stepUpChallenge(failure.risk));
  return reply.code(errorStatus(failure.code)).type('application/json; charset=utf-8').send(errorBody(failure.code, failure.message, failure.retryAfter, failure.risk));
}

/** RFC 9470 §3: the challenge that says which authentication would do. */
function stepUpChallenge(risk: RiskRefusal | undefined): string {
  const parts = ['Bearer error="insufficient_user_authentication"', 'error_description="A new authentication is required"'];
  if (risk?.acrValues) parts.push(`acr_values="${risk.acrValues}"`);
  if (risk?.maxAge != null) parts.push(`max_age=${risk.maxAge}`);
  return parts.join(', ');
}
