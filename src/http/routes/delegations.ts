import { grantDelegation, listDelegations, revokeDelegation } from '../../services/nhi/delegations.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { delegationBody, idParams } from '../schemas.ts';

const DELEGATION = {
  type: 'object',
  required: ['id', 'clientId', 'agentName', 'scopes', 'createdAt', 'expiresAt', 'lastUsedAt', 'status', 'revokedReason'],
  properties: {
    id: { type: 'string' },
    clientId: { type: 'string', description: "The agent workload's client id" },
    agentName: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time', description: 'Last token exchange under it' },
    status: { type: 'string', enum: ['active', 'expired', 'revoked'] },
    revokedReason: { type: ['string', 'null'] },
  },
} as const;

/** A person's delegations to agent workloads (docs/nhi.md "Delegation to agents"; "Agents acting for you" on /account). */
export const delegationRoutes: readonly ApiRoute[] = [
  route<{ clientId: string; scopes: string[]; expiresIn: number }>({
    method: 'POST',
    path: '/api/v1/delegations',
    summary: 'Let an agent act for you (RFC 8693 token exchange) with these scopes until expiresIn seconds from now; replaces your live delegation to that agent (fresh passkey sign-in)',
    access: { fresh: true },
    body: { schema: delegationBody },
    responses: { 201: { description: 'The delegation', schema: DELEGATION } },
    handler: async ({ deps, reply, body, context, active }) => {
      const result = await grantDelegation(deps, active, body, context);
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(201).send(result.value);
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/delegations',
    summary: 'Agents acting for you: your delegations, newest first, live and ended',
    access: 'session',
    responses: { 200: { description: 'Delegations', schema: { type: 'object', required: ['delegations'], properties: { delegations: { type: 'array', items: DELEGATION } } } } },
    handler: async ({ deps, reply, active }) => reply.send({ delegations: await listDelegations(deps, active) }),
  }),
  route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/api/v1/delegations/:id',
    summary: "Revoke a delegation: the agent's next token exchange for you is refused",
    access: 'session',
    params: idParams,
    responses: { 204: 'Revoked' },
    handler: async ({ deps, reply, params, context, active }) => {
      const result = await revokeDelegation(deps, active, params.id, context);
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send();
    },
  }),
];
