import { createHmac } from 'node:crypto';
import { base64url } from '../../core/bytes.ts';
import type { Account } from '../../core/model.ts';
import type { Deps } from '../deps.ts';

/** A new attempt id: 128 random bits handed to the client; only its hash is stored. */
export function newAttemptId(deps: Deps): string {
  return base64url.encode(deps.random(16));
}

/**
 * The per-account delay key. An unknown username gets a stand-in derived from it with the
 * installation secret, so its attempts are delayed exactly like a real account's: the delays reveal
 * nothing about which usernames exist.
 */
export function accountThrottleKey(deps: Deps, account: Account | null | undefined, username: string): string {
  return account ? `acct:${account.id}` : `user:${usernameTag(deps, username)}`;
}

export function usernameTag(deps: Deps, username: string): string {
  return createHmac('sha256', deps.installSecret).update(`code-user:${username}`).digest('base64url').slice(0, 22);
}

/** A random opaque id for a new authenticator or recovery code. */
export function newId(deps: Deps): string {
  return base64url.encode(deps.random(12));
}
