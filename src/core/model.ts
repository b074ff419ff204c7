/** The domain model shared by services and the store (DESIGN.md "Domain model"). */
import type { Acr } from './assurance/level.ts';
import type { CodeAuthenticatorKind, CodeFactor } from '../codes/factors.ts';
import type { TotpParams } from '../codes/totp.ts';

export const ROLES = ['admin', 'member'] as const;
export type Role = (typeof ROLES)[number];

export const ACCOUNT_STATUSES = ['invited', 'active', 'suspended', 'offboarded'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export interface Account {
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
  readonly role: Role;
  readonly status: AccountStatus;
  /** WebAuthn user handle, base64url; random, never derived from the username. */
  readonly userHandle: string;
  readonly email: string | null;
  readonly createdAt: number;
  /** Last successful sign-in, as the store reads it (new accounts: absent or null). */
  readonly lastSignInAt?: number | null;
}

export interface Invitation {
  readonly id: string;
  readonly accountId: string;
  readonly secretHash: string;
  readonly createdBy: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly usedAt: number | null;
  /**
   * `enrolment` (absent: an administrator's link) or `device`: a holder's device link, made from a
   * fresh session (services/devices/link.ts), which carries that session's level and passkey.
   */
  readonly kind?: InvitationKind;
  /** Device links: the highest level the passkey it enrols may reach (the issuing session's). */
  readonly maxAal?: 1 | 2 | 3 | null;
  /** Device links: the passkey the issuing session signed in with; it must still be active at redemption. */
  readonly passkeyId?: string | null;
}

export type InvitationKind = 'enrolment' | 'device' | 'recovery';

/**
 * A two-person approval (README "Recovery", "Account lifecycle"; migration 014): an assisted
 * recovery, or raising an account to `admin` through the API.
 */
export type ApprovalKind = 'recovery' | 'role';
/** Stored states; an approved recovery reads as `waiting` or `released` by its `releaseAt`. */
export type ApprovalState = 'awaiting_approval' | 'approved' | 'linked' | 'applied' | 'cancelled';

export interface Approval {
  readonly id: string;
  readonly kind: ApprovalKind;
  /** The holder: the account recovered, or whose role is raised. */
  readonly accountId: string;
  readonly state: ApprovalState;
  /** `cli` or `admin:<username>`. */
  readonly requestedBy: string;
  /** The requesting administrator's account; null for the CLI. */
  readonly requesterId: string | null;
  readonly reason: string | null;
  /** Recovery: end the holder's other passkeys and sessions when the link is redeemed. */
  readonly revokeExisting: boolean;
  readonly roleFrom: Role | null;
  readonly roleTo: Role | null;
  readonly approvedBy: string | null;
  readonly approverId: string | null;
  readonly approvedAt: number | null;
  readonly releaseAt: number | null;
  readonly releaseNoticedAt: number | null;
  readonly invitationId: string | null;
  readonly linkedAt: number | null;
  readonly cancelledBy: string | null;
  readonly cancelledAt: number | null;
  readonly createdAt: number;
}

/** `flagged`: a security check failed (a cloned counter); `disabled`: the account was offboarded. */
export type PasskeyStatus = 'active' | 'flagged' | 'disabled';

export interface Passkey {
  readonly id: string;
  readonly accountId: string;
  /** base64url */
  readonly credentialId: string;
  /** COSE_Key, base64url */
  readonly publicKey: string;
  readonly alg: number;
  readonly signCount: number;
  readonly transports: readonly string[];
  readonly aaguid: string;
  readonly backupEligible: boolean;
  readonly backupState: boolean;
  readonly userVerified: boolean;
  readonly attestationFormat: string;
  readonly attestationTrusted: boolean;
  readonly nickname: string;
  readonly status: PasskeyStatus;
  readonly flaggedReason: string | null;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

export type CeremonyKind = 'registration' | 'authentication';

export interface Ceremony {
  readonly challengeHash: string;
  readonly kind: CeremonyKind;
  /** Registration: the account the passkey is for. Authentication: set for username-first sign-in. */
  readonly accountId: string | null;
  /** Registration by enrolment link: the invitation that the passkey consumes. */
  readonly invitationId: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface Session {
  readonly id: string;
  readonly accountId: string;
  readonly secretHash: string;
  readonly aal: 1 | 2 | 3;
  readonly acr: Acr;
  readonly amr: readonly string[];
  readonly authTime: number;
  /** The passkey that authenticated this session, if one did. */
  readonly passkeyId: string | null;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly idleExpiresAt: number;
  readonly expiresAt: number;
  readonly ip: string;
  readonly userAgent: string;
  readonly revokedAt: number | null;
  /**
   * `sign_in`: a normal session. `recovery`: opened by self-service recovery (README "Recovery");
   * it may only bind a new passkey and see and end sessions (http/gates.ts `admit`).
   */
  readonly purpose: SessionPurpose;
}

/** `migration`: opened by an imported account's old password (README "Importing accounts"); like a recovery session it may only bind a passkey. */
export type SessionPurpose = 'sign_in' | 'recovery' | 'migration';

/** Where a request came from, for the audit trail and rate limits. */
export interface RequestContext {
  readonly ip: string;
  readonly userAgent: string;
}

export type AuditOutcome = 'success' | 'failure';

export interface AuditEventInput {
  readonly type: string;
  readonly outcome: AuditOutcome;
  readonly reason?: string | null;
  readonly accountId?: string | null;
  readonly context?: RequestContext | null;
  readonly details?: Record<string, unknown>;
  readonly at: number;
}

export interface AuditEvent {
  readonly seq: number;
  readonly at: number;
  readonly type: string;
  readonly outcome: AuditOutcome;
  readonly reason: string | null;
  readonly accountId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly details: Record<string, unknown>;
  /** `details` exactly as stored, which the chain hash covers. */
  readonly detailsJson: string;
  readonly prevHash: string;
  readonly hash: string;
  /** Anchor MAC under a data key (core/audit/anchor.ts), `null` on events older than the anchor. */
  readonly mac: string | null;
}

/** A one-time-code authenticator (codes/factors.ts): never a passkey, never phishing-resistant. */
export type CodeAuthenticatorStatus = 'pending' | 'active' | 'disabled';

export interface CodeAuthenticator {
  readonly id: string;
  readonly accountId: string;
  readonly kind: CodeAuthenticatorKind;
  /** `pending` until confirmed by a first code; `disabled` after too many failures, until rebound. */
  readonly status: CodeAuthenticatorStatus;
  /** TOTP seed sealed with the data keys (context bound to this id); null for other kinds. */
  readonly secret: string | null;
  readonly totp: TotpParams | null;
  /** Phone number (E.164) or email address the codes go to; null for TOTP and recovery codes. */
  readonly destination: string | null;
  /** Last accepted TOTP time step (RFC 6238 §5.2: never accept it again). */
  readonly lastStep: number | null;
  /** Consecutive failed guesses (NIST SP 800-63B-4 §3.2.2: at most 100, then disabled). */
  readonly failures: number;
  readonly disabledReason: string | null;
  readonly createdAt: number;
  readonly confirmedAt: number | null;
  readonly lastUsedAt: number | null;
}

/** `recovery`: a proof of self-service recovery (README "Recovery"), never a sign-in. */
export type CodeAttemptPurpose = 'sign_in' | 'bind' | 'recovery';

/** One request for a code: a sign-in attempt, or the confirmation of a new delivered factor. */
export interface CodeAttempt {
  /** SHA-256 of the attempt id handed to the client. */
  readonly idHash: string;
  readonly purpose: CodeAttemptPurpose;
  readonly factor: CodeFactor;
  /** Null when the username is unknown: the attempt exists anyway, so the answer reveals nothing. */
  readonly accountId: string | null;
  readonly authenticatorId: string | null;
  /** Which per-account delay applies (the account, or a stand-in for an unknown username). */
  readonly throttleKey: string;
  /** Hash of the code sent for this attempt (delivered factors only). */
  readonly codeHash: string | null;
  /** Why any code for this attempt is refused (for example `sms_sim_changed`), recorded at delivery. */
  readonly refusedReason: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly consumedAt: number | null;
}

export interface RecoveryCode {
  readonly id: string;
  readonly authenticatorId: string;
  readonly codeHash: string;
  readonly usedAt: number | null;
}
