import type { FastifyInstance } from 'fastify';
import { STRENGTH, nistAccepted, type CodeFactor } from '../../codes/factors.ts';
import { startCodeSignIn } from '../../services/codes/signInStart.ts';
import { verifyCodeSignIn, type CodeSignedIn } from '../../services/codes/signInVerify.ts';
import type { Deps } from '../../services/deps.ts';
import { ceremonyRateLimit } from '../auth.ts';
import { requestContext, setSessionCookie } from '../context.ts';
import { sendFailure } from '../reply.ts';
import { codeSignInStartBody, codeSignInVerifyBody } from '../schemas.ts';
import { signedInBody } from './session.ts';

/** What a code sign-in answers: the sign-in, and what the factor is worth, so no client forgets. */
export function codeSignedInBody(signedIn: CodeSignedIn) {
  return {
    ...signedInBody(signedIn),
    factor: { kind: signedIn.factor, strength: STRENGTH[signedIn.factor], phishingResistant: false, nistAccepted: nistAccepted(signedIn.factor) },
    ...(signedIn.recoveryCodesLeft !== undefined ? { recoveryCodesLeft: signedIn.recoveryCodesLeft } : {}),
    notice: 'You signed in with a one-time code, which can be phished. A passkey is safer: add one on your account page.',
  };
}

/** Sign-in with a one-time code (README "One-time codes"). */
export function registerCodeRoutes(app: FastifyInstance, deps: Deps): void {
  const preHandler = ceremonyRateLimit(deps);

  app.post<{ Body: { username: string; factor: CodeFactor } }>('/api/v1/codes/sign-in/start', { schema: { body: codeSignInStartBody }, preHandler }, async (request, reply) => {
    const result = await startCodeSignIn(deps, { ...request.body, context: requestContext(request) });
    if (!result.ok) return sendFailure(reply, result);
    return reply.send(result.value);
  });

  app.post<{ Body: { attemptId: string; code: string } }>('/api/v1/codes/sign-in/verify', { schema: { body: codeSignInVerifyBody }, preHandler }, async (request, reply) => {
    const result = await verifyCodeSignIn(deps, { ...request.body, context: requestContext(request) });
    if (!result.ok) return sendFailure(reply, result);
    setSessionCookie(reply, deps.config, result.value.token, result.value.session, deps.clock());
    return reply.send(codeSignedInBody(result.value));
  });
}
