import type { Config } from '../config/load.ts';
import { ERRORS } from '../core/errors.ts';
import { JSON_TYPE, originRule, type Access, type ApiRoute } from './declare.ts';
import { sessionCookieName } from './context.ts';

const error = { $ref: '#/components/responses/Error' };
const json = (schema: unknown) => ({ content: { [JSON_TYPE]: { schema } } });

/** `/api/v1/passkeys/:id` as OpenAPI writes it: `/api/v1/passkeys/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

/** What a route's access means, in words, for its description. */
function accessInWords(access: Access, config: Config): string | null {
  if (access === 'anyone') return null;
  if (access === 'session') return 'Needs a session.';
  if ('admin' in access) {
    const fresh = access.fresh ? `, fresh: signed in with a passkey within the last ${config.freshAuthMaxAgeMs / 1000} s (KEYBOUND_FRESH_AUTH_MAX_AGE; otherwise 403 fresh_auth_required)` : '';
    return `Needs an administrator's session: an admin account signed in at the admin role's required level (KEYBOUND_ADMIN_MIN_AAL)${fresh}; otherwise 403 admin_required.`;
  }
  const level = access.minAal ? ` at AAL${access.minAal} or above` : '';
  return `Needs a fresh session: a passkey sign-in${level} within the last ${config.freshAuthMaxAgeMs / 1000} s (KEYBOUND_FRESH_AUTH_MAX_AGE), with a passkey that is still usable; otherwise 403 fresh_auth_required.`;
}

function operation(r: ApiRoute, config: Config) {
  const params = r.params as { properties?: Record<string, unknown> } | undefined;
  const query = r.query as { properties?: Record<string, unknown>; required?: string[] } | undefined;
  const parameters = [
    ...Object.entries(params?.properties ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
    ...Object.entries(query?.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema })),
  ];
  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(r.responses)) {
    responses[status] = typeof answer === 'string' ? { description: answer } : { description: answer.description, ...json(answer.schema) };
  }
  for (const status of ['4XX', ...(r.errors ?? []).map(String)]) responses[status] = error;
  const description = [accessInWords(r.access, config), r.rateLimit === 'ceremony' ? 'Rate limited per client address (KEYBOUND_RATE_LIMIT_CEREMONY).' : null].filter(Boolean).join(' ');
  return {
    summary: r.summary,
    ...(description ? { description } : {}),
    ...(r.access !== 'anyone' ? { security: [{ session: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(r.body ? { requestBody: { required: true, content: Object.fromEntries((r.body.types ?? [JSON_TYPE]).map((type) => [type, { schema: r.body!.schema }])) } } : {}),
    responses,
    // The declared gates, as data, for tools and for the test that holds the table to the router.
    'x-keybound-access': r.access,
    'x-keybound-origin': originRule(r),
    ...(r.rateLimit ? { 'x-keybound-rate-limit': r.rateLimit } : {}),
    // Whether a recovery session may call it (README "Recovery"); every other route answers it 403.
    ...(r.recovery ? { 'x-keybound-recovery': true } : {}),
  };
}

/** OpenAPI 3.1 description of `/api/v1`, generated from the route table the server registers. */
export function openApiDocument(config: Config, routes: readonly ApiRoute[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) (paths[openApiPath(r.path)] ??= {})[r.method.toLowerCase()] = operation(r, config);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Keybound API',
      version: '1',
      description:
        'Passkey ceremonies, sessions and account security. Cookie-authenticated calls that change state must come from an allowed Origin, and send any body as application/json (415 unsupported_media_type otherwise).',
    },
    servers: [{ url: config.publicUrl }],
    components: {
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: sessionCookieName(config) } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', enum: Object.keys(ERRORS) },
            message: { type: 'string' },
            retry_after: { type: 'integer', description: 'Seconds to wait, where a limit applies (also in Retry-After).' },
          },
        },
        SignedIn: {
          type: 'object',
          properties: {
            account: { type: 'object' },
            acr: { type: 'string' },
            amr: { type: 'array', items: { type: 'string' } },
            aal: { type: 'integer', enum: [1, 2, 3] },
            session: { type: 'object' },
          },
        },
      },
      responses: { Error: { description: 'A refusal with a stable error code', ...json({ $ref: '#/components/schemas/Error' }) } },
    },
    paths,
  };
}

export const SIGNED_IN = { $ref: '#/components/schemas/SignedIn' };
