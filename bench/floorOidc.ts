/**
 * The token endpoint's floor: oidc-provider alone on node:http, as close to what Keybound asks of it
 * as a bare provider can be, and nothing of Keybound's around it. One static client
 * (`private_key_jwt`, ES256, `client_credentials`, scope `read`, one resource with JWT access
 * tokens), DPoP enabled, the provider's in-memory adapter (the replay markers of each client
 * assertion and DPoP proof stay in memory: no database, no audit trail), and Keybound's own signing
 * key class (node:crypto, signingKeys.ts), so the floor does not pay for jose's WebCrypto signing
 * that Keybound does not pay for either. `npm run bench` measures it with the same load generator as
 * the client-credentials scenario, so what Keybound adds per token can be set against what the
 * provider costs by itself.
 *
 *   BENCH_FLOOR_PORT=... BENCH_FLOOR_CLIENT='{"clientId", "publicJwk", "resource"}' [BENCH_FLOOR_FASTIFY=1] node --import tsx bench/floorOidc.ts
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import Provider, { type JWK } from 'oidc-provider';
import { providerSigningKeys } from '../src/oidc/signingKeys.ts';

const port = Number(process.env.BENCH_FLOOR_PORT);
const client = JSON.parse(process.env.BENCH_FLOOR_CLIENT ?? '{}') as { clientId: string; publicJwk: JWK; resource: string };
const issuer = `http://localhost:${port}/oidc`;
const signing = { ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as JWK), alg: 'ES256', use: 'sig', kid: randomUUID() };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: client.clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      id_token_signed_response_alg: 'ES256',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'read',
      jwks: { keys: [client.publicJwk] },
    },
  ],
  jwks: providerSigningKeys({ keys: [signing] }),
  scopes: ['read'],
  enabledJWA: { idTokenSigningAlgValues: ['ES256'], clientAuthSigningAlgValues: ['ES256'], dPoPSigningAlgValues: ['ES256'] },
  ttl: { ClientCredentials: 300 },
  features: {
    externalSigningSupport: { enabled: true, ack: 'experimental-01' },
    clientCredentials: { enabled: true },
    dPoP: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => client.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'read', accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'ES256' } } }),
    },
  },
} as ConstructorParameters<typeof Provider>[1]);

// Mounted under /oidc as Keybound mounts it: the provider sees the path without the prefix, and
// builds its URLs (the DPoP proof's `htu`) from `originalUrl`, as a mounted Koa app does.
const callback = provider.callback();
const mounted = (request: IncomingMessage, response: ServerResponse) => {
  (request as typeof request & { originalUrl?: string }).originalUrl = request.url;
  request.url = request.url!.slice('/oidc'.length);
  return callback(request, response);
};
if (process.env.BENCH_FLOOR_FASTIFY === '1') {
  // BENCH_FLOOR_FASTIFY=1: behind Fastify the way src/oidc/mount.ts hands requests over (a route
  // whose onRequest hook hijacks the reply), with the parts of Keybound's app that run on every
  // request: a logger at warn, the cookie plugin, an onRequest and an onResponse hook.
  const app = Fastify({ logger: { level: 'warn' }, keepAliveTimeout: 5_000 });
  await app.register(cookie);
  app.addHook('onRequest', async (request) => void request.url.length);
  app.addHook('onResponse', async (request, reply) => void [request.routeOptions.url, reply.elapsedTime]);
  app.route({
    method: ['GET', 'POST'],
    url: '/oidc/*',
    onRequest: async (request, reply) => {
      reply.hijack();
      await mounted(request.raw, reply.raw);
    },
    handler: async () => undefined,
  });
  await app.listen({ port, host: 'localhost' });
} else {
  createServer({ keepAliveTimeout: 5_000 }, (request, response) => {
    if (!request.url?.startsWith('/oidc/')) {
      response.writeHead(404).end();
      return;
    }
    void mounted(request, response);
  }).listen(port, 'localhost');
}
process.on('SIGTERM', () => process.exit(0));
