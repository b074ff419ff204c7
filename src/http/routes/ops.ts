import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../services/deps.ts';
import { LATEST_VERSION } from '../../store/migrate.ts';
import { openApiDocument } from '../openapi.ts';
import { sendFailure } from '../reply.ts';

/** Liveness, readiness, metrics and the API description. */
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

  const document = openApiDocument(deps.config);
  app.get('/api/v1/openapi.json', async (_request, reply) => reply.send(document));
}
