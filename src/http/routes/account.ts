import { listPasskeys, removePasskey, renamePasskey } from '../../services/passkeys/management.ts';
import { analyseAccountPaths } from '../../services/paths/analyse.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { idParams, renamePasskeyBody } from '../schemas.ts';

/** The signed-in holder's own passkeys. */
export const accountRoutes: readonly ApiRoute[] = [
  route({
    method: 'GET',
    path: '/api/v1/passkeys',
    summary: 'Your passkeys',
    access: 'session',
    responses: { 200: 'Passkeys' },
    handler: async ({ deps, reply, active }) => reply.send({ passkeys: await listPasskeys(deps, active.account.id) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/account/paths',
    summary: 'Every way into your account, what opens each, its effective level and findings (docs/paths.md)',
    access: 'session',
    responses: { 200: '{"account", "role", "requiredAcr", "effectiveAcr", "paths", "governedPaths", "findings", "advice"}' },
    handler: async ({ deps, reply, active }) => reply.send(await analyseAccountPaths(deps, active.account)),
  }),
  route<{ nickname: string }, { id: string }>({
    method: 'PATCH',
    path: '/api/v1/passkeys/:id',
    summary: 'Rename a passkey',
    access: 'session',
    params: idParams,
    body: { schema: renamePasskeyBody },
    responses: { 204: 'Renamed' },
    handler: async ({ deps, reply, body, params, context, active }) => {
      const result = await renamePasskey(deps, active, params.id, body.nickname.trim(), context);
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send();
    },
  }),
  route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/api/v1/passkeys/:id',
    summary: 'Remove a passkey (fresh sign-in needed; never the last one)',
    access: { fresh: true },
    params: idParams,
    responses: { 204: 'Removed' },
    handler: async ({ deps, reply, params, context, active }) => {
      const result = await removePasskey(deps, active, params.id, context);
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send();
    },
  }),
];
