/**
 * Two helpers of oidc-provider's own grants that a grant registered with `registerGrantType`
 * needs and the package does not export (it has no `exports` map, so the files can be imported):
 * DPoP proof validation (RFC 9449 §4.3, with the provider's algorithms, nonces and `htu` rules) and
 * binding a token to the proof's key with its replay check. oidc-provider is pinned to 9.x.
 */
declare module 'oidc-provider/lib/helpers/validate_dpop.js' {
  /** The proof's key thumbprint and claims, or `undefined` when the request has no DPoP header. */
  export default function validateDpop(provider: unknown, ctx: unknown, accessToken?: string): Promise<{ readonly thumbprint: string; readonly jti: string; readonly iat: number } | undefined>;
}

declare module 'oidc-provider/lib/helpers/grant_common.js' {
  export function applyDpopBinding(provider: unknown, ctx: unknown, dPoP: unknown, token: unknown): Promise<void>;
}

/**
 * The AsyncLocalStorage each provider request runs in; Keybound makes it a pass-through
 * (providerContext.ts says why).
 */
declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';
  const als: AsyncLocalStorage<unknown>;
  export default als;
}
