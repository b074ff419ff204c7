import { fail } from '../../core/errors.ts';
import { AUDIT_EXPORT_MAX, listAudit, parseSinceValue } from '../../services/auditExport.ts';
import { MAX_REASON } from '../../services/lifecycle.ts';
import { adminListMachines, adminRevokeApiKey, adminSetWorkload } from '../../services/nhi/adminActions.ts';
import { listStreamsForAdmin } from '../../ssf/adminView.ts';
import { route, type ApiRoute, type SessionRouteInput } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { emptyBody, idParams } from '../schemas.ts';

/**
 * What the admin console (README "Admin console") reads and changes besides accounts and approvals:
 * workloads and API keys, Shared Signals streams, and the audit trail as JSON lines. The services
 * check the administrator's session again (services/adminAccess.ts `authorize`).
 */

const clientParams = {
  type: 'object',
  required: ['clientId'],
  properties: { clientId: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9._:~-]+$' } },
} as const;

const reasonBody = { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: MAX_REASON } } } as const;

const ownerQuery = { type: 'object', additionalProperties: false, properties: { owner: { type: 'string', minLength: 1, maxLength: 64 } } } as const;

export const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: { type: 'string', maxLength: 64, pattern: '^[a-z0-9_.]*\\*?$' },
    account: { type: 'string', maxLength: 64 },
    since: { type: 'string', maxLength: 40 },
    limit: { type: 'string', pattern: '^[0-9]{1,5}$' },
  },
} as const;

const actorOf = (input: SessionRouteInput<unknown, unknown>) => ({ kind: 'admin' as const, active: input.active });
type Client = { clientId: string };

export const adminConsoleRoutes: readonly ApiRoute[] = [
  route({
    method: 'GET',
    path: '/api/v1/admin/workloads',
    summary: 'Workloads and API keys with owner, status, keys, rotation and last use (?owner=<username>)',
    access: { admin: true },
    query: ownerQuery,
    responses: { 200: '{"workloads": [...], "apiKeys": [...]}' },
    handler: async (input) => {
      const { owner } = input.request.query as { owner?: string };
      const result = await adminListMachines(input.deps, { actor: actorOf(input), ...(owner ? { owner } : {}) });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(result.value);
    },
  }),
  route<{ reason?: string }, Client>({
    method: 'POST',
    path: '/api/v1/admin/workloads/:clientId/disable',
    summary: 'Disable a workload: its tokens stop being issued and its access tokens stop being accepted',
    access: { admin: true, fresh: true },
    params: clientParams,
    body: { schema: reasonBody },
    responses: { 200: 'The workload' },
    handler: async (input) => {
      const result = await adminSetWorkload(input.deps, { actor: actorOf(input), clientId: input.params.clientId, enabled: false, reason: input.body?.reason ?? null });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(result.value);
    },
  }),
  route<unknown, Client>({
    method: 'POST',
    path: '/api/v1/admin/workloads/:clientId/enable',
    summary: 'Enable a disabled workload (its owner must be active)',
    access: { admin: true, fresh: true },
    params: clientParams,
    body: { schema: emptyBody },
    responses: { 200: 'The workload' },
    handler: async (input) => {
      const result = await adminSetWorkload(input.deps, { actor: actorOf(input), clientId: input.params.clientId, enabled: true });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(result.value);
    },
  }),
  route<{ reason?: string }, { id: string }>({
    method: 'POST',
    path: '/api/v1/admin/api-keys/:id/revoke',
    summary: 'Revoke an API key for good',
    access: { admin: true, fresh: true },
    params: idParams,
    body: { schema: reasonBody },
    responses: { 200: 'The API key' },
    handler: async (input) => {
      const result = await adminRevokeApiKey(input.deps, { actor: actorOf(input), id: input.params.id, reason: input.body?.reason ?? null });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send(result.value);
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/streams',
    summary: 'Shared Signals streams: configuration, status and delivery state (pending, delivered, failed, last failure)',
    access: { admin: true },
    responses: { 200: '{"streams": [...]}' },
    handler: async (input) => {
      const result = await listStreamsForAdmin(input.deps, { actor: actorOf(input) });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply.send({ streams: result.value });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/audit',
    summary: `The audit trail as JSON lines (application/x-ndjson), oldest first: ?type= (exact, or a prefix ending in *), ?account= (username or id), ?since= (ISO 8601 or an age: 30m, 24h, 7d), ?limit= (default 1000, at most ${AUDIT_EXPORT_MAX})`,
    access: { admin: true },
    query: auditQuery,
    responses: { 200: 'One event per line, as `keybound audit list --json` prints them' },
    handler: async (input) => {
      const q = input.request.query as { type?: string; account?: string; since?: string; limit?: string };
      const since = q.since ? parseSinceValue(q.since, input.deps.clock()) : undefined;
      if (since === null) return sendFailure(input.reply, fail('invalid_request', { message: 'since is an ISO 8601 date or time (2026-12-01, 2026-12-01T09:00Z) or an age (30m, 24h, 7d).' }));
      const result = await listAudit(input.deps, { actor: actorOf(input), query: { type: q.type, account: q.account, since, limit: q.limit ? Number(q.limit) : 1000 } });
      if (!result.ok) return sendFailure(input.reply, result);
      return input.reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', 'attachment; filename="keybound-audit.jsonl"')
        .header('cache-control', 'no-store')
        .send(result.value.map((line) => `${JSON.stringify(line)}\n`).join(''));
    },
  }),
];
