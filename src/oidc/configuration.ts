import { errors, type Client, type Configuration, type JWKS, type KoaContextWithOIDC } from 'oidc-provider';
import { aalOf, ACR_VALUES, isAcr } from '../core/assurance/level.ts';
import type { Deps } from '../services/deps.ts';
import { findAccount } from './account.ts';
import { adapterFactory } from './adapter.ts';
import { clientTokenTtl, RESOURCE_SERVER_METADATA, TOKEN_TTL_METADATA } from './clients.ts';
import { checkRefresh, refuseUnallowed } from './allowlist.ts';
import { clientPolicy, OIDC_SCOPES, POLICY_METADATA } from './clientPolicy.ts';
import { providerCookieNames } from './cookies.ts';
import { renderLoggedOutPage, renderLogoutPage, renderProviderErrorPage } from './pages.ts';
import { keyboundPolicy } from './policy.ts';
import { providerSigningKeys } from './signingKeys.ts';
import { exchangedClaims } from './tokenExchange.ts';
import { requestOf } from './providerContext.ts';

/** Client authentication (RFC 7523 keys; shared secrets only when a setting allows them). */
const ASYMMETRIC_ALGS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] as const;

/**
 * oidc-provider's configuration, built from Keybound's (config/defaults.ts holds every default).
 * Every default function oidc-provider would warn about is given here, so boot is quiet and each
 * choice is visible.
 */
export function providerConfiguration(deps: Deps, input: { jwks: JWKS; cookieKeys: string[] }): Configuration {
  const { oidc, secureCookies } = deps.config;
  const shared = oidc.allowSharedSecrets;
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: secureCookies, overwrite: true };
  return {
    adapter: adapterFactory(deps),
    // Signed with node:crypto rather than WebCrypto (signingKeys.ts); the same keys.
    jwks: providerSigningKeys(input.jwks),
    cookies: {
      keys: input.cookieKeys,
      // `__Host-`/`__Secure-` prefixed on HTTPS origins (cookies.ts).
      names: providerCookieNames(secureCookies),
      long: cookie,
      short: cookie,
    },
    findAccount: findAccount(deps),
    // Which API a client is, if it is a resource server (clients.ts; it may introspect for that API).
    // and what it may have (clientPolicy.ts: minimum level, first-party, scope and resource allowlists).
    extraClientMetadata: { properties: [RESOURCE_SERVER_METADATA, TOKEN_TTL_METADATA, ...Object.values(POLICY_METADATA)] },
    scopes: [...OIDC_SCOPES],
    // acr, amr and auth_time are in every ID token (oidc-provider otherwise adds acr only when
    // acr_values is sent): applications must see the level actually reached (DESIGN.md principle 2).
    claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], profile: ['name', 'preferred_username'], email: ['email'] },
    acrValues: [...ACR_VALUES],
    responseTypes: ['code'],
    clientAuthMethods: ['none', 'private_key_jwt', ...(shared ? (['client_secret_basic', 'client_secret_post'] as const) : [])],
    clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: oidc.signingAlg, token_endpoint_auth_method: 'private_key_jwt' },
    enabledJWA: {
      // OIDC Discovery 1.0 §3: `id_token_signing_alg_values_supported` "MUST include RS256"; the
      // configured algorithm stays the default (clientDefaults), RS256 is for clients that ask for it.
      idTokenSigningAlgValues: [...new Set([oidc.signingAlg, 'RS256' as const])],
      clientAuthSigningAlgValues: [...ASYMMETRIC_ALGS, ...(shared ? (['HS256'] as const) : [])],
      dPoPSigningAlgValues: ['ES256', 'EdDSA', 'Ed25519', 'PS256'],
    },
    // RFC 9700 §2.1.1: PKCE for every client; oidc-provider 9 only speaks S256 (no `plain`).
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      // Core §5.5: an essential `acr` claim is honoured like acr_values (requirements.ts, policy.ts).
      claimsParameter: { enabled: true },
      registration: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      dPoP: { enabled: true },
      // What lets the provider take signingKeys.ts's keys (ExternalSigningKey), in the version of
      // oidc-provider 9.x this was written against: a later one with another version refuses to start.
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      userinfo: { enabled: true },
      // Back-Channel Logout 1.0: client metadata, discovery and `sid` in ID tokens; Keybound sends
      // the logout tokens itself, whenever a Keybound session ends (backchannel.ts, provider.ts).
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = renderLogoutPage(form, ctx.oidc.client?.clientName ?? null);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = renderLoggedOutPage(ctx.oidc.client?.clientName ?? null);
        },
      },
      resourceIndicators: {
        enabled: true,
        // Both hooks see every authorization, PAR and client-credentials request with its client:
        // anything outside the client's allowlists is refused there (allowlist.ts).
        defaultResource: async (ctx, client, oneOf) => {
          refuseUnallowed(ctx, client);
          return oneOf;
        },
        // Token requests may leave `resource` out and get the one granted at authorization (RFC 8707 §2.2).
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator, client) => {
          if (!oidc.resources.includes(indicator)) throw new errors.InvalidTarget(`${indicator} is not a resource this server issues tokens for`);
          refuseUnallowed(ctx, client, indicator);
          const allowed = clientPolicy(client).scopes;
          return {
            audience: indicator,
            scope: oidc.resourceScopes.filter((s) => allowed.includes(s)).join(' '),
            // A workload's own lifetime (at most 900 s, services/nhi/workloads.ts) before the server's.
            accessTokenTTL: clientTokenTtl(client) ?? oidc.accessTokenTtlS,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: oidc.signingAlg } },
          };
        },
      },
    },
    // RFC 8414 §2: how clients authenticate to introspection (resource servers only: no `none`)
    // and revocation (public clients revoke their own refresh tokens without authentication).
    discovery: {
      introspection_endpoint_auth_methods_supported: ['private_key_jwt', ...(shared ? ['client_secret_basic', 'client_secret_post'] : [])],
      revocation_endpoint_auth_methods_supported: ['none', 'private_key_jwt', ...(shared ? ['client_secret_basic', 'client_secret_post'] : [])],
    },
    // An exchanged token (tokenExchange.ts) carries `act` and the subject token's assurance claims.
    // The provider hands no context here (providerContext.ts); the grant registered the token with its request.
    extraTokenClaims: async (_ctx, token) => exchangedClaims(token) ?? assuranceClaims(requestOf(token)),
    interactions: { policy: keyboundPolicy(deps), url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Every client allowed the refresh_token grant gets one; without `offline_access` it ends with the session.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // RFC 9700 §4.14.2: a refresh token is used once; each use returns a new one.
    // A refresh is refused when the client is no longer allowed what the grant holds (allowlist.ts).
    rotateRefreshToken: (ctx) => {
      checkRefresh(ctx);
      return true;
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = renderProviderErrorPage(out);
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? oidc.accessTokenTtlS,
      ClientCredentials: (_ctx, token, client) => token.resourceServer?.accessTokenTTL ?? clientTokenTtl(client) ?? oidc.accessTokenTtlS,
      AuthorizationCode: oidc.codeTtlS,
      IdToken: oidc.idTokenTtlS,
      RefreshToken: (_ctx, token) => refreshTokenTtl(deps, token),
      Interaction: oidc.interactionTtlS,
      // The provider session mirrors the Keybound session (policy.ts), which has its own limits.
      Session: Math.ceil(deps.config.sessionLimits[1].maxMs / 1000),
      Grant: oidc.refreshTokenTtlS,
    },
  };
}

