import type { CodeFactor } from '../codes/factors.ts';
import type { FactorEvidence } from './assurance/level.ts';
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
  /** What self-service recovery needs (README "Recovery"). */
  readonly recovery: RecoveryPolicy;
}

/**
 * Self-service recovery of a role (NIST SP 800-63B-4 §4.2.1): `off`; one saved recovery code
 * (`proofs` empty), for roles whose sign-ins may be AAL1; or a saved code and a second, independent
 * proof from one of `proofs` (an authenticator still bound, or a code sent to a verified address),
 * which AAL2 roles need.
 */
export interface RecoveryPolicy {
  readonly enabled: boolean;
  readonly proofs: readonly Exclude<CodeFactor, 'recovery'>[];
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
  // Recovery codes are a recovery path, never a sign-in: they open a recovery session only.
  if (factor === 'recovery' || policy.minAal > 1 || !policy.codeFactors.includes(factor)) return 'factor_not_allowed';
  return null;
}

/**
 * Whether a code factor may be bound to an account of the role: one it may sign in with, recovery
 * codes where self-service recovery is on, or a factor the role's recovery takes as a second proof
 * (an AAL2 role binds it for recovery only; it never signs in on its own).
 */
export function codeFactorBindable(policy: RolePolicy, factor: CodeFactor): ErrorCode | null {
  if (factor === 'recovery') return policy.recovery.enabled ? null : 'factor_not_allowed';
  if (codeFactorAllowed(policy, factor) === null) return null;
  return policy.recovery.enabled && policy.recovery.proofs.includes(factor) ? null : 'factor_not_allowed';
}

const PROOF_FACTOR = { totp: 'totp', sms_code: 'sms', email_code: 'email' } as const;

/**
 * Whether the factors verified in a recovery meet the role's recovery policy: exactly one saved
 * recovery code, and for a role that asks for one, a second proof of a different kind from its
 * list. Two recovery codes are one thing known, not two independent proofs, and a passkey never
 * takes part (whoever has one signs in instead).
 */
export function recoveryProofsMet(policy: RolePolicy, factors: readonly FactorEvidence[]): ErrorCode | null {
  if (!policy.recovery.enabled) return 'recovery_not_allowed';
  const codes = factors.filter((f) => f.kind === 'recovery_code').length;
  const others = factors.filter((f) => f.kind !== 'recovery_code');
  if (codes !== 1 || others.some((f) => f.kind === 'passkey')) return 'recovery_proof_required';
  if (policy.recovery.proofs.length === 0) return others.length === 0 ? null : 'recovery_proof_required';
  if (others.length !== 1) return 'recovery_proof_required';
  const proof = others[0]!;
  return proof.kind !== 'passkey' && proof.kind !== 'recovery_code' && policy.recovery.proofs.includes(PROOF_FACTOR[proof.kind]) ? null : 'recovery_proof_required';
}
