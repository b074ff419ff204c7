import { createHash } from 'node:crypto';
import type Provider from 'oidc-provider';
import { hashSecret } from '../core/tokens.ts';
import type { Deps } from '../services/deps.ts';

/**
 * One-time `jti`s: client assertions (RFC 7523 §3 item 7) and DPoP proofs (RFC 9449 §11.1).
 * oidc-provider's `ReplayDetection.unique` finds and then saves, so two requests carrying the same
 * `jti` at the same moment could both pass. This replaces it with the store's single atomic insert:
 * of any number of racing requests, exactly one is accepted.
 */
export function installAtomicReplayDetection(provider: Provider, deps: Deps): void {
  Object.defineProperty(provider.ReplayDetection, 'unique', {
    configurable: true,
    value: async (iss: string, jti: string, exp: number): Promise<boolean> => {
      // The same identifier oidc-provider derives, hashed again like every other payload key.
      const id = createHash('sha256').update(`${iss}${jti}`).digest('base64url');
      return deps.store.oidcPayloads.insertOnce(
        { model: 'ReplayDetection', key: hashSecret(id), payload: JSON.stringify({ iss, exp }), grantId: null, uid: null, userCode: null, accountId: null, expiresAt: exp * 1000 },
        deps.clock(),
      );
    },
  });
}
