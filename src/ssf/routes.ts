import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Result } from '../core/errors.ts';
import { sendFailure } from '../http/reply.ts';
import type { Deps } from '../services/deps.ts';
import type { ProviderHolder } from '../oidc/holder.ts';
import { authenticateReceiver } from './auth.ts';
import { PUSH_METHOD, changeSubject, createStream, deleteStream, describeStream, findStream, requestVerification, setStreamStatus, streamStatus, updateStream } from './streams.ts';

/** Where the management endpoints live (SSF 1.0 §7.1 lets the transmitter choose). */
export const SSF_PATHS = {
  configuration: '/ssf/stream',
  status: '/ssf/status',
  addSubject: '/ssf/subjects/add',
  removeSubject: '/ssf/subjects/remove',
  verification: '/ssf/verify',
} as const;

/**
 * SSF 1.0 §7.1: the transmitter configuration metadata. `issuer` is the OpenID issuer (the SETs'
 * `iss`), `jwks_uri` the provider's JWKS (the SETs are signed with its keys), push delivery only,
 * `default_subjects` `ALL` (a new stream gets every subject until it adds some), and the management
 * API authorized by OAuth 2.0 (RFC 6749) client credentials (§7.1.1).
 */
export function transmitterMetadata(deps: Deps): Record<string, unknown> {
  const issuer = deps.config.oidc.issuer;
  const base = new URL(issuer).origin;
  return {
    spec_version: '1_0',
    issuer,
    jwks_uri: `${issuer}/jwks`,
    delivery_methods_supported: [PUSH_METHOD],
    configuration_endpoint: `${base}${SSF_PATHS.configuration}`,
    status_endpoint: `${base}${SSF_PATHS.status}`,
    add_subject_endpoint: `${base}${SSF_PATHS.addSubject}`,
    remove_subject_endpoint: `${base}${SSF_PATHS.removeSubject}`,
    verification_endpoint: `${base}${SSF_PATHS.verification}`,
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
    default_subjects: 'ALL',
  };
}

type Handler = (clientId: string, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const query = (request: FastifyRequest): Record<string, unknown> => (request.query ?? {}) as Record<string, unknown>;

/** Registers the metadata and the management API (docs/shared-signals.md). */
export function registerSsfRoutes(app: FastifyInstance, deps: Deps, holder: ProviderHolder): void {
  const metadata = async (_request: FastifyRequest, reply: FastifyReply) => reply.header('cache-control', 'public, max-age=300').send(transmitterMetadata(deps));
  // §7.2: "/.well-known/ssf-configuration" goes between the host and the issuer's path; the bare
  // path answers too, for receivers that take the server's origin as the issuer.
  app.get(`/.well-known/ssf-configuration${new URL(deps.config.oidc.issuer).pathname.replace(/\/$/, '') || ''}`, metadata);
  if (new URL(deps.config.oidc.issuer).pathname !== '/') app.get('/.well-known/ssf-configuration', metadata);

  const guarded =
    (handle: Handler) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      reply.header('cache-control', 'no-store');
      const client = await authenticateReceiver(deps, holder, request);
      if (!client.ok) {
        // RFC 6750 §3: say which scheme, and for a missing scope which one.
        if (client.code === 'ssf_token_required') reply.header('www-authenticate', 'Bearer');
        if (client.code === 'ssf_token_invalid') reply.header('www-authenticate', 'Bearer error="invalid_token"');
        if (client.code === 'ssf_scope_required') reply.header('www-authenticate', 'Bearer error="insufficient_scope", scope="ssf"');
        return sendFailure(reply, client);
      }
      return handle(client.value, request, reply);
    };
  const answer = <T>(reply: FastifyReply, result: Result<T>, status: number, body: (value: T) => unknown) =>
    result.ok ? (body(result.value) === undefined ? reply.code(status).send() : reply.code(status).send(body(result.value))) : sendFailure(reply, result);

  const { configuration, status, addSubject, removeSubject, verification } = SSF_PATHS;
  // §8.1.1.1 - §8.1.1.5.
  app.post(configuration, guarded(async (clientId, request, reply) => answer(reply, await createStream(deps, clientId, request.body), 201, (s) => describeStream(deps, s))));
  app.get(
    configuration,
    guarded(async (clientId, request, reply) => {
      const id = query(request).stream_id;
      if (id === undefined) return reply.send((await deps.store.ssfStreams.listByClient(clientId)).map((s) => describeStream(deps, s)));
      return answer(reply, await findStream(deps, clientId, id), 200, (s) => describeStream(deps, s));
    }),
  );
  app.patch(configuration, guarded(async (clientId, request, reply) => answer(reply, await updateStream(deps, clientId, request.body, 'patch'), 200, (s) => describeStream(deps, s))));
  app.put(configuration, guarded(async (clientId, request, reply) => answer(reply, await updateStream(deps, clientId, request.body, 'replace'), 200, (s) => describeStream(deps, s))));
  app.delete(configuration, guarded(async (clientId, request, reply) => answer(reply, await deleteStream(deps, clientId, query(request).stream_id), 204, () => undefined)));
  // §8.1.2.
  app.get(
    status,
    guarded(async (clientId, request, reply) => {
      const found = await findStream(deps, clientId, query(request).stream_id);
      return found.ok ? reply.send(await streamStatus(deps, found.value)) : sendFailure(reply, found);
    }),
  );
  app.post(
    status,
    guarded(async (clientId, request, reply) => {
      const updated = await setStreamStatus(deps, clientId, request.body);
      return updated.ok ? reply.send(await streamStatus(deps, updated.value)) : sendFailure(reply, updated);
    }),
  );
  // §8.1.3.2, §8.1.3.3, §8.1.4.2.
  app.post(addSubject, guarded(async (clientId, request, reply) => answer(reply, await changeSubject(deps, clientId, request.body, 'add'), 200, () => undefined)));
  app.post(removeSubject, guarded(async (clientId, request, reply) => answer(reply, await changeSubject(deps, clientId, request.body, 'remove'), 204, () => undefined)));
  app.post(verification, guarded(async (clientId, request, reply) => answer(reply, await requestVerification(deps, clientId, request.body), 204, () => undefined)));
}
