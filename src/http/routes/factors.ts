import { beginDeliveredBinding, confirmDeliveredBinding } from '../../services/codes/deliveredBinding.ts';
import { listFactors, removeCodeFactor } from '../../services/codes/factors.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { codeSignInVerifyBody, idParams, smsBindBody } from '../schemas.ts';

/** Starting and confirming the binding of SMS or email codes. */
function binding(path: string, factor: 'sms' | 'email', summaries: { begin: string; confirm: string }): ApiRoute[] {
  return [
    route<{ phone?: string }>({
      method: 'POST',
      path,
      summary: summaries.begin,
      access: { fresh: true, minAal: 2 },
      ...(factor === 'sms' ? { body: { schema: smsBindBody } } : {}),
      responses: { 202: '{"attemptId", "notice"}' },
      errors: [502],
      handler: async ({ deps, reply, body, context, active }) => {
        const phone = factor === 'sms' ? body.phone : undefined;
        const result = await beginDeliveredBinding(deps, active, { factor, ...(phone !== undefined ? { phone } : {}), context });
        if (!result.ok) return sendFailure(reply, result);
        return reply.code(202).send(result.value);
      },
    }),
    route<{ attemptId: string; code: string }>({
      method: 'POST',
      path: `${path}/confirm`,
      // Fresh when the binding began: the service checks that, and that the passkey is still usable.
      summary: summaries.confirm,
      access: 'session',
      body: { schema: codeSignInVerifyBody },
      responses: { 201: '{"factor"}' },
      handler: async ({ deps, reply, body, context, active }) => {
        const result = await confirmDeliveredBinding(deps, active, { ...body, context });
        if (!result.ok) return sendFailure(reply, result);
        return reply.code(201).send({ factor: result.value });
      },
    }),
  ];
}

/** Every sign-in method with its strength; binding SMS and email codes; removing a code factor. */
export const factorRoutes: readonly ApiRoute[] = [
  route({
    method: 'GET',
    path: '/api/v1/factors',
    summary: 'Every sign-in method with its strength in words',
    access: 'session',
    responses: { 200: '{"factors"}' },
    handler: async ({ deps, reply, active }) => reply.send({ factors: await listFactors(deps, active.account) }),
  }),
  route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/api/v1/factors/:id',
    summary: 'Remove a code factor (fresh passkey sign-in)',
    access: { fresh: true },
    params: idParams,
    responses: { 204: 'Removed' },
    handler: async ({ deps, reply, params, context, active }) => {
      const result = await removeCodeFactor(deps, active, params.id, context);
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send();
    },
  }),
  ...binding('/api/v1/sms', 'sms', { begin: 'Start binding a phone number (fresh AAL2 passkey sign-in); a code is sent', confirm: 'Confirm the phone number' }),
  ...binding('/api/v1/email-codes', 'email', { begin: "Start binding the account's email address for codes (fresh AAL2 passkey sign-in)", confirm: 'Confirm the address' }),
];
