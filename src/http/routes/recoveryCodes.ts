import { generateRecoveryCodes } from '../../services/codes/recoveryCodes.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';

/** A new set of recovery codes, shown once (fresh passkey session). */
export const recoveryCodeRoutes: readonly ApiRoute[] = [
  route({
    method: 'POST',
    path: '/api/v1/recovery-codes',
    summary: 'A new set of 10 recovery codes, shown once (fresh passkey sign-in)',
    access: { fresh: true },
    responses: { 201: '{"codes"}' },
    handler: async ({ deps, reply, context, active }) => {
      const result = await generateRecoveryCodes(deps, active, context);
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(201).send(result.value);
    },
  }),
];
