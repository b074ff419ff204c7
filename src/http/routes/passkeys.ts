import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../services/deps.ts';
import { beginAuthentication, finishAuthentication } from '../../services/passkeys/authentication.ts';
import { summarisePasskey } from '../../services/passkeys/management.ts';
import { beginRegistration, finishRegistration } from '../../services/passkeys/registration.ts';
import { authenticate, ceremonyRateLimit } from '../auth.ts';
import { requestContext, setSessionCookie } from '../context.ts';
import { sendFailure } from '../reply.ts';
import { authenticationOptionsBody, authenticationVerifyBody, registrationOptionsBody, registrationVerifyBody } from '../schemas.ts';
import { signedInBody } from './session.ts';

/** The passkey ceremonies of the JSON API (README "JSON API"). */
export function registerPasskeyRoutes(app: FastifyInstance, deps: Deps): void {
  const preHandler = ceremonyRateLimit(deps);

  app.post<{ Body: { enrolmentToken?: string } }>(
    '/api/v1/passkeys/registration/options',
    { schema: { body: registrationOptionsBody }, preHandler },
    async (request, reply) => {
      let options;
      if (request.body.enrolmentToken !== undefined) {
        options = await beginRegistration(deps, { enrolmentToken: request.body.enrolmentToken });
      } else {
        const active = await authenticate(deps, request);
        if (!active.ok) return sendFailure(reply, active);
        options = await beginRegistration(deps, active.value);
      }
      if (!options.ok) return sendFailure(reply, options);
      return reply.send(options.value);
    },
  );

  app.post<{ Body: { response: RegistrationResponseJSON; nickname?: string } }>(
    '/api/v1/passkeys/registration/verify',
    { schema: { body: registrationVerifyBody }, preHandler },
    async (request, reply) => {
      const active = await authenticate(deps, request);
      const result = await finishRegistration(deps, {
        response: request.body.response,
        nickname: request.body.nickname,
        context: requestContext(request),
        session: active.ok ? active.value.session : null,
      });
      if (!result.ok) return sendFailure(reply, result);
      const { passkey, signedIn } = result.value;
      if (signedIn) setSessionCookie(reply, deps.config, signedIn.token, signedIn.session, deps.clock());
      return reply.code(201).send({ passkey: summarisePasskey(passkey), ...(signedIn ? signedInBody(signedIn) : {}) });
    },
  );

  app.post<{ Body: { username?: string } }>(
    '/api/v1/passkeys/authentication/options',
    { schema: { body: authenticationOptionsBody }, preHandler },
    async (request, reply) => reply.send(await beginAuthentication(deps, { username: request.body.username })),
  );

  app.post<{ Body: { response: AuthenticationResponseJSON } }>(
    '/api/v1/passkeys/authentication/verify',
    { schema: { body: authenticationVerifyBody }, preHandler },
    async (request, reply) => {
      const result = await finishAuthentication(deps, { response: request.body.response, context: requestContext(request) });
      if (!result.ok) return sendFailure(reply, result);
      setSessionCookie(reply, deps.config, result.value.token, result.value.session, deps.clock());
      return reply.send(signedInBody(result.value));
    },
  );
}
