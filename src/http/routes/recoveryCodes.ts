import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../services/deps.ts';
import { generateRecoveryCodes } from '../../services/codes/recoveryCodes.ts';
import { authenticate } from '../auth.ts';
import { requestContext } from '../context.ts';
import { sendFailure } from '../reply.ts';

/** A new set of recovery codes, shown once (fresh passkey session). */
export function registerRecoveryCodeRoutes(app: FastifyInstance, deps: Deps): void {
  app.post('/api/v1/recovery-codes', async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return sendFailure(reply, active);
    const result = await generateRecoveryCodes(deps, active.value, requestContext(request));
    if (!result.ok) return sendFailure(reply, result);
    return reply.code(201).send(result.value);
  });
}
