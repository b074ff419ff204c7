import type { FastifyInstance } from 'fastify';
import { beginDeliveredBinding, confirmDeliveredBinding } from '../../services/codes/deliveredBinding.ts';
import { listFactors, removeCodeFactor } from '../../services/codes/factors.ts';
import type { Deps } from '../../services/deps.ts';
import { authenticate } from '../auth.ts';
import { requestContext } from '../context.ts';
import { sendFailure } from '../reply.ts';
import { codeSignInVerifyBody, idParams, smsBindBody } from '../schemas.ts';

/** Every sign-in method with its strength; binding SMS and email codes; removing a code factor. */
export function registerFactorRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/api/v1/factors', async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return sendFailure(reply, active);
    return reply.send({ factors: await listFactors(deps, active.value.account) });
  });

  app.delete<{ Params: { id: string } }>('/api/v1/factors/:id', { schema: { params: idParams } }, async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return sendFailure(reply, active);
    const result = await removeCodeFactor(deps, active.value, request.params.id, requestContext(request));
    if (!result.ok) return sendFailure(reply, result);
    return reply.code(204).send();
  });

  const bind = (path: string, factor: 'sms' | 'email') => {
    app.post<{ Body: { phone?: string } }>(path, factor === 'sms' ? { schema: { body: smsBindBody } } : {}, async (request, reply) => {
      const active = await authenticate(deps, request);
      if (!active.ok) return sendFailure(reply, active);
      const phone = factor === 'sms' ? request.body.phone : undefined;
      const result = await beginDeliveredBinding(deps, active.value, { factor, ...(phone !== undefined ? { phone } : {}), context: requestContext(request) });
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(202).send(result.value);
    });
    app.post<{ Body: { attemptId: string; code: string } }>(`${path}/confirm`, { schema: { body: codeSignInVerifyBody } }, async (request, reply) => {
      const active = await authenticate(deps, request);
      if (!active.ok) return sendFailure(reply, active);
      const result = await confirmDeliveredBinding(deps, active.value, { ...request.body, context: requestContext(request) });
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(201).send({ factor: result.value });
    });
  };
  bind('/api/v1/sms', 'sms');
  bind('/api/v1/email-codes', 'email');
}
