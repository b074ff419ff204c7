import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { sessionCookieName } from '../http/context.ts';
import type { Deps } from '../services/deps.ts';
import { resolveSession } from '../services/sessions.ts';

/**
 * Binds each grant to the Keybound session that authorized it (services/grants.ts). When the
 * authorization endpoint (or its resume after the sign-in) has issued a code, the browser's Keybound
 * session is the one the `keybound_session` check just found mirroring the provider session; the
 * binding is written before the redirect carrying the code leaves (Koa sends the response after
 * every middleware returns). A code whose session cannot be found gets no binding, and a grant
 * without one is refused at the token endpoint.
 */
export function bindGrantsToSessions(deps: Deps): Middleware {
  const name = sessionCookieName(deps.config);
  return async (ctx, next) => {
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc as KoaContextWithOIDC['oidc'] | undefined;
    const code = oidc?.entities?.AuthorizationCode;
    if (!code?.grantId || !code.accountId) return;
    const active = await resolveSession(deps, ctx.cookies.get(name) ?? undefined);
    if (!active.ok || active.value.account.id !== code.accountId) return;
    const { session } = active.value;
    await deps.store.oidcGrantSessions.bind({
      grantId: code.grantId,
      sessionId: session.id,
      accountId: session.accountId,
      passkeyId: session.passkeyId,
      providerSessionUid: code.sessionUid ?? null,
      // Core §11: offline_access asks for access while the person is not signed in.
      offline: typeof code.scope === 'string' && code.scope.split(' ').includes('offline_access'),
      createdAt: deps.clock(),
      // For back-channel logout (backchannel.ts): the client, and the `sid` its ID tokens carry.
      clientId: code.clientId ?? null,
      sid: code.sid ?? oidc?.session?.sidFor(code.clientId ?? '') ?? null,
    });
  };
}
