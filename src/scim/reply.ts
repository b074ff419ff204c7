import type { FastifyReply } from 'fastify';
import { errorMessage, errorStatus, type ErrorCode, type Failure } from '../core/errors.ts';
import { SCIM } from '../core/scim/user.ts';
import { noteRefusal } from '../http/reply.ts';

export const SCIM_TYPE = 'application/scim+json';

/** RFC 7644 §3.12 Table 9: the `scimType` of a 400 (and 409) answer. */
const SCIM_TYPES: Partial<Record<ErrorCode, string>> = {
  scim_invalid_filter: 'invalidFilter',
  scim_invalid_value: 'invalidValue',
  scim_invalid_syntax: 'invalidSyntax',
  scim_invalid_path: 'invalidPath',
  scim_no_target: 'noTarget',
  scim_mutability: 'mutability',
  scim_uniqueness: 'uniqueness',
  invalid_request: 'invalidValue',
};

/** RFC 7644 §8.1: SCIM answers are `application/scim+json`. */
export function sendScim(reply: FastifyReply, status: number, body: unknown, etag?: string): FastifyReply {
  if (etag) reply.header('etag', etag);
  return reply.code(status).type(`${SCIM_TYPE}; charset=utf-8`).send(body);
}

/**
 * RFC 7644 §3.12: an error as `{"schemas": [Error], "status": "<code as a string>", "scimType",
 * "detail"}`, with the registry's status; the stable Keybound code rides along as `keyboundError`.
 */
export function sendScimFailure(reply: FastifyReply, failure: Pick<Failure, 'code' | 'message' | 'retryAfter'>): FastifyReply {
  if (reply.request) noteRefusal(reply.request, failure.code);
  const status = errorStatus(failure.code);
  if (failure.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter));
  const scimType = SCIM_TYPES[failure.code];
  return sendScim(reply, status, { schemas: [SCIM.error], status: String(status), ...(scimType ? { scimType } : {}), detail: failure.message ?? errorMessage(failure.code), keyboundError: failure.code });
}
