import type { FastifyReply, FastifyRequest, onRequestHookHandler, onSendHookHandler } from 'fastify';
import type { Config } from '../config/load.ts';
import { sendFailure } from './reply.ts';
import { sessionCookieName } from './context.ts';

const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Sets the headers every answer carries; pages get a strict CSP, JSON is never cached. */
export function setSecurityHeaders(reply: FastifyReply, config: Config): void {
  const type = String(reply.getHeader('content-type') ?? '');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
  reply.header('permissions-policy', 'publickey-credentials-get=(self), publickey-credentials-create=(self), camera=(), microphone=(), geolocation=()');
  if (config.secureCookies) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  if (type.startsWith('text/html')) {
    reply.header('content-security-policy', PAGE_CSP);
    reply.header('cache-control', 'no-store');
  } else if (!reply.hasHeader('content-security-policy')) {
    reply.header('content-security-policy', API_CSP);
  }
  if (type.startsWith('application/json') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
}

/**
 * `setSecurityHeaders` on every answer. Hooks on every request take Fastify's callback form where
 * they do no I/O: an async hook costs each request a promise and a turn of the microtask queue.
 */
export function securityHeaders(config: Config): onSendHookHandler {
  return (_request, reply, payload, done) => {
    setSecurityHeaders(reply, config);
    done(null, payload);
  };
}

/**
 * Cross-site request forgery defence for the cookie-authenticated API: a state-changing request
 * that carries the session cookie must come from an allowed origin (Origin header, or
 * Sec-Fetch-Site: same-origin). Any request naming a foreign Origin is refused outright.
 * The registrar attaches it to each route that declares the rule, so it runs on the route the
 * router chose: a path spelt differently (`/%61pi/v1/...`, which the router decodes) still meets it.
 */
export function originCheck(config: Config): onRequestHookHandler {
  const cookieName = sessionCookieName(config);
  // Callback form (see securityHeaders): a refusal answers and does not call `done`.
  return (request, reply, done) => {
    if (crossSite(request, config, cookieName)) sendFailure(reply, { code: 'origin_not_allowed' });
    else done();
  };
}

function crossSite(request: FastifyRequest, config: Config, cookieName: string): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) return !config.origins.includes(origin);
  const cookieHeader = request.headers.cookie ?? '';
  const hasSession = cookieHeader.split(';').some((part) => part.trim().startsWith(`${cookieName}=`));
  return hasSession && request.headers['sec-fetch-site'] !== 'same-origin';
}
