import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, HTTPMethods, onRequestAsyncHookHandler } from 'fastify';
import type { Config } from '../config/load.ts';
import type { Result } from '../core/errors.ts';
import type { ProviderHolder } from './holder.ts';
import { clientAddress } from '../http/context.ts';
import { sendFailure } from '../http/reply.ts';

/** Decides whether a client address may start one more authorization (rate limit; index.ts). */
export type AdmitAuthorization = (address: string) => Promise<Result<null>>;

/**
 * Endpoints where one anonymous request makes the provider store state: an authorization request
 * (an Interaction of up to MAX_PENDING_PAYLOAD bytes, adapter.ts) and a pushed authorization
 * request (RFC 9126). The resume URL /oidc/auth/<uid> stores nothing new and is not counted.
 */
const STORING_PATHS = new Set([`/auth`, `/request`]);

export const MOUNT_PATH = '/oidc';
/** Largest body a provider endpoint accepts (README: OpenID Connect). */
export const OIDC_BODY_LIMIT = 16 * 1024;
// The methods the provider's endpoints answer; anything else gets Keybound's JSON 404 from Fastify.
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'OPTIONS'];

/**
 * Hands every request under /oidc to oidc-provider, untouched: it is hijacked in `onRequest`, before
 * Fastify would parse (and so consume) the body, and the path is rewritten the way a mounted Koa
 * app expects (`originalUrl` keeps the prefix, from which the provider builds its URLs).
 */
export function mountProvider(app: FastifyInstance, holder: ProviderHolder, config: Config, admit?: AdmitAuthorization): void {
  const issuer = new URL(config.oidc.issuer);
  const forward =
    (rewrite: (url: string) => { url: string; originalUrl: string }): onRequestAsyncHookHandler =>
    async (request, reply) => {
      // Protocol requests are small (a client assertion, a DPoP proof travels in a header); the
      // provider's own limit is 56 KiB, and every parameter of an authorization request is stored
      // with its interaction. Refuse larger bodies here, before anything is read or stored.
      const length = request.headers['content-length'];
      if (request.method === 'POST' && (length === undefined ? request.headers['transfer-encoding'] !== undefined : Number(length) > OIDC_BODY_LIMIT)) {
        return sendFailure(reply, { code: 'request_too_large', message: `Requests to the OpenID provider carry at most ${OIDC_BODY_LIMIT} bytes, with a Content-Length.` });
      }
      const raw = request.raw as IncomingMessage & { originalUrl?: string };
      const { url, originalUrl } = rewrite(raw.url ?? '/');
      if (admit && STORING_PATHS.has(url.split('?')[0]!.replace(/\/+$/, ''))) {
        const admitted = await admit(clientAddress(request));
        if (!admitted.ok) return sendFailure(reply, admitted);
      }
      reply.hijack();
      raw.originalUrl = originalUrl;
      raw.url = url;
      // The provider builds every URL it prints (discovery, redirects) from the request's host and
      // scheme. Pin both to the configured issuer so a forged Host header cannot move them.
      raw.headers.host = issuer.host;
      raw.headers['x-forwarded-host'] = issuer.host;
      raw.headers['x-forwarded-proto'] = issuer.protocol.slice(0, -1);
      // The provider trusts X-Forwarded-For (`proxy = true`) and would take its first entry, which a
      // client writes itself; hand it the one address Keybound trusts (clientAddress: one proxy hop).
      raw.headers['x-forwarded-for'] = clientAddress(request);
      await holder.handle(raw, reply.raw);
    };
  const underPrefix = forward((url) => {
    const rest = url.slice(MOUNT_PATH.length);
    return { originalUrl: url, url: rest.startsWith('/') ? rest : `/${rest}` };
  });
  const noop = async () => undefined;
  app.route({ method: METHODS, url: MOUNT_PATH, onRequest: underPrefix, handler: noop });
  app.route({ method: METHODS, url: `${MOUNT_PATH}/*`, onRequest: underPrefix, handler: noop });
  // RFC 8414 §3.1: metadata of an issuer with a path lives at /.well-known/oauth-authorization-server/<path>.
  const metadata = '/.well-known/oauth-authorization-server';
  app.route({
    method: ['GET', 'OPTIONS'],
    url: `${metadata}${MOUNT_PATH}`,
    onRequest: forward(() => ({ url: metadata, originalUrl: `${MOUNT_PATH}${metadata}` })),
    handler: noop,
  });
}
