import { beginTotpEnrolment, confirmTotpEnrolment } from '../../services/codes/totpEnrolment.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { codeConfirmBody } from '../schemas.ts';

/** Binding an authenticator app (TOTP) from the account page. */
export const totpRoutes: readonly ApiRoute[] = [
  route({
    method: 'POST',
    path: '/api/v1/totp',
    summary: 'Start binding an authenticator app (fresh passkey sign-in)',
    access: { fresh: true },
    responses: { 201: '{"otpauthUri", "qrSvg"}' },
    handler: async ({ deps, reply, context, active }) => {
      const result = await beginTotpEnrolment(deps, active, context);
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(201).send(result.value);
    },
  }),
  route<{ code: string }>({
    method: 'POST',
    path: '/api/v1/totp/confirm',
    // The session was fresh when the binding began; the service checks that, and that its passkey is still usable.
    summary: 'Confirm the app with a first code',
    access: 'session',
    body: { schema: codeConfirmBody },
    responses: { 200: '{"factor"}' },
    handler: async ({ deps, reply, body, context, active }) => {
      const result = await confirmTotpEnrolment(deps, active, { code: body.code, context });
      if (!result.ok) return sendFailure(reply, result);
      return reply.send({ factor: result.value });
    },
  }),
];
