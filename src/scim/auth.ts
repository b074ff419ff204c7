import type { FastifyRequest } from 'fastify';
import { fail, ok, type Result } from '../core/errors.ts';
import { parseApiKey } from '../core/nhi/apiKeyFormat.ts';
import type { ScimActor } from '../services/adminAccess.ts';
import type { Deps } from '../services/deps.ts';
import { checkApiKey } from '../services/nhi/apiKeys.ts';
import { clientPolicy } from '../oidc/clientPolicy.ts';
import type { ProviderHolder } from '../oidc/holder.ts';

export const SCIM_SCOPE = 'scim';

/**
 * Who calls the SCIM API (RFC 7644 §2: "the service provider ... MAY support ... OAuth bearer
 * tokens"): a bearer credential (RFC 6750 §2.1) that is either
 * - a Keybound API key (services/nhi/apiKeys.ts: right checksum, known, live, owner active) with
 *   scope `scim`, named in the audit trail `key:<id>`; or
 * - an access token a client got with the client_credentials grant and scope `scim`, looked up in
 *   the provider as the Shared Signals API does (ssf/auth.ts), the client still existing and still
 *   allowed `scim`; named `client:<client id>`.
 * A valid credential without the scope is 403 (RFC 7644 §3.12 "Operation is not permitted based on
 * the supplied authorization"); anything else 401.
 */
export async function authenticateScim(deps: Deps, holder: ProviderHolder, request: FastifyRequest): Promise<Result<ScimActor>> {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header) : null;
  if (!match) return fail('scim_token_required');
  const credential = match[1]!;
  if (parseApiKey(credential)) {
    const key = await checkApiKey(deps, credential);
    if (!key.ok) return fail('scim_token_invalid');
    if (!key.value.scopes.includes(SCIM_SCOPE)) return fail('scim_scope_required');
    return ok({ kind: 'scim', credential: `key:${key.value.id}` });
  }
  const token = await holder.provider.ClientCredentials.find(credential);
  if (!token || !token.clientId || token.isSenderConstrained()) return fail('scim_token_invalid');
  if (!(token.scope ?? '').split(' ').includes(SCIM_SCOPE)) return fail('scim_scope_required');
  const client = await deps.store.oidcClients.find(token.clientId);
  if (!client) return fail('scim_token_invalid');
  if (!clientPolicy(client.metadata).scopes.includes(SCIM_SCOPE)) return fail('scim_scope_required');
  return ok({ kind: 'scim', credential: `client:${client.clientId}` });
}
