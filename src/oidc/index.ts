import type { FastifyInstance } from 'fastify';
import type { Deps } from '../services/deps.ts';
import { ProviderHolder } from './holder.ts';
import { registerInteractionRoutes } from './interaction.ts';
import { checkRateLimit } from '../services/rateLimit.ts';
import { mountProvider } from './mount.ts';
import { LogoutDispatcher } from './backchannel.ts';
import { SsfDispatcher } from '../ssf/dispatch.ts';
import { registerSsfRoutes } from '../ssf/routes.ts';
import { registerScimRoutes } from '../scim/routes.ts';

/**
 * The OpenID Connect provider (docs/oidc.md): oidc-provider mounted at /oidc in the same server,
 * its sign-in interaction at /interaction/:uid. Every instance re-reads the signing keys every
 * KEYBOUND_OIDC_KEY_REFRESH and drops expired provider state on the same beat.
 */
export async function registerOidc(app: FastifyInstance, deps: Deps): Promise<ProviderHolder> {
  const holder = await ProviderHolder.create(deps, app.log);
  const { oidc, rateLimit } = deps.config;
  // Issue 10, finding 10: each anonymous authorization request stores a pending sign-in, so they are
  // limited per client address like the passkey ceremonies, on the shared counters.
  mountProvider(app, holder, deps.config, (address) => checkRateLimit(deps, `oidc-auth:${address}`, { max: oidc.authRateMax, windowMs: rateLimit.windowMs }));
  registerInteractionRoutes(app, deps, holder);
  const tick = async () => {
    await holder.refresh();
    await deps.store.oidcPayloads.purgeExpired(deps.clock());
    await deps.store.oidcGrantSessions.purgeOrphans();
  };
  const timer = setInterval(() => {
    tick().catch((error: unknown) => app.log.warn({ err: { message: (error as Error).message } }, 'oidc housekeeping failed'));
  }, deps.config.oidc.keyRefreshMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
  // Back-channel logout tokens queued by ended sessions, on this instance or any other (backchannel.ts).
  const logouts = new LogoutDispatcher(deps, app.log);
  logouts.start();
  app.decorate('backchannelLogouts', logouts);
  app.addHook('onClose', async () => logouts.close());
  // OpenID Shared Signals: stream management for clients allowed `ssf`, and the SETs owed to their
  // streams, queued by changes on this instance or any other (src/ssf).
  registerSsfRoutes(app, deps, holder);
  // SCIM 2.0 provisioning for clients and API keys allowed `scim` (src/scim, docs/scim.md).
  await registerScimRoutes(app, deps, holder);
  const signals = new SsfDispatcher(deps, app.log);
  signals.start();
  app.decorate('ssfDispatcher', signals);
  app.addHook('onClose', async () => signals.close());
  return holder;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Sends back-channel logout tokens (oidc/backchannel.ts). */
    backchannelLogouts?: LogoutDispatcher;
    /** Sends Security Event Tokens to Shared Signals streams (ssf/dispatch.ts). */
    ssfDispatcher?: SsfDispatcher;
  }
}
