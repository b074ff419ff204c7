import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Result } from '../core/errors.ts';
import { SCIM } from '../core/scim/user.ts';
import { mediaType } from '../http/gates.ts';
import { requestContext } from '../http/context.ts';
import type { Deps } from '../services/deps.ts';
import { getGroup, listGroups, patchGroup } from '../services/scim/groups.ts';
import { createUser, deleteUser, getUser, listUsers, patchUser, replaceUser, type RenderedUser, type ScimCall } from '../services/scim/users.ts';
import type { ProviderHolder } from '../oidc/holder.ts';
import { authenticateScim } from './auth.ts';
import { resourceTypes, schemas, serviceProviderConfig } from './discovery.ts';
import { SCIM_TYPE, sendScim, sendScimFailure } from './reply.ts';

/** Where SCIM lives (RFC 7644 §3.2 lets the service provider choose its base). */
export const SCIM_PREFIX = '/scim/v2';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface ScimInput {
  readonly deps: Deps;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly body: Record<string, unknown>;
  readonly params: { id: string };
  readonly query: { filter?: string; startIndex?: string; count?: string };
  /** The authenticated caller. */
  readonly call: ScimCall;
}

/**
 * A SCIM route, declared like the JSON API's (http/declare.ts): what it is, who may call it (the
 * discovery documents of RFC 7644 §4: anyone; everything else: a credential with scope `scim`,
 * src/scim/auth.ts), and the schemas of its body and query; `registerScimRoutes` gives each the
 * gates it declares.
 */
interface Declared {
  readonly method: Method;
  /** Under SCIM_PREFIX. */
  readonly path: string;
  readonly summary: string;
  readonly body?: unknown;
  readonly query?: unknown;
}

/** A discovery document (RFC 7644 §4): no credential, nothing but the endpoint's address. */
interface OpenRoute extends Declared {
  readonly access: 'anyone';
  readonly handler: (input: { readonly reply: FastifyReply; readonly base: string }) => Promise<unknown>;
}

/** Everything else: a credential with scope `scim` (src/scim/auth.ts), whose actor the handler gets. */
interface ScimOnlyRoute extends Declared {
  readonly access: 'scim';
  readonly handler: (input: ScimInput) => Promise<unknown>;
}

/**
 * A SCIM route, declared like the JSON API's (http/declare.ts): what it is, who may call it, and
 * the schemas of its body and query; `registerScimRoutes` gives each the gates it declares.
 */
export type ScimRoute = OpenRoute | ScimOnlyRoute;

/** Ids are account ids (UUIDs) and role names: printable, never a control character (PostgreSQL refuses NUL in text). */
const ID = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } }, required: ['id'] } as const;
const INTEGER = { type: 'string', pattern: '^-?[0-9]{1,9}$' } as const;
const LIST_QUERY = { type: 'object', properties: { filter: { type: 'string', maxLength: 1000 }, startIndex: INTEGER, count: INTEGER, attributes: { type: 'string', maxLength: 1000 }, excludedAttributes: { type: 'string', maxLength: 1000 } } } as const;
const TEXT = (max: number) => ({ type: ['string', 'null'], maxLength: max });
/** The attributes kept are bounded here; others a client sends (an enterprise extension, a password) are ignored, never stored. */
const USER_BODY = {
  type: 'object',
  maxProperties: 64,
  properties: {
    schemas: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 256 } },
    userName: { type: 'string', maxLength: 256 },
    externalId: TEXT(255),
    displayName: TEXT(128),
    name: { type: ['object', 'null'], properties: { givenName: TEXT(128), familyName: TEXT(128), formatted: TEXT(300) } },
    active: { anyOf: [{ type: 'boolean' }, { type: 'string', maxLength: 5 }] },
    emails: { type: ['array', 'null'], maxItems: 10, items: { type: 'object', properties: { value: { type: 'string', maxLength: 254 }, type: TEXT(32) } } },
  },
} as const;
const PATCH_BODY = {
  type: 'object',
  required: ['schemas', 'Operations'],
  properties: {
    schemas: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 256 } },
    Operations: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'object', required: ['op'], properties: { op: { type: 'string', maxLength: 10 }, path: { type: 'string', maxLength: 512 } } } },
  },
} as const;

