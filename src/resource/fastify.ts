import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { AccessTokenClaims, Requirement, Verification } from './verify.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token (for an API key: its owner as `sub`, its id as `client_id`), set by `requireAccessToken`. */
    accessToken?: AccessTokenClaims;
    /** What was presented, set by `requireAccessToken`. */
    credentialKind?: 'access_token' | 'api_key';
  }
}

export interface FastifyGuardOptions {
  readonly verifier: { verify: (request: { method: string; url: string; authorization?: string | undefined; dpop?: string | string[] | undefined }, requirement?: Requirement) => Promise<Verification> };
  /** The public origin clients use (for the DPoP `htu` check), e.g. `https://api.example.com`. */
  readonly publicOrigin: string;
}

/**
 * A Fastify preHandler for one route's requirement. Refusals answer with the challenge in
 * `WWW-Authenticate` and a JSON body `{ error, message }` (error is the RFC 6750/9449/9470 code).
 *
 * @example
 * const guard = requireAccessToken({ verifier, publicOrigin: 'https://api.example.com' });
 * app.post('/transfer', { preHandler: guard({ acr: 'urn:keybound:aal3', maxAgeS: 300 }) }, handler);
 */
export function requireAccessToken(options: FastifyGuardOptions) {
  const origin = options.publicOrigin.replace(/\/$/, '');
  return (requirement: Requirement = {}): preHandlerAsyncHookHandler =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const result = await options.verifier.verify(
        { method: request.method, url: `${origin}${request.url}`, authorization: request.headers.authorization, dpop: request.headers.dpop },
        requirement,
      );
      if (result.ok) {
        request.accessToken = result.token;
        request.credentialKind = result.kind;
        return;
      }
      return reply
        .code(result.status)
        .header('www-authenticate', result.wwwAuthenticate)
        .header('cache-control', 'no-store')
        .send({ error: result.error ?? 'unauthorized', message: result.description });
    };
}
