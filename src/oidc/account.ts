import type { FindAccount } from 'oidc-provider';
import type { Deps } from '../services/deps.ts';

/**
 * oidc-provider's account lookup. An account that is not active has no claims and no tokens: the
 * token endpoint refuses a refresh for it (`invalid_grant`) the moment it is suspended or offboarded.
 */
export function findAccount(deps: Deps): FindAccount {
  return async (_ctx, sub) => {
    const account = await deps.store.accounts.findById(sub);
    if (!account || account.status !== 'active') return undefined;
    return {
      accountId: account.id,
      // oidc-provider keeps only the claims the granted scopes allow (configuration.ts `claims`).
      claims: () => ({
        sub: account.id,
        name: account.displayName,
        preferred_username: account.username,
        ...(account.email ? { email: account.email } : {}),
      }),
    };
  };
}
