import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import type { Result } from '../core/errors.ts';
import type { Deps } from '../services/deps.ts';
import type { ActiveSession } from '../services/sessions.ts';
import { ceremonyRateLimit } from './auth.ts';
import { clearSessionCookie, requestContext } from './context.ts';
import { changesState, JSON_TYPE, originRule, type ApiRoute } from './declare.ts';
import { admit, contentTypeGate } from './gates.ts';
import { sendFailure } from './reply.ts';
import { originCheck } from './security.ts';

const API_PREFIX = '/api/';

/**
 * Refuses, at start, any route under /api/ that is not registered from the table: a handler added
 * by hand would have no declared gates, and OpenAPI would not know it. Call before any route.
 */
export function requireDeclaredApiRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (options) => {
    const declared = (options.config as { declared?: boolean } | undefined)?.declared === true;
    if ((options.url.startsWith(API_PREFIX) || options.url.startsWith('/scim/')) && !declared) throw new Error(`${String(options.method)} ${options.url}: API routes are declared in src/http/routes, not registered by hand`);
  });
}

/**
 * Registers the table: each route gets the gates its declaration names, in this order: the origin
 * check and the body's media type (before the body is read), the schema (Fastify), the rate limit,
 * then the session its access asks for. Gates hang on the route itself, so they run for whatever
 * spelling of the address the router matched.
 */
export function registerApiRoutes(app: FastifyInstance, deps: Deps, routes: readonly ApiRoute[]): void {
  const origin = originCheck(deps.config);
  const ceremony = ceremonyRateLimit(deps);
  for (const r of routes) {
    if (!r.path.startsWith('/api/v1/')) throw new Error(`${r.method} ${r.path}: API routes live under /api/v1`);
    const onRequest: onRequestHookHandler[] = [];
    if (originRule(r) === 'allowed-origins') onRequest.push(origin);
    if (changesState(r.method)) onRequest.push(contentTypeGate(r.body?.types ?? [JSON_TYPE]));
    const preHandler: preHandlerAsyncHookHandler[] = r.rateLimit === 'ceremony' ? [ceremony] : [];
    app.route({
      method: r.method,
      url: r.path,
      config: { declared: true },
      schema: { ...(r.body ? { body: r.body.schema } : {}), ...(r.params ? { params: r.params } : {}), ...(r.query ? { querystring: r.query } : {}) },
      ...(onRequest.length ? { onRequest } : {}),
      ...(preHandler.length ? { preHandler } : {}),
      handler: handlerOf(deps, r),
    });
  }
}

/**
 * The handler Fastify calls: what the route's access needs is decided here, once, so a request
 * builds its handler's input in one object literal, without spreading a first one into it.
 */
function handlerOf(deps: Deps, r: ApiRoute) {
  const endsSession = r.endsSession === true;
  if (r.access === 'anyone') {
    const handler = r.handler;
    return async (request: FastifyRequest, reply: FastifyReply) => {
      if (endsSession) clearSessionCookie(reply, deps.config);
      // `session` stays a closure: handlers destructure it from their input.
      return handler({ deps, request, reply, body: request.body, params: request.params, context: requestContext(request), session: sessionOf(deps, request, r) });
    };
  }
  const { access, handler } = r;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (endsSession) clearSessionCookie(reply, deps.config);
    const active = await admit(deps, request, access, r);
    if (!active.ok) return sendFailure(reply, active);
    return handler({ deps, request, reply, body: request.body, params: request.params, context: requestContext(request), active: active.value });
  };
}

/**
 * The session an `anyone` route may ask for, when it asks. Made by a function rather than written
 * inline: tsx (esbuild's keepNames) names an arrow function written as an object property with a
 * `defineProperty` call each time one is made, about 0.26 µs here, on every request.
 */
function sessionOf(deps: Deps, request: FastifyRequest, r: ApiRoute): () => Promise<Result<ActiveSession>> {
  return () => admit(deps, request, 'session', r);
}
