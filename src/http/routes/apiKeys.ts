import { createOwnApiKey, listOwnApiKeys, revokeOwnApiKey, rotateOwnApiKey } from '../../services/nhi/ownApiKeys.ts';
import { route, type ApiRoute } from '../declare.ts';
import { sendFailure } from '../reply.ts';
import { idParams } from '../schemas.ts';

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scopes'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    scopes: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9:._/-]+$' } },
    // Seconds; at most KEYBOUND_API_KEY_MAX_TTL (the service says so), which is also the default.
    expiresIn: { type: 'integer', minimum: 1, maximum: 31_622_400 },
  },
} as const;

const rotateBody = {
  type: 'object',
  additionalProperties: false,
  properties: { overlap: { type: 'integer', minimum: 0, maximum: 2_592_000 } },
} as const;

const CREATED = '{"id", "key", "expiresAt"}: the key is shown here once and never again';

/** A person's own API keys (docs/nhi.md "Your own keys"); the scopes they may give them: KEYBOUND_API_KEY_SELF_SCOPES. */
export const apiKeyRoutes: readonly ApiRoute[] = [
  route({
    method: 'GET',
    path: '/api/v1/account/api-keys',
    summary: 'Your API keys (never the keys themselves), and the scopes you may give a new one',
    access: 'session',
    responses: { 200: '{"apiKeys": [{"id", "name", "scopes", "status", "created_at", "expires_at", "last_used_at", "replaced_by", ...}], "selfScopes"}' },
    handler: async ({ deps, reply, active }) => reply.header('cache-control', 'no-store').send({ apiKeys: await listOwnApiKeys(deps, active), selfScopes: deps.config.nhi.apiKeySelfScopes }),
  }),
  route<{ name: string; scopes: string[]; expiresIn?: number }>({
    method: 'POST',
    path: '/api/v1/account/api-keys',
    summary: 'Make an API key for yourself, with scopes of KEYBOUND_API_KEY_SELF_SCOPES and an expiry (fresh passkey sign-in)',
    access: { fresh: true },
    body: { schema: createBody },
    responses: { 201: CREATED },
    handler: async ({ deps, reply, body, context, active }) => {
      const made = await createOwnApiKey(deps, active, { name: body.name, scopes: body.scopes, expiresInS: body.expiresIn ?? null }, context);
      if (!made.ok) return sendFailure(reply, made);
      return reply.code(201).header('cache-control', 'no-store').send(made.value);
    },
  }),
  route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/api/v1/account/api-keys/:id',
    summary: 'Revoke one of your API keys: its next check fails, on every instance',
    access: 'session',
    params: idParams,
    responses: { 204: 'Revoked' },
    handler: async ({ deps, reply, params, active }) => {
      const done = await revokeOwnApiKey(deps, active, params.id);
      if (!done.ok) return sendFailure(reply, done);
      return reply.code(204).send();
    },
  }),
  route<{ overlap?: number }, { id: string }>({
    method: 'POST',
    path: '/api/v1/account/api-keys/:id/rotate',
    summary: 'Replace one of your API keys: a new key (shown once), the old one valid `overlap` seconds more (default 0) (fresh passkey sign-in)',
    access: { fresh: true },
    params: idParams,
    body: { schema: rotateBody },
    responses: { 201: `${CREATED}, with "replaces" and "previousValidUntil"` },
    handler: async ({ deps, reply, params, body, active }) => {
      const rotated = await rotateOwnApiKey(deps, active, params.id, { overlapS: body?.overlap ?? 0 });
      if (!rotated.ok) return sendFailure(reply, rotated);
      return reply.code(201).header('cache-control', 'no-store').send(rotated.value);
    },
  }),
];
