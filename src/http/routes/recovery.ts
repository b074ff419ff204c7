import type { CodeFactor } from '../../codes/factors.ts';
import { startRecovery, verifyRecovery, type Recovering } from '../../services/recovery/selfService.ts';
import { setSessionCookie } from '../context.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { recoveryStartBody, recoveryVerifyBody } from '../schemas.ts';
import { accountBody, sessionBody } from './session.ts';

/** What a recovery answers: the recovery session, and what it may do. The token travels only in the cookie. */
export function recoveringBody(recovering: Recovering) {
  return {
    account: accountBody(recovering.account),
    session: sessionBody(recovering.session),
    recoveryCodesLeft: recovering.recoveryCodesLeft,
    next: 'Add a new passkey: POST /api/v1/passkeys/registration/options with {} from this session, then verify. That signs you in and ends every other session.',
  };
}

/** Self-service recovery (README "Recovery"). */
export const recoveryRoutes: readonly ApiRoute[] = [
  route<{ username: string; factor: CodeFactor }>({
    method: 'POST',
    path: '/api/v1/recovery/start',
    summary: 'Start one proof of a self-service recovery (a recovery code, or a second proof); SMS and email codes are sent. Answers alike for any username.',
    access: 'anyone',
    body: { schema: recoveryStartBody },
    rateLimit: 'ceremony',
    responses: { 200: '{"attemptId"}' },
    handler: async ({ deps, reply, body, context }) => {
      const result = await startRecovery(deps, { ...body, context });
      if (!result.ok) return sendFailure(reply, result);
      return reply.send(result.value);
    },
  }),
  route<{ attemptId: string; code: string; proof?: { attemptId: string; code: string } }>({
    method: 'POST',
    path: '/api/v1/recovery/verify',
    summary: 'Finish a recovery: a recovery code and, where the role needs it, a second proof; sets the cookie of a recovery session, which can only add a passkey and manage sessions',
    access: 'anyone',
    // Replaces a recovery session the browser already holds, as a sign-in does.
    recovery: true,
    body: { schema: recoveryVerifyBody },
    rateLimit: 'ceremony',
    responses: { 200: '{"account", "session", "recoveryCodesLeft", "next"}' },
    handler: async ({ deps, reply, body, context, session }) => {
      const presented = await session();
      const result = await verifyRecovery(deps, { ...body, context, presentedSessionId: presented.ok ? presented.value.session.id : null });
      if (!result.ok) return sendFailure(reply, result);
      setSessionCookie(reply, deps.config, result.value.token, result.value.session, deps.clock());
      return reply.send(recoveringBody(result.value));
    },
  }),
];
