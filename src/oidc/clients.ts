import { base64url } from '../core/bytes.ts';
import { fail, ok, type Result } from '../core/errors.ts';
import type { Deps } from '../services/deps.ts';
import type { OidcClientRow } from '../store/ports.ts';

/**
 * OpenID clients, made by administrators with `keybound clients create` (so every client is
 * first-party: Keybound asks no consent). Confidential clients authenticate with `private_key_jwt`
 * (RFC 7523); shared secrets only where KEYBOUND_OIDC_ALLOW_SHARED_SECRETS allows them, sealed at rest.
 */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface ClientInput {
  readonly name: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  /** A public client (browser or native app): no authentication, PKCE with S256. */
  readonly public: boolean;
  /** The client's public keys, for `private_key_jwt`. */
  readonly jwks: { readonly keys: readonly Record<string, unknown>[] } | null;
  readonly grantTypes: readonly GrantType[];
  /** Require DPoP-bound access tokens (RFC 9449 §5.2 `dpop_bound_access_tokens`). */
  readonly requireDpop: boolean;
  /**
   * The resource indicator (one of KEYBOUND_OIDC_RESOURCES) of the API this client is. Only such a
   * client may introspect (RFC 7662 §2.1), and only tokens whose audience is that API.
   */
  readonly resourceServer?: string | null;
  /** Algorithm of its ID tokens: the configured one by default, or RS256 (OIDC Discovery §3). */
  readonly idTokenSigningAlg?: string | null;
  /** Back-Channel Logout 1.0 §2.2: where Logout Tokens are POSTed, and whether they (and ID tokens) must carry `sid`. */
  readonly backchannelLogoutUri?: string | null;
  readonly backchannelLogoutSessionRequired?: boolean;
}

export interface CreatedClient {
  readonly client: OidcClientRow;
  /** Shown once, for clients that use a shared secret. */
  readonly secret: string | null;
}

/** oidc-provider's own metadata validation (`provider.Client.validate`), passed in by the caller. */
export type MetadataValidator = (metadata: Record<string, unknown>) => Promise<string | null>;

/** Client metadata property naming the API a resource-server client is (configuration.ts `extraClientMetadata`). */
export const RESOURCE_SERVER_METADATA = 'keybound_resource_server';

const secretContext = (clientId: string) => `oidc-client-secret:${clientId}`;

export async function createClient(deps: Deps, input: ClientInput, validate: MetadataValidator): Promise<Result<CreatedClient>> {
  const invalid = (message: string) => fail('client_invalid', { message });
  const name = input.name.trim();
  if (!name || name.length > 100) return invalid('The name must be 1 to 100 characters.');
  const grants = [...new Set(input.grantTypes)];
  if (grants.length === 0) return invalid('Give at least one grant type.');
  if (input.public && grants.includes('client_credentials')) return invalid('A public client cannot use client_credentials: it has no way to authenticate.');
  if (grants.includes('refresh_token') && !grants.includes('authorization_code')) return invalid('refresh_token needs authorization_code.');
  if (grants.includes('authorization_code') && input.redirectUris.length === 0) return invalid('authorization_code needs at least one --redirect-uri.');
  if (input.public && input.jwks) return invalid('Choose --public or --jwks, not both.');
  const resourceServer = input.resourceServer ?? null;
  if (input.idTokenSigningAlg && ![deps.config.oidc.signingAlg, 'RS256'].includes(input.idTokenSigningAlg)) {
    return invalid(`--id-token-alg must be ${deps.config.oidc.signingAlg} or RS256.`);
  }
  if (resourceServer !== null && input.public) return invalid('A resource server must authenticate to introspect: it cannot be --public.');
  if (resourceServer !== null && !deps.config.oidc.resources.includes(resourceServer)) {
    return invalid(`--resource-server must be one of KEYBOUND_OIDC_RESOURCES (${deps.config.oidc.resources.join(', ') || 'none is set'}).`);
  }
  const logoutProblem = checkBackchannelLogout(input);
  if (logoutProblem) return invalid(logoutProblem);
  const sharedSecret = !input.public && !input.jwks;
  if (sharedSecret && !deps.config.oidc.allowSharedSecrets) {
    return invalid('A confidential client needs --jwks <file> (private_key_jwt); shared secrets are off (KEYBOUND_OIDC_ALLOW_SHARED_SECRETS).');
  }
  const clientId = base64url.encode(deps.random(16));
  const secret = sharedSecret ? base64url.encode(deps.random(32)) : null;
  const metadata: Record<string, unknown> = {
    client_id: clientId,
    client_name: name,
    application_type: 'web',
    grant_types: grants,
    response_types: grants.includes('authorization_code') ? ['code'] : [],
    redirect_uris: input.redirectUris,
    post_logout_redirect_uris: input.postLogoutRedirectUris,
    token_endpoint_auth_method: input.public ? 'none' : input.jwks ? 'private_key_jwt' : 'client_secret_basic',
    id_token_signed_response_alg: input.idTokenSigningAlg ?? deps.config.oidc.signingAlg,
    // ID tokens always carry auth_time, so applications can judge how fresh a sign-in is.
    require_auth_time: true,
    ...(input.jwks ? { jwks: input.jwks } : {}),
    ...(input.requireDpop ? { dpop_bound_access_tokens: true } : {}),
    ...(resourceServer !== null ? { [RESOURCE_SERVER_METADATA]: resourceServer } : {}),
    ...(input.backchannelLogoutUri ? { backchannel_logout_uri: input.backchannelLogoutUri, backchannel_logout_session_required: input.backchannelLogoutSessionRequired ?? false } : {}),
  };
  const problem = await validate(secret ? { ...metadata, client_secret: secret } : metadata);
  if (problem) return invalid(problem);
  const client: OidcClientRow = {
    clientId,
    name,
    metadata: secret ? { ...metadata, client_secret: deps.dataKeys.seal(new TextEncoder().encode(secret), secretContext(clientId)) } : metadata,
    sharedSecret,
    createdAt: deps.clock(),
  };
  if (!(await deps.store.oidcClients.create(client))) return invalid('A client with this id exists; run the command again.');
  await deps.store.audit.append({ type: 'oidc.client.created', outcome: 'success', at: client.createdAt, details: { clientId, name, grantTypes: grants, sharedSecret, resourceServer, backchannelLogoutUri: input.backchannelLogoutUri ?? null } });
  return ok({ client, secret });
}

