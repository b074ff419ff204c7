import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../services/deps.ts';
import { LATEST_VERSION } from '../../store/migrate.ts';
import { route, type ApiRoute } from '../declare.ts';
import { openApiDocument } from '../openapi.ts';
import { sendFailure } from '../reply.ts';

/** Liveness, readiness and metrics (outside /api/v1, so outside the route table). */
export function registerOpsRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/healthz', async (_request, reply) => reply.send({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      await deps.store.ping();
      const version = await deps.store.schemaVersion();
      if (version !== LATEST_VERSION) {
        return sendFailure(reply, { code: 'service_unavailable', message: `Database schema is at version ${version}; this server needs ${LATEST_VERSION}.`, retryAfter: 5 });
      }
    } catch {
      return sendFailure(reply, { code: 'service_unavailable', message: 'The database cannot be reached.', retryAfter: 2 });
    }
    return reply.send({ status: 'ready' });
  });

  // Metrics tell who signs in how often and what fails: not for the public. They have a listener of
  // their own (observability/metricsListener.ts); here only with the operator's bearer token.
  const token = deps.config.metrics.token;
  if (token !== null) {
    app.get('/metrics', async (request, reply) => {
      if (!bearerMatches(request.headers.authorization, token)) {
        reply.header('www-authenticate', 'Bearer');
        return sendFailure(reply, { code: 'metrics_token_required' });
      }
      return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    });
  }
}

/** The API description, generated from the table it is part of (`table` is read once, at the first request). */
export function openApiRoute(table: () => readonly ApiRoute[]): ApiRoute {
  let document: ReturnType<typeof openApiDocument> | undefined;
  return route({
    method: 'GET',
    path: '/api/v1/openapi.json',
    summary: 'This document',
    access: 'anyone',
    responses: { 200: 'OpenAPI 3.1' },
    handler: async ({ deps, reply }) => reply.send((document ??= openApiDocument(deps.config, table()))),
  });
}

/** `Authorization: Bearer <token>`, compared in constant time (through hashes, so lengths do not leak either). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer ([^\s]+)$/i.exec(header ?? '')?.[1] ?? '';
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}
