import { migrationSignIn } from '../../services/migration/signIn.ts';
import { setSessionCookie } from '../context.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { migrationSignInBody } from '../schemas.ts';
import { accountBody, sessionBody } from './session.ts';

/** An imported account's one step from its old password to a passkey (README "Importing accounts"). */
export const migrationRoutes: readonly ApiRoute[] = [
  route<{ username: string; password: string; code?: string }>({
    method: 'POST',
    path: '/api/v1/migration/sign-in',
    summary: 'An imported account signs in with its old password (and imported TOTP code) until its role\'s migration date; sets the cookie of a migration session, which can only add a passkey',
    access: 'anyone',
    // Replaces a recovery or migration session the browser already holds, as a sign-in does.
    recovery: true,
    body: { schema: migrationSignInBody },
    rateLimit: 'ceremony',
    responses: { 200: '{"account", "session", "next"}' },
    handler: async ({ deps, reply, body, context, session }) => {
      const presented = await session();
      const result = await migrationSignIn(deps, { ...body, context, presentedSessionId: presented.ok ? presented.value.session.id : null });
      if (!result.ok) return sendFailure(reply, result);
      setSessionCookie(reply, deps.config, result.value.token, result.value.session, deps.clock());
      return reply.send({
        account: accountBody(result.value.account),
        session: sessionBody(result.value.session),
        next: 'Add your passkey: POST /api/v1/passkeys/registration/options with {} from this session, then verify. That signs you in with it and deletes your old password.',
      });
    },
  }),
];
