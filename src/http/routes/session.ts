import type { FastifyInstance } from 'fastify';
import type { Account, Session } from '../../core/model.ts';
import type { Deps } from '../../services/deps.ts';
import { listSessions, revokeSession, signOut } from '../../services/sessions.ts';
import type { SignedIn } from '../../services/signIn.ts';
import { authenticate } from '../auth.ts';
import { clearSessionCookie, requestContext } from '../context.ts';
import { sendFailure } from '../reply.ts';
import { idParams } from '../schemas.ts';

export function accountBody(account: Account) {
  return { id: account.id, username: account.username, displayName: account.displayName, role: account.role, status: account.status };
}

export function sessionBody(session: Session, currentId?: string) {
  return {
    id: session.id,
    acr: session.acr,
    amr: session.amr,
    aal: session.aal,
    authTime: new Date(session.authTime).toISOString(),
    createdAt: new Date(session.createdAt).toISOString(),
    lastSeenAt: new Date(session.lastSeenAt).toISOString(),
    expiresAt: new Date(Math.min(session.expiresAt, session.idleExpiresAt)).toISOString(),
    absoluteExpiresAt: new Date(session.expiresAt).toISOString(),
    ip: session.ip,
    userAgent: session.userAgent,
    ...(currentId !== undefined ? { current: session.id === currentId } : {}),
  };
}

/** What a successful sign-in answers: the account and the level reached. The token travels only in the cookie. */
export function signedInBody(signedIn: SignedIn) {
  return { account: accountBody(signedIn.account), acr: signedIn.assurance.acr, amr: signedIn.assurance.amr, aal: signedIn.assurance.aal, session: sessionBody(signedIn.session) };
}

export function registerSessionRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/api/v1/session', async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return sendFailure(reply, active);
    const { session, account } = active.value;
    return reply.send({ account: accountBody(account), acr: session.acr, amr: session.amr, aal: session.aal, session: sessionBody(session) });
  });

  app.delete('/api/v1/session', async (request, reply) => {
    const active = await authenticate(deps, request);
    clearSessionCookie(reply, deps.config);
    if (!active.ok) return sendFailure(reply, active);
    await signOut(deps, active.value, requestContext(request));
    return reply.code(204).send();
  });

  app.get('/api/v1/sessions', async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return sendFailure(reply, active);
    const sessions = await listSessions(deps, active.value);
    return reply.send({ sessions: sessions.map((s) => sessionBody(s, active.value.session.id)) });
  });

  app.delete<{ Params: { id: string } }>('/api/v1/sessions/:id', { schema: { params: idParams } }, async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return sendFailure(reply, active);
    const result = await revokeSession(deps, active.value, request.params.id, requestContext(request));
    if (!result.ok) return sendFailure(reply, result);
    if (request.params.id === active.value.session.id) clearSessionCookie(reply, deps.config);
    return reply.code(204).send();
  });
}