const user = (reply: FastifyReply, result: Result<RenderedUser>, status = 200) =>
  result.ok ? sendScim(reply, status, result.value.resource, result.value.etag) : sendScimFailure(reply, result);
const plain = (reply: FastifyReply, result: Result<unknown>) => (result.ok ? sendScim(reply, 200, result.value) : sendScimFailure(reply, result));
const ifMatch = (request: FastifyRequest) => (typeof request.headers['if-match'] === 'string' ? request.headers['if-match'] : undefined);
const integer = (value: string | undefined) => (value === undefined ? undefined : Number(value));

export const SCIM_ROUTES: readonly ScimRoute[] = [
  { method: 'GET', path: '/ServiceProviderConfig', summary: 'RFC 7643 §5', access: 'anyone', handler: async ({ reply, base }) => sendScim(reply, 200, serviceProviderConfig(base)) },
  {
    method: 'GET',
    path: '/ResourceTypes',
    summary: 'RFC 7643 §6',
    access: 'anyone',
    handler: async ({ reply, base }) => {
      const types = resourceTypes(base);
      return sendScim(reply, 200, { schemas: [SCIM.list], totalResults: types.length, startIndex: 1, itemsPerPage: types.length, Resources: types });
    },
  },
  {
    method: 'GET',
    path: '/Schemas',
    summary: 'RFC 7643 §7',
    access: 'anyone',
    handler: async ({ reply, base }) => {
      const all = schemas(base);
      return sendScim(reply, 200, { schemas: [SCIM.list], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all });
    },
  },
  {
    method: 'GET',
    path: '/Users',
    summary: 'List users: filter (eq on userName, emails, externalId), startIndex, count',
    access: 'scim',
    query: LIST_QUERY,
    handler: async ({ deps, reply, query, call }) => {
      const startIndex = integer(query.startIndex);
      const count = integer(query.count);
      return plain(reply, await listUsers(deps, { ...(query.filter !== undefined ? { filter: query.filter } : {}), ...(startIndex !== undefined ? { startIndex } : {}), ...(count !== undefined ? { count } : {}), base: call.base }));
    },
  },
  { method: 'POST', path: '/Users', summary: 'Create a user: an invited account, its enrolment link sent by email', access: 'scim', body: USER_BODY, handler: async ({ deps, reply, body, call }) => user(reply, await createUser(deps, call, body), 201) },
  { method: 'GET', path: '/Users/:id', summary: 'A user', access: 'scim', handler: async ({ deps, reply, params, call }) => user(reply, await getUser(deps, params.id, call.base)) },
  { method: 'PUT', path: '/Users/:id', summary: 'Replace a user (If-Match honoured)', access: 'scim', body: USER_BODY, handler: async ({ deps, request, reply, params, body, call }) => user(reply, await replaceUser(deps, call, params.id, body, ifMatch(request))) },
  { method: 'PATCH', path: '/Users/:id', summary: 'Change a user (If-Match honoured); active false suspends, true resumes', access: 'scim', body: PATCH_BODY, handler: async ({ deps, request, reply, params, body, call }) => user(reply, await patchUser(deps, call, params.id, body, ifMatch(request))) },
  {
    method: 'DELETE',
    path: '/Users/:id',
    summary: 'Offboard a user (If-Match honoured)',
    access: 'scim',
    handler: async ({ deps, request, reply, params, call }) => {
      const done = await deleteUser(deps, call, params.id, ifMatch(request));
      return done.ok ? reply.code(204).send() : sendScimFailure(reply, done);
    },
  },
  { method: 'GET', path: '/Groups', summary: 'The roles as groups; filter displayName eq', access: 'scim', query: LIST_QUERY, handler: async ({ deps, reply, query, call }) => plain(reply, await listGroups(deps, { ...(query.filter !== undefined ? { filter: query.filter } : {}), base: call.base })) },
  { method: 'GET', path: '/Groups/:id', summary: 'A role as a group, with its members', access: 'scim', handler: async ({ deps, reply, params, call }) => plain(reply, await getGroup(deps, params.id, call.base)) },
  { method: 'PATCH', path: '/Groups/:id', summary: 'Add members to a role (the admin group is read-only)', access: 'scim', body: PATCH_BODY, handler: async ({ deps, reply, params, body, call }) => plain(reply, await patchGroup(deps, call, params.id, body)) },
];

