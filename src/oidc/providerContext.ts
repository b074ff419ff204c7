import als from 'oidc-provider/lib/helpers/als.js';
import type Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';

/**
 * oidc-provider runs every request inside an AsyncLocalStorage (`lib/helpers/initialize_app.js`:
 * `als.run(ctx, next)`). In oidc-provider 9 its readers are the public `Provider.ctx` getter, the
 * client ID metadata document feature, and the token models, which hand the stored context to the
 * configuration's functions they call (`ttl.*`, `extraTokenClaims`, `formats.bitsOfOpaqueRandomness`,
 * `pairwiseIdentifier`, the JWT customizer). Keybound reads `Provider.ctx` nowhere, leaves the
 * feature off (`buildProvider` refuses a configuration that turns it on), sets none of the last three,
 * and its `ttl` functions ignore the context. Its `extraTokenClaims` needs the request (an access
 * token carries the `acr` of the code or refresh token it was issued for): it finds it with
 * `requestOf(token)`, from the entity the grant registered before saving the token (every grant of
 * oidc-provider 9 calls `ctx.oidc.entity('AccessToken', token)` first).
 *
 * On Node.js 20 an AsyncLocalStorage that has run once turns on async_hooks' promise hooks for the
 * whole process: a hook call at every promise's creation and around every reaction, in every request,
 * sign-ins included. Counted with callgrind (BENCHMARKS.md, "eighth look"), turning them off took a
 * client-credentials token from 3.51 M to 2.89 M instructions and a passkey sign-in in a server that
 * has served OpenID Connect from 2.93 M to 2.59 M, for a context nobody reads. So
 * the provider's storage is made a pass-through: `run` calls its function and stores nothing, and
 * `Provider.ctx` is always `undefined` in Keybound. (From Node.js 24 the storage is built on
 * AsyncContextFrame and costs no hooks; Keybound runs on 20.)
 *
 * `test/oidc/providerContext.test.ts` checks that the provider's package has no other reader of the
 * storage, and that a server which has served OpenID Connect requests has no promise hooks on.
 */
let passThrough = false;

export function makeProviderContextPassThrough(): void {
  if (passThrough) return;
  als.run = function run<R, A extends unknown[]>(_store: unknown, callback: (...args: A) => R, ...args: A): R {
    return callback(...args);
  };
  passThrough = true;
}

const requests = new WeakMap<object, KoaContextWithOIDC>();

/**
 * Remembers the request of every access token a grant registers (`AccessToken`). Client-credentials
 * tokens are not recorded: they carry no sign-in, so `extraTokenClaims` has nothing to read from
 * their request.
 */
export function rememberTokenRequests(provider: Provider): void {
  const prototype = provider.OIDCContext.prototype as { entity(this: { ctx: KoaContextWithOIDC }, key: string, value: unknown): void };
  const entity = prototype.entity;
  prototype.entity = function remembered(key, value) {
    if (key === 'AccessToken' && typeof value === 'object' && value !== null) requests.set(value, this.ctx);
    entity.call(this, key, value);
  };
}

/** The request a token is being issued in (see `rememberTokenRequests`). */
export function requestOf(token: object): KoaContextWithOIDC | undefined {
  return requests.get(token);
}

/** The one provider feature that reads the request context; Keybound does not turn it on. */
export function assertNoContextReader(configuration: Configuration): void {
  const features = configuration.features as Record<string, { enabled?: boolean } | undefined> | undefined;
  if (features?.['clientIdMetadataDocument']?.enabled) {
    throw new Error('features.clientIdMetadataDocument reads Provider.ctx, which Keybound does not keep (src/oidc/providerContext.ts)');
  }
}
