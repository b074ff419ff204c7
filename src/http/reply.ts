import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage, errorStatus, type ErrorCode, type Failure } from '../core/errors.ts';

/** The JSON body of every error: a stable code, a sentence for a person, and `retry_after` where a limit applies. */
export interface ErrorBody {
  readonly error: ErrorCode;
  readonly message: string;
  readonly retry_after?: number;
}

export function errorBody(code: ErrorCode, message?: string, retryAfter?: number): ErrorBody {
  return { error: code, message: message ?? errorMessage(code), ...(retryAfter !== undefined ? { retry_after: retryAfter } : {}) };
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

export function sendFailure(reply: FastifyReply, failure: Pick<Failure, 'code' | 'message' | 'retryAfter'>): FastifyReply {
  // Fastify's frameworkErrors hand over a reply without its request.
  if (reply.request) refusals.set(reply.request, failure.code);
  if (failure.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter));
  return reply.code(errorStatus(failure.code)).type('application/json; charset=utf-8').send(errorBody(failure.code, failure.message, failure.retryAfter));
}
