import { base64url } from '../core/bytes.ts';
import { isAcr, type Acr } from '../core/assurance/level.ts';
import { fail, ok, type Result } from '../core/errors.ts';
import type { Deps } from '../services/deps.ts';
import type { OidcClientRow } from '../store/ports.ts';
import { clientPolicy, DEFAULT_MIN_ACR, defaultScopes, OIDC_SCOPES, POLICY_METADATA, type ClientPolicy } from './clientPolicy.ts';

/**
 * OpenID clients, made by administrators with `keybound clients create`. Each has a minimum level,
 * scope and resource allowlists, and is first-party (no consent screen) or not (clientPolicy.ts).
 * Confidential clients authenticate with `private_key_jwt` (RFC 7523); shared secrets only where
 * KEYBOUND_OIDC_ALLOW_SHARED_SECRETS allows them, sealed at rest.
 */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** RFC 8693 §2.1: the grant an agent workload uses to act for a person (oidc/tokenExchange.ts); only agents get it. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

export interface ClientInput {
  readonly name: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  /** A public client (browser or native app): no authentication, PKCE with S256. */
  readonly public: boolean;
  /** The client's public keys, for `private_key_jwt`. */
  readonly jwks: { readonly keys: readonly Record<string, unknown>[] } | null;
  readonly grantTypes: readonly (GrantType | typeof TOKEN_EXCHANGE_GRANT)[];
  /** Require DPoP-bound access tokens (RFC 9449 §5.2 `dpop_bound_access_tokens`). */
  readonly requireDpop: boolean;
  /**
   * The resource indicator (one of KEYBOUND_OIDC_RESOURCES) of the API this client is. Only such a
   * client may introspect (RFC 7662 §2.1), and only tokens whose audience is that API.
   */
  readonly resourceServer?: string | null;
  /** Algorithm of its ID tokens: the configured one by default, or RS256 (OIDC Discovery §3). */
  readonly idTokenSigningAlg?: string | null;
  /** Weakest sign-in it may get a code or token from; default `urn:keybound:aal2:phr`. */
  readonly minAcr?: string | null;
  /** No consent screen for it (an application of the organisation itself); default no. */
  readonly firstParty?: boolean;
  /** Marked sensitive for the risk policy (`sensitive_client`, docs/risk.md); default no. */
  readonly sensitive?: boolean;
  /** Scopes it may ask for (OpenID and resource scopes); default `openid profile email` for sign-in clients, none otherwise. */
  readonly scopes?: readonly string[] | null;
  /** Resource indicators (of KEYBOUND_OIDC_RESOURCES) it may ask tokens for; default none. */
  readonly resources?: readonly string[] | null;
  /** Back-Channel Logout 1.0 §2.2: where Logout Tokens are POSTed, and whether they (and ID tokens) must carry `sid`. */
  readonly backchannelLogoutUri?: string | null;
  readonly backchannelLogoutSessionRequired?: boolean;
  /** Lifetime of its client-credentials access tokens, in seconds (workloads: services/nhi/workloads.ts). */
  readonly tokenTtlS?: number | null;
}

/** What `clients update` may change: the client's policy (clientPolicy.ts); anything left out stays. */
export interface PolicyInput {
  readonly minAcr?: string | null;
  readonly firstParty?: boolean;
  readonly sensitive?: boolean;
  readonly scopes?: readonly string[] | null;
  readonly resources?: readonly string[] | null;
}

/** Checks a policy against the server's scopes, resources and the client's grant types. */
function resolvePolicy(deps: Deps, input: PolicyInput, grants: readonly string[], current?: ClientPolicy): Result<ClientPolicy> {
  const invalid = (message: string) => fail('client_invalid', { message });
  const minAcr = input.minAcr ?? current?.minAcr ?? DEFAULT_MIN_ACR;
  if (!isAcr(minAcr)) return invalid('--min-acr must be one of urn:keybound:aal1, urn:keybound:aal2, urn:keybound:aal2:phr, urn:keybound:aal3.');
  const scopes = [...new Set(input.scopes ?? current?.scopes ?? defaultScopes(grants))];
  const known = new Set<string>([...OIDC_SCOPES, ...deps.config.oidc.resourceScopes]);
  const unknown = scopes.find((s) => !known.has(s));
  if (unknown !== undefined) return invalid(`--scope ${unknown} is not a scope of this server (${[...known].join(', ')}).`);
  if (scopes.includes('offline_access') && !grants.includes('refresh_token')) return invalid('--scope offline_access needs the refresh_token grant type.');
  const resources = [...new Set(input.resources ?? current?.resources ?? [])];
  const stranger = resources.find((r) => !deps.config.oidc.resources.includes(r));
  if (stranger !== undefined) return invalid(`--resource ${stranger} is not one of KEYBOUND_OIDC_RESOURCES (${deps.config.oidc.resources.join(', ') || 'none is set'}).`);
  return ok({ minAcr: minAcr as Acr, firstParty: input.firstParty ?? current?.firstParty ?? false, sensitive: input.sensitive ?? current?.sensitive ?? false, scopes, resources });
}

const policyMetadata = (policy: ClientPolicy) => ({
  [POLICY_METADATA.minAcr]: policy.minAcr,
  [POLICY_METADATA.firstParty]: policy.firstParty,
  [POLICY_METADATA.sensitive]: policy.sensitive,
  [POLICY_METADATA.scopes]: [...policy.scopes],
  [POLICY_METADATA.resources]: [...policy.resources],
});

