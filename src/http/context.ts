import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/load.ts';
import type { RequestContext, Session } from '../core/model.ts';

const MAX_USER_AGENT = 512;
/** Longest client address kept (an IPv6 address with a zone fits): it is stored and keys rate limits. */
const MAX_ADDRESS = 64;

/** The client's address, bounded (behind a proxy it is text the proxy wrote). */
export function clientAddress(request: FastifyRequest): string {
  return request.ip.slice(0, MAX_ADDRESS);
}

export function requestContext(request: FastifyRequest): RequestContext {
  const ua = request.headers['user-agent'];
  return { ip: clientAddress(request), userAgent: typeof ua === 'string' ? ua.slice(0, MAX_USER_AGENT) : '' };
}

/** `__Host-` pins the cookie to this host, HTTPS and path `/`; it needs Secure, so plain-HTTP localhost uses a plain name. */
export function sessionCookieName(config: Config): string {
  return config.secureCookies ? '__Host-keybound_session' : 'keybound_session';
}

export function sessionToken(request: FastifyRequest, config: Config): string | undefined {
  return request.cookies[sessionCookieName(config)];
}

export function setSessionCookie(reply: FastifyReply, config: Config, token: string, session: Session, now: number): void {
  reply.setCookie(sessionCookieName(config), token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: config.secureCookies,
    maxAge: Math.max(0, Math.floor((session.expiresAt - now) / 1000)),
  });
}

export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(sessionCookieName(config), { path: '/', httpOnly: true, sameSite: 'lax', secure: config.secureCookies });
}
