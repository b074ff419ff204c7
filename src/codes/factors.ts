import type { CodeAuthenticator } from '../core/model.ts';
/**
 * The one-time-code factors, under the names each layer uses, and what each is worth in words.
 * Codes are restricted, single-factor authenticators: none is phishing-resistant (NIST SP
 * 800-63B-4 §3.2.5), SMS is a restricted authenticator (§3.1.3.3), and email is not an
 * authenticator NIST accepts at all (§3.1.3.1: "methods that do not prove possession of a specific
 * device, such as ... email, SHALL NOT be used for out-of-band authentication").
 */
export const CODE_FACTORS = ['totp', 'sms', 'email', 'recovery'] as const;
/** A factor as the API and configuration name it. */
export type CodeFactor = (typeof CODE_FACTORS)[number];

export function isCodeFactor(value: string): value is CodeFactor {
  return (CODE_FACTORS as readonly string[]).includes(value);
}

/** The authenticator row kind (DESIGN.md domain model). */
export type CodeAuthenticatorKind = 'totp' | 'sms_code' | 'email_code' | 'recovery_codes';
/** The evidence kind `assess` reads, and the sign-in method the audit trail and metrics name. */
export type CodeEvidenceKind = 'totp' | 'sms_code' | 'email_code' | 'recovery_code';

export const FACTOR_KIND: Record<CodeFactor, CodeAuthenticatorKind> = { totp: 'totp', sms: 'sms_code', email: 'email_code', recovery: 'recovery_codes' };
export const FACTOR_EVIDENCE: Record<CodeFactor, CodeEvidenceKind> = { totp: 'totp', sms: 'sms_code', email: 'email_code', recovery: 'recovery_code' };
export const EVIDENCE_FACTOR: Record<CodeEvidenceKind, CodeFactor> = { totp: 'totp', sms_code: 'sms', email_code: 'email', recovery_code: 'recovery' };
export const KIND_FACTOR: Record<CodeAuthenticatorKind, CodeFactor> = { totp: 'totp', sms_code: 'sms', email_code: 'email', recovery_codes: 'recovery' };

/** Factors whose code Keybound sends (and so must bind to the attempt that asked for it). */
export function isDelivered(factor: CodeFactor): factor is 'sms' | 'email' {
  return factor === 'sms' || factor === 'email';
}

export type StrengthWord = 'phishing-resistant' | 'can be phished' | 'can be intercepted by SIM swap' | 'rides on your mailbox' | 'not an authenticator NIST accepts';

/** What a factor is worth, in the words the account page and the API show. */
export const STRENGTH: Record<CodeFactor | 'passkey', readonly StrengthWord[]> = {
  passkey: ['phishing-resistant'],
  totp: ['can be phished'],
  sms: ['can be phished', 'can be intercepted by SIM swap'],
  email: ['can be phished', 'rides on your mailbox', 'not an authenticator NIST accepts'],
  recovery: ['can be phished'],
};

/** Only email codes fall outside NIST SP 800-63B-4 altogether; every report says so. */
export function nistAccepted(factor: CodeFactor | 'passkey'): boolean {
  return factor !== 'email';
}

export const FACTOR_NAME: Record<CodeFactor, string> = {
  totp: 'Authenticator app (TOTP)',
  sms: 'Text message (SMS) codes',
  email: 'Email codes',
  recovery: 'Recovery codes',
};

/** A new authenticator waiting for its first code: every set-up (TOTP, SMS, email, recovery codes) starts here. */
export function pendingAuthenticator(input: {
  id: string;
  accountId: string;
  kind: CodeAuthenticatorKind;
  now: number;
  secret?: string;
  totp?: CodeAuthenticator['totp'];
  destination?: string;
}): CodeAuthenticator {
  return {
    id: input.id,
    accountId: input.accountId,
    kind: input.kind,
    status: 'pending',
    secret: input.secret ?? null,
    totp: input.totp ?? null,
    destination: input.destination ?? null,
    lastStep: null,
    failures: 0,
    disabledReason: null,
    createdAt: input.now,
    confirmedAt: null,
    lastUsedAt: null,
  };
}