/**
 * Back-Channel Logout 1.0 §2.2: `backchannel_logout_uri` is an absolute URI with no fragment. The
 * Logout Token travels in it, so it must be `https://`, but for a client on this machine (loopback,
 * as with redirect URIs, RFC 8252 §8.3).
 */
function checkBackchannelLogout(input: ClientInput): string | null {
  const raw = input.backchannelLogoutUri;
  if (raw === undefined || raw === null) return input.backchannelLogoutSessionRequired ? '--backchannel-logout-session-required needs --backchannel-logout-uri.' : null;
  let uri: URL;
  try {
    uri = new URL(raw);
  } catch {
    return '--backchannel-logout-uri must be an absolute URL.';
  }
  if (raw.includes('#')) return '--backchannel-logout-uri must not have a fragment.';
  if (uri.username || uri.password) return '--backchannel-logout-uri must not carry credentials.';
  const loopback = uri.hostname === 'localhost' || uri.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(uri.hostname);
  if (uri.protocol === 'https:' || (uri.protocol === 'http:' && loopback)) return null;
  return '--backchannel-logout-uri must be https:// (http:// only to localhost, 127.x.x.x or [::1]).';
}

/** The metadata oidc-provider needs, with a sealed shared secret opened. */
export function openClientMetadata(deps: Deps, client: OidcClientRow): Record<string, unknown> {
  const sealed = client.metadata.client_secret;
  if (typeof sealed !== 'string') return { ...client.metadata };
  return { ...client.metadata, client_secret: new TextDecoder().decode(deps.dataKeys.open(sealed, secretContext(client.clientId))) };
}

/** The client as the CLI prints it: no secret, sealed or not. */
export function describeClient(client: OidcClientRow): Record<string, unknown> {
  const { client_secret: _secret, ...metadata } = client.metadata;
  return { ...metadata, client_id: client.clientId, name: client.name, shared_secret: client.sharedSecret, created_at: new Date(client.createdAt).toISOString() };
}

/**
 * Deletes a client. Its refresh tokens and opaque access tokens stop working at once (the provider
 * no longer finds the client); JWT access tokens it holds live until they expire (KEYBOUND_OIDC_ACCESS_TOKEN_TTL).
 */
export async function deleteClient(deps: Deps, clientId: string): Promise<Result<null>> {
  if (!(await deps.store.oidcClients.delete(clientId))) return fail('client_not_found');
  await deps.store.audit.append({ type: 'oidc.client.deleted', outcome: 'success', at: deps.clock(), details: { clientId } });
  return ok(null);
}
