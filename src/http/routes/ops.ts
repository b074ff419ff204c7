import { createHash, timingSafeEqual } from 'node:crypto';
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

  const document = openApiDocument(deps.config);
  app.get('/api/v1/openapi.json', async (_request, reply) => reply.send(document));
}

/** `Authorization: Bearer <token>`, compared in constant time (through hashes, so lengths do not leak either). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer ([^\s]+)$/i.exec(header ?? '')?.[1] ?? '';
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}
