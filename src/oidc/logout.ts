import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Deps } from '../services/deps.ts';
import { resolveSession, signOut } from '../services/sessions.ts';
import { sessionCookieName } from '../http/context.ts';

/**
 * RP-initiated logout ends the Keybound session too. After the provider confirms a full sign-out
 * (`end_session_confirm` with `logout=yes`, OpenID Connect RP-Initiated Logout §2), the Keybound
 * session behind the browser's cookie is revoked and the cookie cleared, so the next application
 * sign-in asks for a passkey again.
 */
export function endKeyboundSessionOnLogout(deps: Deps): Middleware {
  const name = sessionCookieName(deps.config);
  return async (ctx, next) => {
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (oidc?.route !== 'end_session_confirm' || ctx.status !== 303 || !oidc.params?.logout) return;
    const active = await resolveSession(deps, ctx.cookies.get(name) ?? undefined);
    if (active.ok) await signOut(deps, active.value, { ip: ctx.ip, userAgent: String(ctx.get('user-agent')).slice(0, 512) });
    // Koa's cookie helper refuses Secure cookies on plain HTTP behind a proxy it does not trust: write the header.
    ctx.append('set-cookie', `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${deps.config.secureCookies ? '; Secure' : ''}`);
  };
}
