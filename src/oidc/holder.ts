import type Provider from 'oidc-provider';
import type { Deps } from '../services/deps.ts';
import { ensureSigningKey, replaceShortRsaKeys, signingKeyFingerprint } from './keys.ts';
import { buildProvider, type BuiltProvider, type ProviderLog } from './provider.ts';

/**
 * The running provider. oidc-provider fixes its keys when it is built, so when the signing keys
 * change (a rotation on any instance, or a retired key's overlap ending) the provider is built
 * again; requests in flight finish on the one they started with. All state is in the database,
 * so nothing is lost by the swap.
 */
export class ProviderHolder {
  private constructor(
    private readonly deps: Deps,
    private readonly log: ProviderLog,
    private built: BuiltProvider,
  ) {}

  static async create(deps: Deps, log: ProviderLog): Promise<ProviderHolder> {
    await ensureSigningKey(deps);
    // RSA keys made before they were 3072 bits are rotated out on the ordinary schedule (keys.ts).
    for (const r of await replaceShortRsaKeys(deps)) log.info({ kid: r.kid, alg: r.alg, activeFrom: r.activeFrom, retired: r.retired?.kid ?? null }, 'short RSA signing key rotated');
    return new ProviderHolder(deps, log, await buildProvider(deps, log));
  }

  get provider(): Provider {
    return this.built.provider;
  }

  get handle(): BuiltProvider['handle'] {
    return this.built.handle;
  }

  /** Rebuilds the provider if the signing keys changed; `true` when it did. */
  async refresh(): Promise<boolean> {
    await this.deps.store.oidcKeys.purgeRetired(this.deps.clock());
    if ((await signingKeyFingerprint(this.deps)) === this.built.fingerprint) return false;
    await ensureSigningKey(this.deps);
    this.built = await buildProvider(this.deps, this.log);
    this.log.info({ keys: this.built.fingerprint }, 'oidc signing keys changed; provider rebuilt');
    return true;
  }
}
