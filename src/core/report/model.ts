/**
 * The standards report (issue 16; docs/report.md): rules as data. A rule has an id, a title in
 * Keybound's own words, what changes it (settings, a docs anchor, a console page), and
 * `evaluate(facts)`, a pure function of the configuration and data gathered at that moment
 * (services/report/facts.ts). No status is written in: every one is computed.
 */

export type ControlStatus = 'met' | 'partial' | 'not_met' | 'not_applicable';

export interface Verdict {
  readonly status: ControlStatus;
  readonly evidence: readonly string[];
}

/** Where to change what a control checks. */
export interface ChangeWith {
  readonly settings?: readonly string[];
  /** Path and anchor in the docs, `docs/report.md#nist-63b-restricted`. */
  readonly docs: string;
  /** A console page, `/admin/posture`. */
  readonly page?: string;
}

export interface Rule {
  readonly id: string;
  readonly title: string;
  readonly changeWith: ChangeWith;
  evaluate(facts: ReportFacts): Verdict;
}

export interface Framework {
  readonly id: string;
  readonly title: string;
  readonly rules: readonly Rule[];
}

export interface RoleFacts {
  readonly role: 'admin' | 'member';
  /** Code factors the role may sign in with (`totp`, `sms`, `email`); empty: passkeys only. */
  readonly signInCodeFactors: readonly string[];
  readonly minAal: 1 | 2;
  readonly allowSyncedPasskeys: boolean;
  readonly recovery: { readonly enabled: boolean; readonly proofs: readonly string[] };
  /** `KEYBOUND_<ROLE>_MIN_EFFECTIVE_ACR`, as an acr value. */
  readonly requiredAcr: string;
  readonly recoveryDelayMs: number;
  /** Active accounts of the role, and those whose weakest way in is below `requiredAcr`. */
  readonly accounts: number;
  readonly belowRequired: number;
  /** Active accounts of the role holding each active factor kind (`sms_code`, `passkey_syncable`, ...). */
  readonly holders: Readonly<Record<string, number>>;
}

export interface ReportFacts {
  readonly generatedAt: number;
  readonly roles: readonly RoleFacts[];
  readonly delivery: { readonly sms: 'none' | 'http' | 'console'; readonly email: boolean };
  readonly passkeys: { readonly attestation: 'none' | 'direct'; readonly active: number; readonly trusted: number; readonly withoutUv: number };
  readonly codes: { readonly ttlMs: number; readonly digits: number; readonly maxFailures: number; readonly freeAttempts: number; readonly delayBaseMs: number; readonly delayMaxMs: number; readonly maxSends: number };
  readonly rateLimits: { readonly ceremonyMax: number; readonly oidcAuthMax: number };
  readonly sessions: {
    readonly limits: Readonly<Record<1 | 2 | 3, { readonly idleMs: number; readonly maxMs: number }>>;
    readonly maxPerAccount: number;
    readonly freshAuthMaxAgeMs: number;
  };
  readonly oidc: { readonly accessTokenTtlS: number; readonly refreshTokenTtlS: number; readonly allowSharedSecrets: boolean; readonly signingAlg: string };
  readonly accounts: {
    readonly active: number;
    readonly withoutPasskey: number;
    readonly activeAdmins: number;
    readonly adminsOnlySyncable: number;
    /** Active admins without a sign-in in `idleDays`. */
    readonly adminsIdle: number;
    readonly idleDays: number;
    /** Suspended or offboarded accounts with a live session. */
    readonly endedWithLiveSessions: number;
  };
  readonly signIns: { readonly days: number; readonly total: number; readonly phishingResistant: number };
  readonly audit: { readonly verifies: boolean; readonly checked: number; readonly problem: string | null };
  readonly metrics: { readonly tokenOnMainListener: boolean; readonly listenerPort: number; readonly listenerHost: string };
  readonly transport: { readonly secureCookies: boolean; readonly publicUrl: string };
  readonly nhi: {
    readonly workloads: number;
    readonly apiKeys: number;
    readonly orphaned: number;
    readonly stale: number;
    readonly unrotated: number;
    readonly expiring: number;
    readonly longLived: number;
    readonly apiKeyMaxTtlMs: number;
    readonly staleDays: number;
    readonly rotateDays: number;
    readonly onOwnerOffboard: 'disable' | 'transfer';
    readonly apiKeyEnv: string;
  };
  readonly streams: { readonly enabled: number };
}

export interface ControlResult {
  readonly id: string;
  readonly title: string;
  readonly status: ControlStatus;
  readonly evidence: readonly string[];
  readonly changeWith: ChangeWith;
}

export interface FrameworkResult {
  readonly id: string;
  readonly title: string;
  readonly controls: readonly ControlResult[];
}

export interface Report {
  readonly generatedAt: string;
  readonly frameworks: readonly FrameworkResult[];
}
