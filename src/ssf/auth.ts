import type { FastifyRequest } from 'fastify';
import { fail, ok, type Result } from '../core/errors.ts';
import type { Deps } from '../services/deps.ts';
import { clientPolicy } from '../oidc/clientPolicy.ts';
import type { ProviderHolder } from '../oidc/holder.ts';

export const SSF_SCOPE = 'ssf';

/**
 * Who calls the stream management API (SSF 1.0 §8: "authorization MUST associate a Receiver with
 * one or more stream IDs"): an OpenID client, by a bearer access token (RFC 6750 §2.1) it got from
 * Keybound's token endpoint with the client_credentials grant and scope `ssf` (§7.1.1
 * `authorization_schemes`: RFC 6749). Such a token, asked for without a resource indicator, is
 * opaque and stored by the provider, so it is looked up there (`ClientCredentials.find`: unknown,
 * expired and revoked tokens are not found), not trusted from its text. A DPoP-bound token is
 * refused: it is not presented with a proof here. The client must still exist and still be allowed
 * `ssf` (`clients update` narrowing it takes effect at once). Returns the client id.
 */
export async function authenticateReceiver(deps: Deps, holder: ProviderHolder, request: FastifyRequest): Promise<Result<string>> {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(header) : null;
  if (!match) return fail('ssf_token_required');
  const token = await holder.provider.ClientCredentials.find(match[1]!);
  if (!token || !token.clientId || token.isSenderConstrained()) return fail('ssf_token_invalid');
  if (!(token.scope ?? '').split(' ').includes(SSF_SCOPE)) return fail('ssf_scope_required');
  const client = await deps.store.oidcClients.find(token.clientId);
  if (!client) return fail('ssf_token_invalid');
  if (!clientPolicy(client.metadata).scopes.includes(SSF_SCOPE)) return fail('ssf_scope_required');
  return ok(client.clientId);
}
