import { STRENGTH, nistAccepted, type CodeFactor } from '../../codes/factors.ts';
import { startCodeSignIn } from '../../services/codes/signInStart.ts';
import { verifyCodeSignIn, type CodeSignedIn } from '../../services/codes/signInVerify.ts';
import { setSessionCookie } from '../context.ts';
import { route, type ApiRoute } from '../declare.ts';
import { SIGNED_IN } from '../openapi.ts';
import { sendFailure } from '../reply.ts';
import { codeSignInStartBody, codeSignInVerifyBody } from '../schemas.ts';
import { signedInBody } from './session.ts';

/** What a code sign-in answers: the sign-in, and what the factor is worth, so no client forgets. */
export function codeSignedInBody(signedIn: CodeSignedIn) {
  return {
    ...signedInBody(signedIn),
    factor: { kind: signedIn.factor, strength: STRENGTH[signedIn.factor], phishingResistant: false, nistAccepted: nistAccepted(signedIn.factor) },
    notice: 'You signed in with a one-time code, which can be phished. A passkey is safer: add one on your account page.',
  };
}

/** Sign-in with a one-time code (README "One-time codes"). */
export const codeRoutes: readonly ApiRoute[] = [
  route<{ username: string; factor: CodeFactor }>({
    method: 'POST',
    path: '/api/v1/codes/sign-in/start',
    summary: 'Start a sign-in with a one-time code; SMS and email codes are sent. Answers alike for any username.',
    access: 'anyone',
    body: { schema: codeSignInStartBody },
    rateLimit: 'ceremony',
    responses: { 200: '{"attemptId"}' },
    handler: async ({ deps, reply, body, context }) => {
      const result = await startCodeSignIn(deps, { ...body, context });
      if (!result.ok) return sendFailure(reply, result);
      return reply.send(result.value);
    },
  }),
  route<{ attemptId: string; code: string }>({
    method: 'POST',
    path: '/api/v1/codes/sign-in/verify',
    summary: 'Finish a code sign-in (AAL1); sets the session cookie',
    access: 'anyone',
    // A sign-in in a browser holding a recovery session replaces it, as any sign-in does.
    recovery: true,
    body: { schema: codeSignInVerifyBody },
    rateLimit: 'ceremony',
    responses: { 200: { description: 'Signed in', schema: SIGNED_IN } },
    handler: async ({ deps, reply, body, context, session }) => {
      const presented = await session();
      const result = await verifyCodeSignIn(deps, { ...body, context, presentedSessionId: presented.ok ? presented.value.session.id : null });
      if (!result.ok) return sendFailure(reply, result);
      setSessionCookie(reply, deps.config, result.value.token, result.value.session, deps.clock());
      return reply.send(codeSignedInBody(result.value));
    },
  }),
];
