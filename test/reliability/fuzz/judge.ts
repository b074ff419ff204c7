import { errorStatus, isErrorCode } from '../../../src/core/errors.ts';
import type { FuzzRequest } from './types.ts';
import { OAUTH_ERRORS } from './oidc.ts';

/**
 * How long an answer to bad input may take before it counts as a hang (issue 5). It is a hang bound,
 * not a speed claim: how fast bad input is answered is measured and reported (the reliability table's
 * slowest answer), and a loaded machine must not turn a slow answer into a failed run (issue 18).
 */
export const ANSWER_BOUND_MS = 10_000;

/** What any answer to bad input must be; returns the problem, or null. */
export function judge(request: FuzzRequest, answer: { status: number; contentType: string; body: string }, ms: number): string | null {
  const oauth = /^\/(oidc|\.well-known)(\/|$|\?)/.test(request.url);
  const where = `${request.method} ${request.url.slice(0, 120)} -> ${answer.status}`;
  if (answer.status >= 500) return `${where}: server error ${answer.body.slice(0, 300)}`;
  if (ms >= ANSWER_BOUND_MS) return `${where}: answered after ${ms.toFixed(0)} ms`;
  if (answer.status >= 400 && answer.contentType.startsWith('application/json')) {
    let error: unknown;
    try {
      error = JSON.parse(answer.body).error;
    } catch {
      return `${where}: error body is not JSON: ${answer.body.slice(0, 200)}`;
    }
    // The OpenID provider speaks OAuth 2.0: its errors come from the OAuth error registry.
    if (oauth && typeof error === 'string' && OAUTH_ERRORS.has(error)) return null;
    if (typeof error !== 'string' || !isErrorCode(error)) return `${where}: unregistered error ${JSON.stringify(error)}`;
    if (errorStatus(error) !== answer.status) return `${where}: ${error} belongs with ${errorStatus(error)}`;
  } else if (oauth && answer.status === 404 && answer.contentType.startsWith('text/plain')) {
    // Known, reported to the owner of src/oidc: a method a provider route does not take (PUT
    // /oidc/token) gets Koa's bare "Not Found" rather than a JSON error. A 4xx, nothing worse.
    return null;
  } else if (answer.status >= 400 && !answer.contentType.startsWith('text/html')) {
    return `${where}: error answered as ${answer.contentType || 'no content type'}`;
  }
  return null;
}

