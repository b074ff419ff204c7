import type { FastifyBaseLogger } from 'fastify';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { Deps } from '../services/deps.ts';
import { providerConfiguration } from './configuration.ts';
import { securityHeaders } from './headers.ts';
import { loadCookieKeys, loadSigningKeys } from './keys.ts';
import { bindGrantsToSessions } from './grantBinding.ts';
import { endKeyboundSessionOnLogout } from './logout.ts';
import { installAtomicReplayDetection } from './replay.ts';
import { auditClientAuthentication } from './events.ts';
import { machineIdentities } from './machines.ts';
import { registerTokenExchange } from './tokenExchange.ts';
import { assertNoContextReader, makeProviderContextPassThrough, rememberTokenRequests } from './providerContext.ts';

/** Where provider events are logged (Fastify's logger in the server, nothing in the CLI). */
export type ProviderLog = Pick<FastifyBaseLogger, 'info' | 'error'>;

export interface BuiltProvider {
  readonly provider: Provider;
  /** The Node request handler (made once: `callback()` composes the middleware anew on each call). */
  readonly handle: ReturnType<Provider['callback']>;
  /** Identifies the signing keys it was built with. */
  readonly fingerprint: string;
}

/** Errors the provider reports to clients (4xx) are logged with their RFC code only, never a token. */
const CLIENT_ERROR_EVENTS = [
  'authorization.error',
  'grant.error',
  'introspection.error',
  'revocation.error',
  'end_session.error',
  'userinfo.error',
  'backchannel.error',
] as const;

/** Builds oidc-provider over the store and the current signing keys. */
export async function buildProvider(deps: Deps, log: ProviderLog): Promise<BuiltProvider> {
  const [keys, cookieKeys] = await Promise.all([loadSigningKeys(deps), loadCookieKeys(deps)]);
  const configuration = providerConfiguration(deps, { jwks: keys.jwks, cookieKeys });
  assertNoContextReader(configuration);
  makeProviderContextPassThrough();
  const provider = new Provider(deps.config.oidc.issuer, configuration);
  rememberTokenRequests(provider);
  // mount.ts sets the forwarded host and scheme from the issuer (and drops X-Forwarded-For unless trusted).
  provider.proxy = true;
  installAtomicReplayDetection(provider, deps);
  // RFC 8693 token exchange for agents acting under a person's delegation (tokenExchange.ts).
  registerTokenExchange(provider, deps, keys.jwks);
  // Logout tokens are sent by Keybound's outbox whenever a Keybound session ends, an RP-initiated
  // logout included (backchannel.ts); the provider's own sender would send a second one, inside
  // the logout request, once and unbounded by Keybound's limits.
  provider.Client.prototype.backchannelLogout = async () => undefined;
  provider.use(securityHeaders(deps.config));
  provider.use(endKeyboundSessionOnLogout(deps));
  provider.use(bindGrantsToSessions(deps));
  provider.use(machineIdentities(deps));
  auditClientAuthentication(provider, deps);
  provider.on('server_error', (_ctx: KoaContextWithOIDC, error: Error) => log.error({ err: error }, 'oidc provider error'));
  for (const event of CLIENT_ERROR_EVENTS) {
    provider.on(event as 'grant.error', (ctx: KoaContextWithOIDC, error: { error?: string; status?: number }) =>
      log.info({ event, error: error.error, status: error.status, client: ctx.oidc?.client?.clientId }, 'oidc request refused'),
    );
  }
  return { provider, handle: provider.callback(), fingerprint: keys.fingerprint };
}
