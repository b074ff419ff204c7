import type { ErrorCode } from './errors.ts';
import type { Role } from './model.ts';

/** What a role allows (DESIGN.md "Policy"). Built from configuration; read-only at run time. */
export interface RolePolicy {
  /** Backup-eligible (syncable) passkeys may be registered and used. */
  readonly allowSyncedPasskeys: boolean;
}

export type RolePolicies = Readonly<Record<Role, RolePolicy>>;

/** Whether a passkey with this evidence may be bound to, or used by, an account of the role. */
export function passkeyAllowed(policy: RolePolicy, passkey: { readonly backupEligible: boolean }): ErrorCode | null {
  if (passkey.backupEligible && !policy.allowSyncedPasskeys) return 'passkey_synced_not_allowed';
  return null;
}
