/** The domain model shared by services and the store (DESIGN.md "Domain model"). */
import type { Acr } from './assurance/level.ts';

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
}

export interface Invitation {
  readonly id: string;
  readonly accountId: string;
  readonly secretHash: string;
  readonly createdBy: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

export type PasskeyStatus = 'active' | 'flagged';

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
}

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
}
