import { deleteGrant, listGrants } from '../../services/grants.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { idParams } from '../schemas.ts';

/** The signed-in person's OpenID grants: the applications connected to their account (OWASP ASVS 5.0 10.7.3). */
export const grantRoutes: readonly ApiRoute[] = [
  route({
    method: 'GET',
    path: '/api/v1/grants',
    summary: 'Your connected apps: each grant with its application, scopes, resources, when it was made and last used',
    access: 'session',
    responses: { 200: 'Grants' },
    handler: async ({ deps, reply, active }) => reply.send({ grants: await listGrants(deps, active) }),
  }),
  route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/api/v1/grants/:id',
    summary: 'Revoke a connected app: the grant, its refresh tokens and its revocable access tokens (fresh sign-in)',
    access: { fresh: true },
    params: idParams,
    responses: { 204: 'Revoked' },
    handler: async ({ deps, reply, params, context, active }) => {
      const result = await deleteGrant(deps, active, params.id, context);
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send();
    },
  }),
];
