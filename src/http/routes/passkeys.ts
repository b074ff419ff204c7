import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { beginAuthentication, finishAuthentication } from '../../services/passkeys/authentication.ts';
import { summarisePasskey } from '../../services/passkeys/management.ts';
import { beginRegistration, finishRegistration } from '../../services/passkeys/registration.ts';
import { setSessionCookie } from '../context.ts';
import { route, type ApiRoute } from '../declare.ts';
import { SIGNED_IN } from '../openapi.ts';
import { sendFailure } from '../reply.ts';
import { authenticationOptionsBody, authenticationVerifyBody, registrationOptionsBody, registrationVerifyBody } from '../schemas.ts';
import { signedInBody } from './session.ts';

/** The passkey ceremonies of the JSON API (README "JSON API"). */
export const passkeyRoutes: readonly ApiRoute[] = [
  route<{ enrolmentToken?: string }>({
    method: 'POST',
    path: '/api/v1/passkeys/registration/options',
    summary: 'Start a passkey registration with an enrolment token, or (with a fresh session) to add a passkey',
    // Anyone holding an enrolment link; without one, the registration service asks for a fresh
    // session, or a recovery session, whose one purpose this is (README "Recovery").
    access: 'anyone',
    recovery: true,
    body: { schema: registrationOptionsBody },
    rateLimit: 'ceremony',
    responses: { 200: 'PublicKeyCredentialCreationOptionsJSON' },
    handler: async ({ deps, reply, body, session }) => {
      let options;
      if (body.enrolmentToken !== undefined) {
        options = await beginRegistration(deps, { enrolmentToken: body.enrolmentToken });
      } else {
        const active = await session();
        if (!active.ok) return sendFailure(reply, active);
        options = await beginRegistration(deps, active.value);
      }
      if (!options.ok) return sendFailure(reply, options);
      return reply.send(options.value);
    },
  }),
  route<{ response: RegistrationResponseJSON; nickname?: string }>({
    method: 'POST',
    path: '/api/v1/passkeys/registration/verify',
    summary: 'Finish a registration; an enrolment or a recovery also signs in and sets the session cookie',
    access: 'anyone',
    recovery: true,
    body: { schema: registrationVerifyBody },
    rateLimit: 'ceremony',
    responses: { 201: 'The passkey summary (and the sign-in for an enrolment)' },
    handler: async ({ deps, reply, body, context, session }) => {
      const active = await session();
      const result = await finishRegistration(deps, { response: body.response, nickname: body.nickname, context, session: active.ok ? active.value.session : null });
      if (!result.ok) return sendFailure(reply, result);
      const { passkey, signedIn } = result.value;
      if (signedIn) setSessionCookie(reply, deps.config, signedIn.token, signedIn.session, deps.clock());
      return reply.code(201).send({ passkey: summarisePasskey(passkey), ...(signedIn ? signedInBody(signedIn) : {}) });
    },
  }),
  route<{ username?: string }>({
    method: 'POST',
    path: '/api/v1/passkeys/authentication/options',
    summary: 'Start a passkey sign-in, usernameless ({}) or username-first',
    access: 'anyone',
    body: { schema: authenticationOptionsBody },
    rateLimit: 'ceremony',
    responses: { 200: 'PublicKeyCredentialRequestOptionsJSON' },
    handler: async ({ deps, reply, body }) => reply.send(await beginAuthentication(deps, { username: body.username })),
  }),
  route<{ response: AuthenticationResponseJSON }>({
    method: 'POST',
    path: '/api/v1/passkeys/authentication/verify',
    summary: 'Finish a sign-in; sets the session cookie',
    access: 'anyone',
    // A passkey sign-in in a browser holding a recovery session replaces it, as any sign-in does.
    recovery: true,
    body: { schema: authenticationVerifyBody },
    rateLimit: 'ceremony',
    responses: { 200: { description: 'Signed in', schema: SIGNED_IN } },
    handler: async ({ deps, reply, body, context, session }) => {
      const presented = await session();
      const result = await finishAuthentication(deps, { response: body.response, context, presentedSessionId: presented.ok ? presented.value.session.id : null });
      if (!result.ok) return sendFailure(reply, result);
      setSessionCookie(reply, deps.config, result.value.token, result.value.session, deps.clock());
      return reply.send(signedInBody(result.value));
    },
  }),
];
