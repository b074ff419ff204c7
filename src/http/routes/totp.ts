import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../services/deps.ts';
import { beginTotpEnrolment, confirmTotpEnrolment } from '../../services/codes/totpEnrolment.ts';
import { authenticate } from '../auth.ts';
import { requestContext } from '../context.ts';
import { sendFailure } from '../reply.ts';
import { codeConfirmBody } from '../schemas.ts';

/** Binding an authenticator app (TOTP) from the account page. */
export function registerTotpRoutes(app: FastifyInstance, deps: Deps): void {
  app.post('/api/v1/totp', async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return sendFailure(reply, active);
    const result = await beginTotpEnrolment(deps, active.value, requestContext(request));
    if (!result.ok) return sendFailure(reply, result);
    return reply.code(201).send(result.value);
  });

  app.post<{ Body: { code: string } }>('/api/v1/totp/confirm', { schema: { body: codeConfirmBody } }, async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return sendFailure(reply, active);
    const result = await confirmTotpEnrolment(deps, active.value, { code: request.body.code, context: requestContext(request) });
    if (!result.ok) return sendFailure(reply, result);
    return reply.send({ factor: result.value });
  });
}
