import cookie from '@fastify/cookie';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isErrorCode, type ErrorCode } from '../core/errors.ts';
import type { Deps } from '../services/deps.ts';
import { isDatabaseUnavailable } from '../store/db.ts';
import { sendFailure } from './reply.ts';
import { securityHeaders, setSecurityHeaders } from './security.ts';
import { securityEvents } from './securityEvents.ts';
import { registerOpsRoutes } from './routes/ops.ts';
import { API_ROUTES } from './routes/index.ts';
import { registerApiRoutes, requireDeclaredApiRoutes } from './registrar.ts';
import { registerPageRoutes } from './routes/pages.ts';
import { renderErrorPage } from './pages/error.ts';
import { clientErrorHandler, httpServerOptions, MAX_URL_BYTES } from './connections.ts';
import { registerOidc } from '../oidc/index.ts';
import { AdoptionReminders } from '../services/migration/reminders.ts';

export interface AppOptions {
  /** Log level; omit for no logs (tests). */
  readonly logLevel?: string;
  /** Where logs go (default stdout). */
  readonly logStream?: NodeJS.WritableStream;
}

/**
 * Removes anything secret from a URL before it is logged: enrolment tokens, provider interaction
 * ids (a handle on someone's sign-in in progress) and every query string (codes, states, tokens).
 */
export function redactUrl(url: string): string {
  const path = url.split('?')[0] ?? '';
  // /oidc/auth/<uid> is the resume URL of a pending authorization: its uid names the interaction.
  return path.replace(/^\/(enrol|interaction|oidc\/auth)\/[^/]+/, '/$1/[redacted]') + (url.includes('?') ? '?[redacted]' : '');
}

/** The JSON API and the OpenID provider answer errors in JSON; everything else is a page. */
function answersInJson(url: string): boolean {
  return url.startsWith('/api/') || url.startsWith('/oidc') || url.startsWith('/ssf') || url.startsWith('/scim');
}

/** Builds the HTTP application over the services. Listening is the caller's business. */
export async function buildApp(deps: Deps, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    logger: options.logLevel
      ? {
          level: options.logLevel,
          ...(options.logStream ? { stream: options.logStream } : {}),
          serializers: {
            req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
        }
      : false,
    bodyLimit: config.bodyLimit,
    // Trust one hop, the proxy in front of Keybound: the client address is the last X-Forwarded-For
    // entry, the one that proxy appends. `true` took the first, which the client writes itself, so an
    // attacker could claim a new address with every request and never meet a rate limit.
    trustProxy: config.trustProxy ? (_address: string, hop: number) => hop === 0 : false,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    routerOptions: { maxParamLength: 256 },
    // A malformed percent-encoding or a path segment past maxParamLength would get Fastify's own
    // answer (400/414 with a body outside the error registry): answer like any other bad request.
    // These answers skip the onSend hooks, so they get the security headers here.
    frameworkErrors: async (_error, rawRequest, rawReply) => {
      const request = rawRequest as unknown as FastifyRequest;
      const reply = rawReply as unknown as FastifyReply;
      const api = request.url.startsWith('/api/');
      reply.type(api ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8');
      setSecurityHeaders(reply, config);
      if (api) return sendFailure(reply, { code: 'invalid_request', message: 'The request address is malformed.' });
      return reply.code(400).send(renderErrorPage({ code: 'invalid_request', message: 'This address is malformed.' }));
    },
    // During a graceful shutdown a request that still arrives on an open connection is served, with
    // `Connection: close` (below), rather than refused with Fastify's own 503 body (not in the registry).
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    http: httpServerOptions(config),
    clientErrorHandler,
  });
  await app.register(cookie);
  requireDeclaredApiRoutes(app);
  // Hooks that run on every request take Fastify's callback form where they do no I/O (see
  // securityHeaders in security.ts); one that answers early does not call `done`.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.url.length <= MAX_URL_BYTES) done();
    else if (answersInJson(request.url)) sendFailure(reply, { code: 'uri_too_long' });
    else reply.code(414).type('text/html; charset=utf-8').send(renderErrorPage({ code: 'uri_too_long' }));
  });
  app.addHook('onSend', securityHeaders(config));
  // Refusals (authorization, origin, rate limit, invalid input) as security events (OWASP ASVS 5.0 16.3.2, 16.3.3).
  app.addHook('onSend', securityEvents(deps));
  // Once shutdown starts, every answer closes its connection: a request already in flight finishes,
  // and its keep-alive connection does not linger (or take another request) until the grace period ends.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  app.setNotFoundHandler(async (request, reply) => {
    if (answersInJson(request.url)) return sendFailure(reply, { code: 'not_found' });
    return reply.code(404).type('text/html; charset=utf-8').send(renderErrorPage({ code: 'not_found' }));
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: { message: error.message, code: error.code } }, 'database unavailable');
      return sendFailure(reply, { code: 'service_unavailable', retryAfter: 2 });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code: ErrorCode = status === 413 ? 'request_too_large' : status === 415 ? 'unsupported_media_type' : status === 404 ? 'not_found' : status === 405 ? 'method_not_allowed' : 'invalid_request';
      // Validation messages name the field and the rule, never a value: safe to show.
      const message = error.validation ? `Invalid request: ${error.message}.` : undefined;
      return sendFailure(reply, { code, ...(message ? { message } : {}) });
    }
    if (status === 503 && error.code && isErrorCode(error.code)) return sendFailure(reply, { code: 'service_unavailable', retryAfter: 2 });
    request.log.error({ err: error }, 'unhandled error');
    return sendFailure(reply, { code: 'internal_error' });
  });

  registerOpsRoutes(app, deps);
  registerApiRoutes(app, deps, API_ROUTES);
  await registerPageRoutes(app, deps);
  await registerOidc(app, deps);
  // KEYBOUND_ADOPTION_REMINDERS: reminders to imported accounts still without a passkey, claimed
  // in the database so every instance may run the job (services/migration/reminders.ts).
  const reminders = new AdoptionReminders(deps, app.log);
  reminders.start();
  app.decorate('adoptionReminders', reminders);
  app.addHook('onClose', async () => reminders.close());
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Sends adoption reminders (services/migration/reminders.ts). */
    adoptionReminders?: AdoptionReminders;
  }
}
