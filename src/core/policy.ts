import type { CodeFactor } from '../codes/factors.ts';
import type { ErrorCode } from './errors.ts';
import type { Role } from './model.ts';

/** What a role allows (DESIGN.md "Policy"). Built from configuration; read-only at run time. */
export interface RolePolicy {
  /** Backup-eligible (syncable) passkeys may be registered and used. */
  readonly allowSyncedPasskeys: boolean;
  /** One-time-code factors that may be enrolled and used to sign in (none, by default, for `admin`). */
  readonly codeFactors: readonly CodeFactor[];
  /** Lowest level a sign-in may have. Codes alone are AAL1, so they need 1. */
  readonly minAal: 1 | 2;
}

export type RolePolicies = Readonly<Record<Role, RolePolicy>>;

/** Whether a passkey with this evidence may be bound to, or used by, an account of the role. */
export function passkeyAllowed(policy: RolePolicy, passkey: { readonly backupEligible: boolean }): ErrorCode | null {
  if (passkey.backupEligible && !policy.allowSyncedPasskeys) return 'passkey_synced_not_allowed';
  return null;
}

/**
 * Whether a code factor may be enrolled or used by an account of the role. A sign-in with codes
 * alone is AAL1 (NIST SP 800-63B-4 §2.1), so the role must allow AAL1 sign-ins as well as list the
 * factor; email codes in particular are "allowed only for roles whose policy allows AAL1".
 */
export function codeFactorAllowed(policy: RolePolicy, factor: CodeFactor): ErrorCode | null {
  if (policy.minAal > 1 || !policy.codeFactors.includes(factor)) return 'factor_not_allowed';
  return null;
}
