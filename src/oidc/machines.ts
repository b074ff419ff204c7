import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { parseApiKey } from '../core/nhi/apiKeyFormat.ts';
import type { Deps } from '../services/deps.ts';
import { checkApiKey } from '../services/nhi/apiKeys.ts';
import { clientTokenTtl, RESOURCE_SERVER_METADATA } from './clients.ts';

/**
 * Machine identities at the provider (docs/nhi.md):
 * - A workload's last use is recorded when the token endpoint issues it a token (written before
 *   the response leaves: Koa sends it after every middleware returns).
 * - RFC 7662 introspection answers for API keys too, so resource servers check tokens and keys
 *   alike. oidc-provider authenticates the caller and looks the token up among its own models; a
 *   key is none of them, so it answers `{"active": false}`. Only then, and only for a resource
 *   server (a client made with `--resource-server`, the same rule as for tokens: configuration.ts
 *   `introspectionAllowed`) and a value with the key format and a right checksum, is the answer
 *   replaced by the key's (services/nhi/apiKeys.ts `checkApiKey`, which records the use).
 */
export function machineIdentities(deps: Deps): Middleware {
  return async (ctx, next) => {
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc as KoaContextWithOIDC['oidc'] | undefined;
    const client = oidc?.client;
    if (!oidc || !client || ctx.status !== 200) return;
    if (oidc.route === 'token') {
      // Only workloads carry their own token lifetime (services/nhi/workloads.ts): no write for other clients.
      if (clientTokenTtl(client) !== undefined) await deps.store.workloads.recordUse(client.clientId, deps.clock());
      return;
    }
    if (oidc.route !== 'introspection') return;
    const body = ctx.body as { active?: unknown } | undefined;
    const token = oidc.params?.token;
    if (body?.active !== false || typeof token !== 'string' || !parseApiKey(token)) return;
    if (typeof (client as unknown as Record<string, unknown>)[RESOURCE_SERVER_METADATA] !== 'string') return;
    const checked = await checkApiKey(deps, token);
    if (!checked.ok) return;
    const key = checked.value;
    const owner = await deps.store.accounts.findById(key.ownerId);
    // RFC 7662 §2.2: active, scope, exp, iat, sub, username, token_type, iss.
    ctx.body = {
      active: true,
      token_type: 'api_key',
      scope: key.scopes.join(' '),
      sub: key.ownerId,
      ...(owner ? { username: owner.username } : {}),
      iat: Math.floor(key.createdAt / 1000),
      exp: Math.floor(key.expiresAt / 1000),
      iss: deps.config.oidc.issuer,
      keybound_api_key_id: key.id,
    };
  };
}
