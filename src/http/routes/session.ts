import type { Account, Session } from '../../core/model.ts';
import { endOtherSessions, listSessions, revokeSession, signOut } from '../../services/sessions.ts';
import type { SignedIn } from '../../services/signIn.ts';
import { clearSessionCookie } from '../context.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { idParams } from '../schemas.ts';
import { isoTime } from '../../core/time.ts';

export function accountBody(account: Account) {
  return { id: account.id, username: account.username, displayName: account.displayName, role: account.role, status: account.status };
}

export function sessionBody(session: Session, currentId?: string) {
  return {
    id: session.id,
    acr: session.acr,
    amr: session.amr,
    aal: session.aal,
    authTime: isoTime(session.authTime),
    createdAt: isoTime(session.createdAt),
    lastSeenAt: isoTime(session.lastSeenAt),
    expiresAt: isoTime(Math.min(session.expiresAt, session.idleExpiresAt)),
    absoluteExpiresAt: isoTime(session.expiresAt),
    ip: session.ip,
    userAgent: session.userAgent,
    purpose: session.purpose,
    ...(currentId !== undefined ? { current: session.id === currentId } : {}),
  };
}

/** What a successful sign-in answers: the account and the level reached. The token travels only in the cookie. */
export function signedInBody(signedIn: SignedIn) {
  return { account: accountBody(signedIn.account), acr: signedIn.assurance.acr, amr: signedIn.assurance.amr, aal: signedIn.assurance.aal, session: sessionBody(signedIn.session) };
}

/**
 * The current session, sign-out, and the holder's other sessions. A recovery session may use all of
 * them (README "Recovery"): seeing and ending sessions is one of its two powers.
 */
export const sessionRoutes: readonly ApiRoute[] = [
  route({
    method: 'GET',
    path: '/api/v1/session',
    summary: 'The current session',
    access: 'session',
    recovery: true,
    responses: { 200: 'Session' },
    handler: async ({ reply, active: { session, account } }) =>
      reply.send({ account: accountBody(account), acr: session.acr, amr: session.amr, aal: session.aal, session: sessionBody(session) }),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/session',
    summary: 'Sign out',
    access: 'session',
    recovery: true,
    endsSession: true,
    responses: { 204: 'Signed out' },
    handler: async ({ deps, reply, context, active }) => {
      await signOut(deps, active, context);
      return reply.code(204).send();
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/sessions',
    summary: 'Your active sessions',
    access: 'session',
    recovery: true,
    responses: { 200: 'Sessions' },
    handler: async ({ deps, reply, active }) => {
      const sessions = await listSessions(deps, active);
      return reply.send({ sessions: sessions.map((s) => sessionBody(s, active.session.id)) });
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/sessions',
    summary: 'Sign out everywhere else: end every other session of yours (fresh sign-in)',
    access: { fresh: true },
    recovery: true,
    responses: { 200: '{"ended": number}' },
    handler: async ({ deps, reply, context, active }) => {
      const result = await endOtherSessions(deps, active, context);
      if (!result.ok) return sendFailure(reply, result);
      return reply.send(result.value);
    },
  }),
  route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/api/v1/sessions/:id',
    // Access stays `session`: ending your own session is signing out and never needs more; the
    // service asks a fresh sign-in for ending another one (services/sessions.ts revokeSession).
    summary: 'Revoke one of your sessions (another one needs a fresh sign-in)',
    access: 'session',
    recovery: true,
    params: idParams,
    responses: { 204: 'Revoked' },
    handler: async ({ deps, reply, params, context, active }) => {
      const result = await revokeSession(deps, active, params.id, context);
      if (!result.ok) return sendFailure(reply, result);
      if (params.id === active.session.id) clearSessionCookie(reply, deps.config);
      return reply.code(204).send();
    },
  }),
];
