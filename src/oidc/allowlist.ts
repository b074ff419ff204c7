import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { clientPolicy } from './clientPolicy.ts';

// The allowlists of clientPolicy.ts, as the provider applies them (OWASP ASVS 5.0 10.4.11).

const listOf = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []);

/**
 * Refuses a request that names a scope or a resource the client is not allowed (RFC 6749 §5.2
 * `invalid_scope`, RFC 8707 §2 `invalid_target`). Called from the provider's resource-indicator
 * hooks (configuration.ts), which every authorization request, pushed authorization request and
 * client-credentials request passes through with its client known, before anything is stored or
 * issued; `checkRefresh` covers a refresh.
 */
export function refuseUnallowed(ctx: KoaContextWithOIDC, client: object, indicator?: string): void {
  const policy = clientPolicy(client);
  const params = (ctx.oidc?.params ?? {}) as { scope?: unknown; resource?: unknown };
  const scopes = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : [];
  const extra = scopes.find((s) => !policy.scopes.includes(s));
  if (extra !== undefined) throw new errors.InvalidScope('requested scope is not allowed for this client', extra);
  const target = [...listOf(params.resource), ...(indicator !== undefined ? [indicator] : [])].find((r) => !policy.resources.includes(r));
  if (target !== undefined) throw new errors.InvalidTarget(`${target} is not a resource this client may ask for`);
}

/**
 * A refresh may not carry on what the client is no longer allowed (its allowlists narrowed since
 * the grant, `clients update`): refused before the refresh token is used.
 */
export function checkRefresh(ctx: KoaContextWithOIDC): void {
  const client = ctx.oidc.client;
  const token = ctx.oidc.entities.RefreshToken;
  if (!client || !token) return;
  const policy = clientPolicy(client);
  const extra = (token.scope ?? '').split(' ').filter(Boolean).find((s) => !policy.scopes.includes(s));
  if (extra !== undefined) throw new errors.InvalidScope('the client is no longer allowed a scope of this grant', extra);
  const target = listOf(token.resource).find((r) => !policy.resources.includes(r));
  if (target !== undefined) throw new errors.InvalidTarget(`${target} is no longer a resource this client may ask for`);
  refuseUnallowed(ctx, client);
}
