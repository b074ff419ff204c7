/**
 * Names of oidc-provider's cookies (OWASP ASVS 5.0 3.3.1, 3.3.3). On an HTTPS origin each carries a
 * prefix the browser enforces, as Keybound's own session cookie does (http/context.ts):
 *
 * - the provider session cookie is set with Path=/ and no Domain, so it takes `__Host-` (RFC 6265bis
 *   §4.1.3.2: Secure, Path=/, no Domain; it cannot be set or overwritten by a sibling subdomain or a
 *   plain-HTTP page);
 * - the interaction and resume cookies are set by oidc-provider with a path of their own
 *   (`/interaction/<uid>` and `/oidc/auth/<uid>`, so each is sent only where it is read), which
 *   `__Host-` forbids; they take `__Secure-` (§4.1.3.1: Secure required), and oidc-provider never
 *   gives them a Domain (host-only).
 *
 * Plain-HTTP localhost cannot set Secure cookies, so there the names carry no prefix.
 */
export interface ProviderCookieNames {
  readonly session: string;
  readonly interaction: string;
  readonly resume: string;
}

export function providerCookieNames(secure: boolean): ProviderCookieNames {
  const names = { session: 'keybound_oidc_session', interaction: 'keybound_oidc_interaction', resume: 'keybound_oidc_resume' };
  if (!secure) return names;
  return { session: `__Host-${names.session}`, interaction: `__Secure-${names.interaction}`, resume: `__Secure-${names.resume}` };
}
