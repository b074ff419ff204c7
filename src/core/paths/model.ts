import type { Acr } from '../assurance/level.ts';
import type { AccountStatus, Role } from '../model.ts';
import type { RolePolicy } from '../policy.ts';
import type { CapabilitySet } from './sets.ts';

/**
 * What takeover-path analysis reads about one account (docs/paths.md): only what is bound and
 * usable now. Plain data: the store fills it (store/sql/pathFacts.ts), tests write it by hand.
 */
export interface AccountFacts {
  readonly username: string;
  readonly role: Role;
  readonly status: AccountStatus;
  /** Active passkeys. */
  readonly passkeys: readonly PasskeyFact[];
  /** Bound, active code factors (recovery codes apart). */
  readonly codeFactors: readonly CodeFactorFact[];
  /** Unused codes in the active recovery-code set (0: none). */
  readonly recoveryCodes: number;
  /** Links that can still be redeemed. */
  readonly links: readonly LinkFact[];
  /** The holder can be told of an assisted recovery (an email address or a bound phone). */
  readonly noticeChannel: boolean;
}

export interface PasskeyFact {
  readonly id: string;
  readonly nickname: string;
  readonly backupEligible: boolean;
  readonly userVerified: boolean;
  readonly attestationTrusted: boolean;
}

export interface CodeFactorFact {
  readonly factor: 'totp' | 'sms' | 'email';
  /** Phone number or mailbox (never shown in reports); null for TOTP. */
  readonly destination: string | null;
}

export interface LinkFact {
  readonly id: string;
  /** `device`: issued from one of the holder's sessions; `enrolment`: by an administrator. */
  readonly kind: 'device' | 'enrolment';
  /** Device links: the issuing session's level, the most the passkey it enrols may reach. */
  readonly maxAal: 1 | 2 | 3 | null;
}

/**
 * Assisted recovery as configuration describes it (issue 12): a request by one administrator,
 * approved by a second when two or more active administrators exist (otherwise one, with the
 * delay), a waiting period per role, the holder told and able to cancel during it. Kept small and
 * explicit so the assisted-recovery service can hand its real settings in.
 */
export interface AssistedRecoverySettings {
  readonly enabled: boolean;
  /** `KEYBOUND_<ROLE>_RECOVERY_DELAY` in milliseconds (0 allowed). */
  readonly delayMs: number;
  /** Active administrators: two or more means a second one must approve. */
  readonly activeAdmins: number;
}

/** What the analysis needs of a role's configuration. */
export interface RolePathPolicy {
  readonly policy: RolePolicy;
  /** `KEYBOUND_<ROLE>_MIN_EFFECTIVE_ACR`: the lowest effective level an account of the role may have. */
  readonly requiredAcr: Acr;
  readonly assisted: AssistedRecoverySettings;
}

export type PathKind = 'sign_in' | 'recovery' | 'device_link' | 'enrolment_link' | 'assisted_recovery';

/** Factor names as paths list them. */
export type PathFactor = 'passkey' | 'totp' | 'sms' | 'email' | 'recovery_code' | 'device_link' | 'enrolment_link' | 'admin_approval';

export interface Path {
  /** Stable within an account: `passkey:<id>`, `code:totp`, `recovery:code+sms`, `device_link:<id>`, `assisted_recovery`, ... */
  readonly id: string;
  readonly kind: PathKind;
  readonly factors: readonly PathFactor[];
  /** The level this path's own proofs establish (NIST SP 800-63B-4), ranked as `assess` ranks them. */
  readonly grantsAcr: Acr;
  /** Minimal sets of capabilities that open the path (no set contains another). */
  readonly capabilities: readonly CapabilitySet[];
  /** The path in words, for people. */
  readonly label: string;
  /** Governed paths only: what stands in the attacker's way besides the capabilities. */
  readonly safeguards?: readonly string[];
}

export interface Finding {
  readonly code: FindingCode;
  readonly message: string;
}

export const FINDING_CODES = [
  'below_required_level',
  'no_self_service_path',
  'single_passkey_no_recovery',
  'syncable_passkeys_only',
  'passkey_without_user_verification',
  'shared_mailbox',
  'shared_phone',
  'shared_authenticator_app',
  'recovery_weaker_than_sign_in',
  'recovery_proof_missing',
  'phishable_sign_in',
  'sms_sign_in',
  'email_sign_in',
  'pending_device_link',
  'pending_enrolment_link',
  'assisted_recovery_single_approver',
  'assisted_recovery_no_delay',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export interface Analysis {
  readonly account: string;
  readonly role: Role;
  readonly requiredAcr: Acr;
  /** The lowest level over the self-service paths; null when the account has no way in at all. */
  readonly effectiveAcr: Acr | null;
  readonly paths: readonly Path[];
  /** Assisted recovery and administrators' enrolment links: listed apart, not in the effective level. */
  readonly governedPaths: readonly Path[];
  readonly findings: readonly Finding[];
  /** What to change to raise the effective level, in words. */
  readonly advice: readonly string[];
}
