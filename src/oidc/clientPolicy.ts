import { ACR, isAcr, type Acr } from '../core/assurance/level.ts';

/**
 * What each OpenID client may have, set by `keybound clients create|update` and kept in its
 * metadata (configuration.ts lists these properties as `extraClientMetadata`):
 *
 * - `keybound_min_acr`: the weakest sign-in it may receive a code or token from (OWASP ASVS 5.0
 *   6.3.3; DESIGN.md principle 1). A request without `acr_values`, or with weaker ones, is raised
 *   to it (requirements.ts `loginRequirement`).
 * - `keybound_first_party`: no consent screen (ASVS 10.7.1); any other client asks the person.
 * - `keybound_sensitive`: the risk policy's `sensitive_client` signal (docs/risk.md); by default its
 *   sign-ins must be passkey sign-ins no older than 10 minutes.
 * - `keybound_scopes`, `keybound_resources`: allowlists (ASVS 10.4.11). A request naming any other
 *   scope or resource indicator is refused with `invalid_scope` / `invalid_target` (RFC 6749 §5.2,
 *   RFC 8707 §2), at the authorization endpoint, PAR, client credentials and refresh.
 *
 * Pure (no oidc-provider import: the CLI reads policies without loading the provider); the checks
 * the provider runs are in allowlist.ts.
 *
 * A client whose metadata lacks a property gets the strictest reading (migration 008 wrote them all
 * into clients made before they existed, so this is a guard, not a default anyone relies on).
 */
/**
 * `ssf`: managing Shared Signals streams (src/ssf), with a client-credentials token (ssf/auth.ts);
 * it carries no claims. `scim`: SCIM 2.0 provisioning (src/scim, docs/scim.md), the same way.
 */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'ssf', 'scim'] as const;

export const POLICY_METADATA = {
  minAcr: 'keybound_min_acr',
  firstParty: 'keybound_first_party',
  scopes: 'keybound_scopes',
  resources: 'keybound_resources',
  sensitive: 'keybound_sensitive',
} as const;

/** Phishing-resistant by default (DESIGN.md principle 1): AAL2 with a passkey. */
export const DEFAULT_MIN_ACR: Acr = ACR.aal2PhishingResistant;

export interface ClientPolicy {
  readonly minAcr: Acr;
  readonly firstParty: boolean;
  readonly scopes: readonly string[];
  readonly resources: readonly string[];
  readonly sensitive: boolean;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The policy of a client, from its stored metadata or oidc-provider's Client (which keeps these properties as given). */
export function clientPolicy(metadata: object): ClientPolicy {
  const m = metadata as Record<string, unknown>;
  const acr = m[POLICY_METADATA.minAcr];
  return {
    minAcr: typeof acr === 'string' && isAcr(acr) ? acr : DEFAULT_MIN_ACR,
    firstParty: m[POLICY_METADATA.firstParty] === true,
    scopes: strings(m[POLICY_METADATA.scopes]),
    resources: strings(m[POLICY_METADATA.resources]),
    sensitive: m[POLICY_METADATA.sensitive] === true,
  };
}

/** The OpenID scopes a client gets when `--scope` is not given: identity only (no `offline_access`, no API). */
export function defaultScopes(grantTypes: readonly string[]): string[] {
  return grantTypes.includes('authorization_code') ? ['openid', 'profile', 'email'] : [];
}
