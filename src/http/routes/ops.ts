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

  app.get('/metrics', async (_request, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
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