/**
 * A refresh token never outlives the absolute limit of the session it came from, for that session's
 * level (NIST SP 800-63B-4: AAL2 24 h, AAL3 12 h; KEYBOUND_SESSION_AAL*_MAX): a rotated token gets
 * what is left of it. `offline_access` is the one exception (it asks for access while the person is
 * away, Core §11); those grants end with the passkey and the account's state (services/grants.ts).
 */
function refreshTokenTtl(deps: Deps, token: { scope?: string | undefined; acr?: string | undefined; authTime?: number | undefined }): number {
  const configured = deps.config.oidc.refreshTokenTtlS;
  if (token.scope?.split(' ').includes('offline_access')) return configured;
  if (!token.acr || !isAcr(token.acr) || token.authTime === undefined) return configured;
  const endsAt = token.authTime + Math.floor(deps.config.sessionLimits[aalOf(token.acr)].maxMs / 1000);
  return Math.max(1, Math.min(configured, endsAt - Math.floor(deps.clock() / 1000)));
}

/**
 * RFC 9068 §2.2.1 and RFC 9470 §3: access tokens say how the person authenticated. The code or
 * refresh token being redeemed carries what the sign-in proved; client credentials carry nothing.
 */
function assuranceClaims(ctx: KoaContextWithOIDC | undefined): Record<string, unknown> | undefined {
  const source = ctx?.oidc?.entities.RefreshToken ?? ctx?.oidc?.entities.AuthorizationCode;
  if (!source?.accountId || !source.acr) return undefined;
  return { acr: source.acr, amr: source.amr, auth_time: source.authTime };
}

/**
 * RFC 7662 §2.1 lets the server decide who may introspect; Keybound lets only resource servers
 * (clients made with `--resource-server <indicator>`), and only for tokens whose audience is that
 * API (§4: a token's existence and claims are not for other clients). Any other caller gets
 * `{"active": false}`. JWT access tokens are not introspected at all (oidc-provider answers
 * `unsupported_token_type`): resource servers verify them against the JWKS (docs/oidc.md).
 */
async function introspectionAllowed(_ctx: KoaContextWithOIDC, client: Client, token: object): Promise<boolean> {
  const own = (client as unknown as Record<string, unknown>)[RESOURCE_SERVER_METADATA];
  if (typeof own !== 'string') return false;
  const { aud: claimed, resourceServer } = token as { aud?: string | string[]; resourceServer?: { audience?: string } };
  const aud = claimed ?? resourceServer?.audience;
  return (Array.isArray(aud) ? aud : aud ? [aud] : []).includes(own);
}

/** RFC 7009 §2.1: a client may revoke only tokens issued to it. */
async function revocationAllowed(_ctx: KoaContextWithOIDC, client: Client, token: { clientId?: string | undefined }): Promise<boolean> {
  if (token.clientId === client.clientId) return true;
  throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
}
