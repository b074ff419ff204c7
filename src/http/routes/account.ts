import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../services/deps.ts';
import { listPasskeys, removePasskey, renamePasskey } from '../../services/passkeys/management.ts';
import { isFresh } from '../../services/sessions.ts';
import { authenticate } from '../auth.ts';
import { requestContext } from '../context.ts';
import { sendFailure } from '../reply.ts';
import { idParams, renamePasskeyBody } from '../schemas.ts';

/** The signed-in holder's own passkeys. */
export function registerAccountRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/api/v1/passkeys', async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return sendFailure(reply, active);
    return reply.send({ passkeys: await listPasskeys(deps, active.value.account.id) });
  });

  app.patch<{ Params: { id: string }; Body: { nickname: string } }>(
    '/api/v1/passkeys/:id',
    { schema: { params: idParams, body: renamePasskeyBody } },
    async (request, reply) => {
      const active = await authenticate(deps, request);
      if (!active.ok) return sendFailure(reply, active);
      const result = await renamePasskey(deps, active.value, request.params.id, request.body.nickname.trim(), requestContext(request));
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/passkeys/:id', { schema: { params: idParams } }, async (request, reply) => {
    const active = await authenticate(deps, request);
    if (!active.ok) return sendFailure(reply, active);
    if (!isFresh(deps, active.value.session)) return sendFailure(reply, { code: 'fresh_auth_required' });
    const result = await removePasskey(deps, active.value, request.params.id, requestContext(request));
    if (!result.ok) return sendFailure(reply, result);
    return reply.code(204).send();
  });
}