const BODY_TYPES = [SCIM_TYPE, 'application/json'];

/**
 * Registers the SCIM table under SCIM_PREFIX, in its own scope: `application/scim+json` bodies
 * (RFC 7644 §3.1) parsed as JSON, and every refusal, not-found and invalid input answered in the
 * SCIM error format. Gates, in order: the body's media type (before it is read), the schemas, then
 * the credential for `scim` routes.
 */
export async function registerScimRoutes(app: FastifyInstance, deps: Deps, holder: ProviderHolder): Promise<void> {
  const base = `${deps.config.publicUrl}${SCIM_PREFIX}`;
  await app.register(
    async (scope) => {
      scope.addContentTypeParser(SCIM_TYPE, { parseAs: 'string' }, scope.getDefaultJsonParser('error', 'error'));
      scope.setNotFoundHandler(async (_request, reply) => sendScimFailure(reply, { code: 'scim_not_found', message: 'There is nothing at this address.' }));
      scope.setErrorHandler(async (error: FastifyError, request, reply) => {
        const status = error.statusCode ?? 500;
        if (status >= 400 && status < 500) {
          // RFC 7644 §3.12: a filter too long to parse is an invalid filter.
          if (error.validation && error.validationContext === 'querystring' && error.validation.some((v) => v.instancePath === '/filter')) return sendScimFailure(reply, { code: 'scim_invalid_filter', message: `Invalid request: ${error.message}.` });
          if (error.validation) return sendScimFailure(reply, { code: 'scim_invalid_value', message: `Invalid request: ${error.message}.` });
          if (status === 413) return sendScimFailure(reply, { code: 'request_too_large' });
          if (status === 415) return sendScimFailure(reply, { code: 'unsupported_media_type', message: `Send the body as ${BODY_TYPES.join(' or ')}.` });
          return sendScimFailure(reply, { code: 'scim_invalid_syntax' });
        }
        throw error;
      });
      for (const r of SCIM_ROUTES) {
        scope.route({
          method: r.method,
          url: r.path,
          config: { declared: true },
          schema: { ...(r.body ? { body: r.body } : {}), ...(r.path.includes(':id') ? { params: ID } : {}), ...(r.query ? { querystring: r.query } : {}) },
          onRequest: async (request, reply) => {
            reply.header('cache-control', 'no-store');
            const length = request.headers['content-length'];
            const hasBody = length !== undefined ? Number(length) > 0 : request.headers['transfer-encoding'] !== undefined;
            if (hasBody && !BODY_TYPES.includes(mediaType(request.headers['content-type']))) {
              return sendScimFailure(reply, { code: 'unsupported_media_type', message: `Send the body as ${BODY_TYPES.join(' or ')}.` });
            }
          },
          handler: async (request, reply) => {
            if (r.access === 'anyone') return r.handler({ reply, base });
            const admitted = await authenticateScim(deps, holder, request);
            if (!admitted.ok) {
              // RFC 6750 §3.
              if (admitted.code === 'scim_token_required') reply.header('www-authenticate', 'Bearer');
              if (admitted.code === 'scim_token_invalid') reply.header('www-authenticate', 'Bearer error="invalid_token"');
              if (admitted.code === 'scim_scope_required') reply.header('www-authenticate', 'Bearer error="insufficient_scope", scope="scim"');
              return sendScimFailure(reply, admitted);
            }
            const call: ScimCall = { actor: admitted.value, context: requestContext(request), base };
            return r.handler({ deps, request, reply, body: (request.body ?? {}) as Record<string, unknown>, params: request.params as { id: string }, query: (request.query ?? {}) as ScimInput['query'], call });
          },
        });
      }
    },
    { prefix: SCIM_PREFIX },
  );
}