export interface CreatedClient {
  readonly client: OidcClientRow;
  /** Shown once, for clients that use a shared secret. */
  readonly secret: string | null;
}

/** oidc-provider's own metadata validation (`provider.Client.validate`), passed in by the caller. */
export type MetadataValidator = (metadata: Record<string, unknown>) => Promise<string | null>;

/** Client metadata property naming the API a resource-server client is (configuration.ts `extraClientMetadata`). */
export const RESOURCE_SERVER_METADATA = 'keybound_resource_server';

/** Client metadata property with the lifetime of a workload's access tokens, in seconds (configuration.ts `ttl`). */
export const TOKEN_TTL_METADATA = 'keybound_token_ttl';


/**
 * A new client's id: 16 random bytes, base64url. It never starts with "-": the CLI takes client ids
 * as arguments (`keybound clients ...`, `keybound workloads rotate-keys <client_id>`), where a
 * leading "-" reads as an option. One id in 64 would start with it; those get "e" instead (the
 * first byte's top bit flipped), so every id stays 22 characters of the same alphabet.
 */
export function newClientId(random: (size: number) => Uint8Array): string {
  const bytes = Uint8Array.from(random(16));
  if (bytes[0]! >> 2 === 62) bytes[0] = bytes[0]! ^ 0x80;
  return base64url.encode(bytes);
}

/** A client's own access-token lifetime, if it has one. */
export function clientTokenTtl(client: object): number | undefined {
  const ttl = (client as Record<string, unknown>)[TOKEN_TTL_METADATA];
  return typeof ttl === 'number' && Number.isInteger(ttl) && ttl > 0 ? ttl : undefined;
}

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
  const policy = resolvePolicy(deps, input, grants);
  if (!policy.ok) return policy;
  const logoutProblem = checkBackchannelLogout(input);
  if (logoutProblem) return invalid(logoutProblem);
  const sharedSecret = !input.public && !input.jwks;
  if (sharedSecret && !deps.config.oidc.allowSharedSecrets) {
    return invalid('A confidential client needs --jwks <file> (private_key_jwt); shared secrets are off (KEYBOUND_OIDC_ALLOW_SHARED_SECRETS).');
  }
  const clientId = newClientId(deps.random);
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
    ...(input.tokenTtlS ? { [TOKEN_TTL_METADATA]: input.tokenTtlS } : {}),
    ...policyMetadata(policy.value),
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
  await deps.store.audit.append({ type: 'oidc.client.created', outcome: 'success', at: client.createdAt, details: { clientId, name, grantTypes: grants, sharedSecret, resourceServer, ...policyMetadata(policy.value), backchannelLogoutUri: input.backchannelLogoutUri ?? null } });
  return ok({ client, secret });
}

/**
 * Changes a client's policy (`keybound clients update`). Narrowing takes effect at the next request:
 * a refresh that holds a scope or resource no longer allowed is refused (allowlist.ts
 * `checkRefresh`); a raised minimum level applies from the next authorization.
 */
export async function updateClientPolicy(deps: Deps, clientId: string, input: PolicyInput): Promise<Result<OidcClientRow>> {
  const client = await deps.store.oidcClients.find(clientId);
  if (!client) return fail('client_not_found');
  const grants = Array.isArray(client.metadata.grant_types) ? client.metadata.grant_types.map(String) : [];
  const policy = resolvePolicy(deps, input, grants, clientPolicy(client.metadata));
  if (!policy.ok) return policy;
  const updated: OidcClientRow = { ...client, metadata: { ...client.metadata, ...policyMetadata(policy.value) } };
  if (!(await deps.store.oidcClients.updateMetadata(clientId, updated.metadata))) return fail('client_not_found');
  await deps.store.audit.append({ type: 'oidc.client.updated', outcome: 'success', at: deps.clock(), details: { clientId, ...policyMetadata(policy.value) } });
  return ok(updated);
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
export function openClientMetadata(deps: Deps, client: Pick<OidcClientRow, 'clientId' | 'metadata'>): Record<string, unknown> {
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
 * Deletes a client, and its Shared Signals streams. Its refresh tokens and opaque access tokens stop
 * working at once (the provider no longer finds the client); JWT access tokens it holds live until they expire (KEYBOUND_OIDC_ACCESS_TOKEN_TTL).
 */
export async function deleteClient(deps: Deps, clientId: string): Promise<Result<null>> {
  // A workload's client goes with the workload, which has an owner and an audit trail of its own.
  if (await deps.store.workloads.find(clientId)) return fail('client_invalid', { message: `Client ${clientId} is a workload: disable it with \`keybound workloads disable ${clientId}\`.` });
  if (!(await deps.store.oidcClients.delete(clientId))) return fail('client_not_found');
  // Its Shared Signals streams, and the SETs still owed to them, go with it (src/ssf).
  for (const stream of await deps.store.ssfStreams.listByClient(clientId)) await deps.store.ssfStreams.delete(clientId, stream.id);
  await deps.store.audit.append({ type: 'oidc.client.deleted', outcome: 'success', at: deps.clock(), details: { clientId } });
  return ok(null);
}
