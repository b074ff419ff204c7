import { readFileSync } from 'node:fs';
import { CONFIG_KEYS, type ConfigKey, type KeySpec } from './defaults.ts';
import { DataKeyError, parseDataKeys, type DataKey } from '../crypto/dataKeys.ts';
import { isCodeFactor, type CodeFactor } from '../codes/factors.ts';
import type { TotpParams } from '../codes/totp.ts';
import { databaseTls, smsUrlProblem } from './transport.ts';
import { parseDuration } from './duration.ts';
import { recoveryPolicy } from './recovery.ts';
import { adoptionSchedule, migrationConfig, type MigrationConfig } from './migration.ts';
import type { RecoveryPolicy } from '../core/policy.ts';
import type { Acr } from '../core/assurance/level.ts';
import { acrOfMinAal, parseAcr } from '../core/paths/levels.ts';

/** Validated configuration. Built once at start; nothing else reads the environment. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly origins: readonly string[];
  /** The first origin: base of every link Keybound prints or sends. */
  readonly publicUrl: string;
  /** Whether KEYBOUND_ORIGIN was set; if not, the origin follows KEYBOUND_PORT and the CLI uses the server's stored one. */
  readonly originConfigured: boolean;
  readonly rpId: string;
  readonly rpName: string;
  readonly databaseUrl: string;
  /** Bound on one PostgreSQL statement, stalls included (not migrations). */
  readonly databaseTimeoutMs: number;
  /** How long `serve` waits for an unreachable database at start. */
  readonly databaseStartWaitMs: number;
  /** Apply migrations at start (`KEYBOUND_MIGRATE_ON_START`); off, the schema must already be current. */
  readonly migrateOnStart: boolean;
  /** Analyse every account's ways in after start and log those below their role's level (`KEYBOUND_PATHS_REPORT_ON_START`). */
  readonly pathsReportOnStart: boolean;
  /** Configured data keys, or `null` to use (or make) the key file beside a SQLite database. */
  readonly dataKeys: readonly DataKey[] | null;
  readonly logLevel: string;
  readonly trustProxy: boolean;
  readonly allowedTopOrigins: readonly string[];
  /** Passkey public keys kept imported per process (0: none). */
  readonly passkeyKeyCache: number;
  readonly attestation: 'none' | 'direct';
  readonly attestationAaguids: readonly string[];
  /** PEM text of each configured trust anchor. */
  readonly attestationTrustAnchors: readonly string[];
  /** Path of the FIDO MDS root PEM for `attestation import-mds`; empty when unset. */
  readonly attestationMdsRoot: string;
  readonly roles: Readonly<Record<'admin' | 'member', RoleConfig>>;
  /** `KEYBOUND_ADOPTION_REMINDERS`: days before a role's migration date on which pending imported accounts are reminded, largest first. */
  readonly adoptionReminders: readonly number[];
  readonly challengeTtlMs: number;
  readonly invitationTtlMs: number;
  readonly freshAuthMaxAgeMs: number;
  /** Risk policy (docs/risk.md): where the rules and the city database are, and the failure-velocity signal. */
  readonly risk: { readonly policyFile: string | null; readonly geoipDb: string | null; readonly failureMax: number; readonly failureWindowMs: number };
  readonly sessionLimits: Readonly<Record<1 | 2 | 3, { readonly idleMs: number; readonly maxMs: number }>>;
  /** Live sessions per account; a sign-in at the limit ends the least recently used (0: no limit). */
  readonly sessionMaxPerAccount: number;
  readonly rateLimit: { readonly ceremonyMax: number; readonly windowMs: number };
  readonly bodyLimit: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly oidc: OidcConfig;
  readonly codes: CodesConfig;
  readonly sms: SmsConfig;
  readonly mail: MailConfig;
  /** Workloads and API keys (docs/nhi.md). */
  readonly nhi: NhiConfig;
  /** `/metrics`: its own listener (`port` 0: none), and on the main listener only with `token`. */
  readonly metrics: { readonly port: number; readonly host: string; readonly token: string | null };
  /** Cookies get `Secure` unless every origin is plain-HTTP localhost. */
  readonly secureCookies: boolean;
}

export interface RoleConfig {
  readonly allowSyncedPasskeys: boolean;
  /** One-time-code factors the role may enrol and sign in with. */
  readonly codeFactors: readonly CodeFactor[];
  /** Lowest level a sign-in may have; codes alone give AAL1, so `2` refuses them. */
  readonly minAal: 1 | 2;
  /** Self-service recovery (`KEYBOUND_<ROLE>_RECOVERY`). */
  readonly recovery: RecoveryPolicy;
  /** `recovery` was listed in `KEYBOUND_<ROLE>_CODE_FACTORS` (ignored, with a warning at boot). */
  readonly recoveryListedAsFactor: boolean;
  /** `KEYBOUND_<ROLE>_MIN_EFFECTIVE_ACR`: the lowest level of an account's weakest way in (docs/paths.md). */
  readonly minEffectiveAcr: Acr;
  /** `KEYBOUND_<ROLE>_MIGRATION_UNTIL` and `KEYBOUND_<ROLE>_RETIRE_ON_PASSKEY` (README "Importing accounts"). */
  readonly migration: MigrationConfig;
  /** How long an approved assisted recovery waits before release (`KEYBOUND_<ROLE>_RECOVERY_DELAY`). */
  readonly recoveryDelayMs: number;
}

/** One-time codes (README "One-time codes"). */
export interface CodesConfig {
  /** `window`: earlier time steps accepted besides the current one (0 or 1; never a later one). */
  readonly totp: TotpParams & { readonly window: number };
  readonly ttlMs: number;
  readonly digits: number;
  readonly maxFailures: number;
  readonly throttle: { readonly free: number; readonly baseMs: number; readonly maxMs: number };
  readonly maxSends: number;
  /** Binding sends per client address within `ttlMs` (per account and per destination: `maxSends`). */
  readonly maxSendsPerAddress: number;
}

export interface SmsConfig {
  readonly provider: 'none' | 'http' | 'console';
  readonly url: string | null;
  readonly token: string | null;
  readonly simChangeWindowMs: number;
}

export interface MailConfig {
  readonly smtpUrl: string | null;
  readonly from: string;
}

/** The OpenID provider's settings (docs/oidc.md). */
export interface NhiConfig {
  /** KEYBOUND_NHI_ON_OWNER_OFFBOARD: disable an owner's workloads and keys, or move them to this username. */
  readonly onOwnerOffboard: { readonly action: 'disable' } | { readonly action: 'transfer'; readonly username: string };
  readonly apiKeyMaxTtlMs: number;
  /** KEYBOUND_DELEGATION_MAX_TTL: longest delegation a person grants an agent. */
  readonly delegationMaxTtlMs: number;
  /** The `<env>` of new API keys. */
  readonly apiKeyEnv: string;
  /** KEYBOUND_API_KEY_SELF_SCOPES: scopes a person may give their own keys (none: no self-service keys). */
  readonly apiKeySelfScopes: readonly string[];
  /** `nhi report`: unused this long is stale; keys older than this are unrotated. */
  readonly staleMs: number;
  readonly rotateMs: number;
}

export interface OidcConfig {
  /** `${publicUrl}/oidc`: the provider is mounted under /oidc. */
  readonly issuer: string;
  readonly signingAlg: 'ES256' | 'EdDSA' | 'PS256';
  readonly keyOverlapMs: number;
  readonly keyRefreshMs: number;
  /** How long a rotated-in key is published before it signs (KEYBOUND_OIDC_KEY_LEAD). */
  readonly keyLeadMs: number;
  /** Authorization and PAR requests per client address per rate-limit window; 0 lifts the limit. */
  readonly authRateMax: number;
  readonly resources: readonly string[];
  readonly resourceScopes: readonly string[];
  readonly accessTokenTtlS: number;
  readonly idTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  readonly codeTtlS: number;
  readonly interactionTtlS: number;
  readonly allowSharedSecrets: boolean;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Raw = Partial<Record<ConfigKey, string>>;

/**
 * Reads configuration from `env`, on top of the JSON file named by `KEYBOUND_CONFIG_FILE` when set
 * (the file holds the same keys; the environment wins). Throws `ConfigError` naming every bad key.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Raw = {};
  const file = env.KEYBOUND_CONFIG_FILE;
  if (file) Object.assign(raw, readConfigFile(file));
  for (const spec of CONFIG_KEYS) {
    const value = env[spec.env];
    if (value !== undefined && value !== '') raw[spec.env] = value;
  }
  const problems: string[] = [];
  const values = new Map<ConfigKey, unknown>();
  for (const spec of CONFIG_KEYS) {
    const text = raw[spec.env] ?? spec.default;
    const parsed = parseValue(spec, text.trim());
    if (typeof parsed === 'object' && parsed !== null && 'problem' in parsed) {
      problems.push(`${spec.env}=${JSON.stringify(text)}: ${parsed.problem}`);
    } else {
      values.set(spec.env, parsed);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  const get = <T>(key: ConfigKey): T => values.get(key) as T;
  // Unset, the origin follows the port, so `KEYBOUND_PORT=9000 npm start` prints links that work.
  const originConfigured = raw.KEYBOUND_ORIGIN !== undefined;
  const origins = originConfigured ? get<string[]>('KEYBOUND_ORIGIN') : [`http://localhost:${get<number>('KEYBOUND_PORT')}`];
  if (origins.length === 0) throw new ConfigError('Invalid configuration:\n  KEYBOUND_ORIGIN: at least one origin is required');
  const rpId = get<string>('KEYBOUND_RP_ID');
  const strayOrigins = origins.filter((o) => !originMatchesRpId(o, rpId));
  if (strayOrigins.length > 0) {
    throw new ConfigError(
      `Invalid configuration:\n  KEYBOUND_RP_ID=${rpId} is not the host (or a parent domain of the host) of ${strayOrigins.join(', ')}`,
    );
  }
  const anchorFiles = get<string[]>('KEYBOUND_ATTESTATION_TRUST_ANCHORS');
  const anchors = anchorFiles.flatMap((path) => readPemFile(path));
  const aaguids = get<string[]>('KEYBOUND_ATTESTATION_AAGUIDS').map((a) => a.toLowerCase());
  const badAaguid = aaguids.find((a) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(a));
  if (badAaguid) throw new ConfigError(`Invalid configuration:\n  KEYBOUND_ATTESTATION_AAGUIDS: ${badAaguid} is not an AAGUID (8-4-4-4-12 hex digits)`);
  const attestation = get<'none' | 'direct'>('KEYBOUND_ATTESTATION');
  if (attestation === 'direct' && anchors.length === 0 && aaguids.length === 0) {
    throw new ConfigError(
      'Invalid configuration:\n  KEYBOUND_ATTESTATION=direct needs KEYBOUND_ATTESTATION_AAGUIDS or KEYBOUND_ATTESTATION_TRUST_ANCHORS, or no passkey could ever be accepted',
    );
  }
  const seconds = (key: ConfigKey) => get<number>(key) * 1000;
  const databaseUrl = get<string>('KEYBOUND_DATABASE_URL');
  let dataKeys: DataKey[] | null = null;
  const dataKeysText = get<string>('KEYBOUND_DATA_KEYS');
  if (dataKeysText) {
    try {
      dataKeys = parseDataKeys(dataKeysText);
    } catch (error) {
      throw new ConfigError(`Invalid configuration:\n  KEYBOUND_DATA_KEYS: ${(error as DataKeyError).message}`);
    }
  } else if (!databaseUrl.startsWith('sqlite:')) {
    throw new ConfigError(
      'Invalid configuration:\n  KEYBOUND_DATA_KEYS is required with PostgreSQL (every instance must share it); make one with `npx keybound keys generate-data-key`',
    );
  }
  // OWASP ASVS 5.0 12.3.1: TLS to the database. Without `sslmode`, node-postgres connects in clear.
  if (!databaseUrl.startsWith('sqlite:') && databaseTls(databaseUrl) === 'missing') {
    throw new ConfigError(
      'Invalid configuration:\n  KEYBOUND_DATABASE_URL: a PostgreSQL host other than loopback needs sslmode=require, verify-ca or verify-full in the URL (or an explicit sslmode=disable to connect in clear)',
    );
  }
  const resources = get<string[]>('KEYBOUND_OIDC_RESOURCES');
  // RFC 8707 §2: a resource indicator is an absolute URI without a fragment.
  const badResource = resources.find((r) => !URL.canParse(r) || r.includes('#'));
  if (badResource) throw new ConfigError(`Invalid configuration:\n  KEYBOUND_OIDC_RESOURCES: ${badResource} is not an absolute URI without a fragment`);
  const publicUrl = origins[0]!;
  const metricsToken = get<string>('KEYBOUND_METRICS_TOKEN') || null;
  // A bearer token on a public listener must not be guessable.
  if (metricsToken !== null && metricsToken.length < 32) throw new ConfigError('Invalid configuration:\n  KEYBOUND_METRICS_TOKEN must be at least 32 characters (try `openssl rand -base64 32`)');
  // OWASP ASVS 5.0 10.4.3, RFC 6749 §4.1.2: an authorization code lives 10 minutes at most.
  const codeTtlS = get<number>('KEYBOUND_OIDC_CODE_TTL');
  if (codeTtlS < 1 || codeTtlS > 600) throw new ConfigError(`Invalid configuration:\n  KEYBOUND_OIDC_CODE_TTL=${codeTtlS}: an authorization code may live at most 600 seconds (10 minutes); expected a number from 1 to 600`);
  const { roles: codeRoles, ...codeSettings } = codeConfig(get);
  const nhi = nhiConfig(get, get<string[]>('KEYBOUND_OIDC_RESOURCE_SCOPES'));
  return {
    port: get('KEYBOUND_PORT'),
    host: get('KEYBOUND_HOST'),
    origins,
    publicUrl: origins[0]!,
    originConfigured,
    rpId,
    rpName: get('KEYBOUND_RP_NAME'),
    databaseUrl,
    databaseTimeoutMs: seconds('KEYBOUND_DATABASE_TIMEOUT'),
    databaseStartWaitMs: seconds('KEYBOUND_DATABASE_START_WAIT'),
    migrateOnStart: get('KEYBOUND_MIGRATE_ON_START'),
    pathsReportOnStart: get('KEYBOUND_PATHS_REPORT_ON_START'),
    dataKeys,
    logLevel: get('KEYBOUND_LOG_LEVEL'),
    trustProxy: get('KEYBOUND_TRUST_PROXY'),
    allowedTopOrigins: get('KEYBOUND_ALLOWED_TOP_ORIGINS'),
    passkeyKeyCache: get('KEYBOUND_PASSKEY_KEY_CACHE'),
    attestation,
    attestationAaguids: aaguids,
    attestationTrustAnchors: anchors,
    attestationMdsRoot: get('KEYBOUND_ATTESTATION_MDS_ROOT'),
    roles: {
      admin: { allowSyncedPasskeys: get('KEYBOUND_ADMIN_ALLOW_SYNCED_PASSKEYS'), recoveryDelayMs: get('KEYBOUND_ADMIN_RECOVERY_DELAY'), ...codeRoles.admin },
      member: { allowSyncedPasskeys: get('KEYBOUND_MEMBER_ALLOW_SYNCED_PASSKEYS'), recoveryDelayMs: get('KEYBOUND_MEMBER_RECOVERY_DELAY'), ...codeRoles.member },
    },
    adoptionReminders: adoptionSchedule(get<string[]>('KEYBOUND_ADOPTION_REMINDERS'), problems),
    challengeTtlMs: seconds('KEYBOUND_CHALLENGE_TTL'),
    invitationTtlMs: seconds('KEYBOUND_INVITATION_TTL'),
    freshAuthMaxAgeMs: seconds('KEYBOUND_FRESH_AUTH_MAX_AGE'),
    risk: {
      policyFile: get<string>('KEYBOUND_POLICY_FILE') || null,
      geoipDb: get<string>('KEYBOUND_GEOIP_DB') || null,
      failureMax: get<number>('KEYBOUND_RISK_FAILURE_MAX'),
      failureWindowMs: seconds('KEYBOUND_RISK_FAILURE_WINDOW'),
    },
    sessionLimits: {
      1: { idleMs: seconds('KEYBOUND_SESSION_AAL1_IDLE'), maxMs: seconds('KEYBOUND_SESSION_AAL1_MAX') },
      2: { idleMs: seconds('KEYBOUND_SESSION_AAL2_IDLE'), maxMs: seconds('KEYBOUND_SESSION_AAL2_MAX') },
      3: { idleMs: seconds('KEYBOUND_SESSION_AAL3_IDLE'), maxMs: seconds('KEYBOUND_SESSION_AAL3_MAX') },
    },
    sessionMaxPerAccount: get('KEYBOUND_SESSION_MAX_PER_ACCOUNT'),
    rateLimit: { ceremonyMax: get('KEYBOUND_RATE_LIMIT_CEREMONY'), windowMs: seconds('KEYBOUND_RATE_LIMIT_WINDOW') },
    bodyLimit: get('KEYBOUND_BODY_LIMIT'),
    requestTimeoutMs: seconds('KEYBOUND_REQUEST_TIMEOUT'),
    keepAliveTimeoutMs: seconds('KEYBOUND_KEEP_ALIVE_TIMEOUT'),
    shutdownGraceMs: seconds('KEYBOUND_SHUTDOWN_GRACE'),
    oidc: {
      issuer: `${publicUrl}/oidc`,
      signingAlg: get('KEYBOUND_OIDC_SIGNING_ALG'),
      keyOverlapMs: seconds('KEYBOUND_OIDC_KEY_OVERLAP'),
      keyRefreshMs: seconds('KEYBOUND_OIDC_KEY_REFRESH'),
      keyLeadMs: seconds('KEYBOUND_OIDC_KEY_LEAD'),
      authRateMax: get('KEYBOUND_RATE_LIMIT_OIDC_AUTH'),
      resources,
      resourceScopes: get<string[]>('KEYBOUND_OIDC_RESOURCE_SCOPES'),
      accessTokenTtlS: get('KEYBOUND_OIDC_ACCESS_TOKEN_TTL'),
      idTokenTtlS: get('KEYBOUND_OIDC_ID_TOKEN_TTL'),
      refreshTokenTtlS: get('KEYBOUND_OIDC_REFRESH_TOKEN_TTL'),
      codeTtlS,
      interactionTtlS: get('KEYBOUND_OIDC_INTERACTION_TTL'),
      allowSharedSecrets: get('KEYBOUND_OIDC_ALLOW_SHARED_SECRETS'),
    },
    ...codeSettings,
    nhi,
    metrics: { port: get('KEYBOUND_METRICS_PORT'), host: get('KEYBOUND_METRICS_HOST'), token: metricsToken },
    secureCookies: !origins.every((o) => /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(o)),
  };
}

/** Warnings for settings that are allowed but weaken security; printed at boot. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.roles.admin.allowSyncedPasskeys) {
    warnings.push('KEYBOUND_ADMIN_ALLOW_SYNCED_PASSKEYS=true: administrators may sign in with passkeys that sync to other devices.');
  }
  const plain = config.origins.filter((o) => o.startsWith('http:') && !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(o));
  if (plain.length > 0) warnings.push(`Plain-HTTP origins outside localhost: ${plain.join(', ')}. Session cookies travel unencrypted.`);
  if (config.rateLimit.ceremonyMax === 0) warnings.push('KEYBOUND_RATE_LIMIT_CEREMONY=0: passkey ceremonies are not rate limited.');
  if (config.oidc.authRateMax === 0) warnings.push('KEYBOUND_RATE_LIMIT_OIDC_AUTH=0: OpenID authorization requests are not rate limited (each stores a pending sign-in).');
  if (config.oidc.allowSharedSecrets) warnings.push('KEYBOUND_OIDC_ALLOW_SHARED_SECRETS=true: OpenID clients may authenticate with shared secrets instead of private_key_jwt.');
  for (const role of ['admin', 'member'] as const) {
    const factors = config.roles[role].codeFactors;
    if (role === 'admin' && factors.length > 0) warnings.push(`KEYBOUND_ADMIN_CODE_FACTORS=${factors.join(',')}: administrators may sign in with one-time codes, which can be phished (AAL1).`);
    if (factors.includes('sms')) warnings.push(`KEYBOUND_${role.toUpperCase()}_CODE_FACTORS includes sms: SMS is a restricted authenticator (NIST SP 800-63B-4 §3.1.3.3) and can be intercepted by SIM swap.`);
    if (factors.includes('email')) warnings.push(`KEYBOUND_${role.toUpperCase()}_CODE_FACTORS includes email: email codes are not an authenticator NIST SP 800-63B-4 accepts.`);
    const { recovery, minAal, recoveryListedAsFactor } = config.roles[role];
    if (recoveryListedAsFactor) warnings.push(`KEYBOUND_${role.toUpperCase()}_CODE_FACTORS includes recovery, which is ignored: a recovery code opens a recovery session only, never a sign-in (KEYBOUND_${role.toUpperCase()}_RECOVERY).`);
    if (config.roles[role].recoveryDelayMs === 0) warnings.push(`KEYBOUND_${role.toUpperCase()}_RECOVERY_DELAY=0: an approved assisted recovery is released at once, and the holder has no time to cancel it.`);
    if (recovery.enabled && recovery.proofs.length === 0 && minAal > 1) warnings.push(`KEYBOUND_${role.toUpperCase()}_RECOVERY=code: one saved code recovers an AAL2 account (NIST SP 800-63B-4 §4.2.1 asks for a second proof).`);
  }
  if (config.sms.provider === 'console') warnings.push('KEYBOUND_SMS_PROVIDER=console: SMS codes are printed on stdout instead of sent. For development only.');
  if (config.codes.throttle.free > 20) warnings.push(`KEYBOUND_CODE_FREE_FAILURES=${config.codes.throttle.free}: code guesses are barely slowed down.`);
  if (config.trustProxy) warnings.push('KEYBOUND_TRUST_PROXY=true: client addresses are taken from X-Forwarded-For.');
  if (!config.databaseUrl.startsWith('sqlite:') && databaseTls(config.databaseUrl) === 'disabled') {
    warnings.push('KEYBOUND_DATABASE_URL has sslmode=disable: queries, token hashes and encrypted seeds travel to PostgreSQL in clear.');
  }
  if (config.sms.url?.startsWith('http:')) warnings.push('KEYBOUND_SMS_URL is plain http:// (to a loopback address): keep the gateway on this machine.');
  return warnings;
}

/** Code factors per role, code limits, SMS and mail: read and checked together, since they depend on each other. */
function codeConfig(get: <T>(key: ConfigKey) => T): { roles: Record<'admin' | 'member', Omit<RoleConfig, 'allowSyncedPasskeys' | 'recoveryDelayMs'>>; codes: CodesConfig; sms: SmsConfig; mail: MailConfig } {
  const problems: string[] = [];
  const provider = get<SmsConfig['provider']>('KEYBOUND_SMS_PROVIDER');
  const smtpUrl = get<string>('KEYBOUND_SMTP_URL') || null;
  const role = (factorsKey: ConfigKey, aalKey: ConfigKey, recoveryKey: ConfigKey, effectiveKey: ConfigKey) => {
    const listed = get<string[]>(factorsKey).map((f) => f.toLowerCase());
    const unknown = listed.filter((f) => !isCodeFactor(f));
    if (unknown.length > 0) problems.push(`${factorsKey}: ${unknown.join(', ')} is not one of totp, sms, email`);
    // `recovery` was once a sign-in factor; it is a recovery path now (README "Recovery"), so it is
    // dropped here and configWarnings says so.
    const codeFactors = [...new Set(listed.filter(isCodeFactor))].filter((f) => f !== 'recovery');
    const minAal = Number(get<string>(aalKey)) as 1 | 2;
    // A code sign-in is AAL1 (NIST SP 800-63B-4 §2.1): a role that needs AAL2 can never use one.
    if (codeFactors.length > 0 && minAal > 1) problems.push(`${factorsKey} lists code factors, but ${aalKey}=${minAal} refuses every sign-in they give (codes alone are AAL1)`);
    const recovery = recoveryPolicy(get<string>(recoveryKey), { key: recoveryKey, minAal, sms: provider !== 'none', email: smtpUrl !== null }, problems);
    const effectiveRaw = get<string>(effectiveKey);
    const minEffectiveAcr = effectiveRaw.trim() === '' ? acrOfMinAal(minAal) : parseAcr(effectiveRaw);
    if (minEffectiveAcr === null) problems.push(`${effectiveKey}=${effectiveRaw}: expected aal1, aal2, aal2:phr or aal3`);
    return { codeFactors, minAal, recovery, recoveryListedAsFactor: listed.includes('recovery'), minEffectiveAcr: minEffectiveAcr ?? acrOfMinAal(minAal) };
  };
  const migration = (untilKey: ConfigKey, retireKey: ConfigKey) =>
    migrationConfig({ untilKey, until: get<string>(untilKey), retireKey, retire: get<string[]>(retireKey) }, problems);
  const roles = {
    admin: { ...role('KEYBOUND_ADMIN_CODE_FACTORS', 'KEYBOUND_ADMIN_MIN_AAL', 'KEYBOUND_ADMIN_RECOVERY', 'KEYBOUND_ADMIN_MIN_EFFECTIVE_ACR'), migration: migration('KEYBOUND_ADMIN_MIGRATION_UNTIL', 'KEYBOUND_ADMIN_RETIRE_ON_PASSKEY') },
    member: { ...role('KEYBOUND_MEMBER_CODE_FACTORS', 'KEYBOUND_MEMBER_MIN_AAL', 'KEYBOUND_MEMBER_RECOVERY', 'KEYBOUND_MEMBER_MIN_EFFECTIVE_ACR'), migration: migration('KEYBOUND_MEMBER_MIGRATION_UNTIL', 'KEYBOUND_MEMBER_RETIRE_ON_PASSKEY') },
  };
  const seconds = (key: ConfigKey) => get<number>(key) * 1000;
  const ranged = (key: ConfigKey, min: number, max: number) => {
    const value = get<number>(key);
    if (value < min || value > max) problems.push(`${key}=${value}: expected a number from ${min} to ${max}`);
    return value;
  };
  const codes: CodesConfig = {
    totp: {
      algorithm: get('KEYBOUND_TOTP_ALGORITHM'),
      digits: Number(get<string>('KEYBOUND_TOTP_DIGITS')) as 6 | 8,
      // OWASP ASVS 5.0 6.5.5: a time-based code lives a short, defined time. A step of at most 30 s
      // (RFC 6238 §5.2 recommends 30), and besides the current step only the one before it, for a
      // code typed as it changed: a code is accepted for at most two steps and never before its own.
      period: ranged('KEYBOUND_TOTP_PERIOD', 1, 30),
      window: ranged('KEYBOUND_TOTP_WINDOW', 0, 1),
    },
    // NIST SP 800-63B-4 §3.1.3: out-of-band secrets valid at most 10 minutes, at least 6 digits;
    // §3.2.2: at most 100 consecutive failures.
    ttlMs: ranged('KEYBOUND_CODE_TTL', 1, 600) * 1000,
    digits: ranged('KEYBOUND_CODE_DIGITS', 6, 10),
    maxFailures: ranged('KEYBOUND_CODE_MAX_FAILURES', 1, 100),
    throttle: { free: get('KEYBOUND_CODE_FREE_FAILURES'), baseMs: seconds('KEYBOUND_CODE_DELAY_BASE'), maxMs: seconds('KEYBOUND_CODE_DELAY_MAX') },
    maxSends: get('KEYBOUND_CODE_MAX_SENDS'),
    maxSendsPerAddress: get('KEYBOUND_CODE_MAX_SENDS_PER_ADDRESS'),
  };
  const smsUrl = get<string>('KEYBOUND_SMS_URL') || null;
  if (provider === 'http' && (!smsUrl || !/^https?:\/\//.test(smsUrl) || !URL.canParse(smsUrl))) problems.push('KEYBOUND_SMS_PROVIDER=http needs KEYBOUND_SMS_URL, an http(s) URL');
  else if (smsUrl && /^http:\/\//i.test(smsUrl) && URL.canParse(smsUrl)) {
    const problem = smsUrlProblem(smsUrl);
    if (problem) problems.push(problem);
  }
  const sms: SmsConfig = { provider, url: smsUrl, token: get<string>('KEYBOUND_SMS_TOKEN') || null, simChangeWindowMs: seconds('KEYBOUND_SMS_SIM_CHANGE_WINDOW') };
  if (smtpUrl && (!/^smtps?:\/\//.test(smtpUrl) || !URL.canParse(smtpUrl))) problems.push('KEYBOUND_SMTP_URL must be an smtp:// or smtps:// URL');
  // Options after `?` would be nodemailer's, and could turn TLS off (delivery/mail.ts).
  else if (smtpUrl && new URL(smtpUrl).search !== '') problems.push('KEYBOUND_SMTP_URL takes no ?options: smtp://host:587 (STARTTLS required unless the host is this machine) or smtps://host:465');
  const mail: MailConfig = { smtpUrl, from: get('KEYBOUND_MAIL_FROM') };
  for (const [name, r] of Object.entries(roles)) {
    if (r.codeFactors.includes('sms') && provider === 'none') problems.push(`KEYBOUND_${name.toUpperCase()}_CODE_FACTORS allows sms, but KEYBOUND_SMS_PROVIDER=none`);
    if (r.codeFactors.includes('email') && !smtpUrl) problems.push(`KEYBOUND_${name.toUpperCase()}_CODE_FACTORS allows email, but KEYBOUND_SMTP_URL is not set`);
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return { roles, codes, sms, mail };
}

function readConfigFile(path: string): Raw {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`KEYBOUND_CONFIG_FILE=${path}: cannot read it as JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`KEYBOUND_CONFIG_FILE=${path}: expected a JSON object of KEYBOUND_* keys`);
  }
  const known = new Set<string>(CONFIG_KEYS.map((k) => k.env));
  const raw: Raw = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.has(key)) throw new ConfigError(`KEYBOUND_CONFIG_FILE=${path}: unknown key ${key}`);
    raw[key as ConfigKey] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return raw;
}

function readPemFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`KEYBOUND_ATTESTATION_TRUST_ANCHORS: cannot read ${path} (${(error as Error).message})`);
  }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new ConfigError(`KEYBOUND_ATTESTATION_TRUST_ANCHORS: ${path} holds no PEM certificate`);
  return pems;
}

type Parsed = unknown | { problem: string };

function parseValue(spec: KeySpec, text: string): Parsed {
  const integer = (min: number, max: number): Parsed => {
    if (!/^\d+$/.test(text)) return { problem: 'expected a whole number' };
    const n = Number(text);
    return n < min || n > max ? { problem: `expected a number from ${min} to ${max}` } : n;
  };
  switch (spec.kind) {
    case 'port':
      return integer(0, 65535);
    case 'seconds':
      return integer(1, 10 * 365 * 86400);
    case 'count':
      return integer(0, 1_000_000_000);
    case 'bytes':
      return integer(1024, 64 * 1024 * 1024);
    case 'bool':
      if (['true', '1', 'yes'].includes(text)) return true;
      if (['false', '0', 'no'].includes(text)) return false;
      return { problem: 'expected true or false' };
    case 'enum':
      return spec.values?.includes(text) ? text : { problem: `expected one of ${spec.values?.join(', ')}` };
    case 'list':
      return splitList(text);
    case 'origins': {
      const origins = splitList(text);
      for (const o of origins) {
        let url: URL;
        try {
          url = new URL(o);
        } catch {
          return { problem: `${o} is not a URL` };
        }
        if (url.origin !== o.replace(/\/$/, '')) return { problem: `${o} is not an origin (scheme://host[:port], no path)` };
        if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: `${o} must be http or https` };
      }
      return origins.map((o) => new URL(o).origin);
    }
    case 'string':
      return text.length === 0 ? { problem: 'must not be empty' } : text;
    case 'optional':
      return text;
    case 'duration':
      return parseDuration(text);
  }
}

/** KEYBOUND_NHI_ON_OWNER_OFFBOARD, KEYBOUND_API_KEY_MAX_TTL and KEYBOUND_API_KEY_ENV. */
function nhiConfig(get: <T>(key: ConfigKey) => T, resourceScopes: readonly string[]): NhiConfig {
  const policy = get<string>('KEYBOUND_NHI_ON_OWNER_OFFBOARD');
  let onOwnerOffboard: NhiConfig['onOwnerOffboard'];
  if (policy === 'disable') onOwnerOffboard = { action: 'disable' };
  else if (/^transfer:[^\s:]{1,64}$/.test(policy)) onOwnerOffboard = { action: 'transfer', username: policy.slice('transfer:'.length).toLowerCase() };
  else throw new ConfigError(`Invalid configuration:\n  KEYBOUND_NHI_ON_OWNER_OFFBOARD=${JSON.stringify(policy)}: expected disable or transfer:<username>`);
  const apiKeyEnv = get<string>('KEYBOUND_API_KEY_ENV');
  // The key format's `<env>` must not hold `_` (the separator) or anything a scanner's pattern misses.
  if (!/^[a-z0-9]{1,8}$/.test(apiKeyEnv)) throw new ConfigError(`Invalid configuration:\n  KEYBOUND_API_KEY_ENV=${JSON.stringify(apiKeyEnv)}: expected 1 to 8 lower-case letters or digits`);
  const days = (key: ConfigKey) => Math.max(1, get<number>(key)) * 86_400_000;
  const apiKeySelfScopes = [...new Set(get<string>('KEYBOUND_API_KEY_SELF_SCOPES').split(/[\s,]+/).filter(Boolean))];
  const unknownScope = apiKeySelfScopes.find((s) => !resourceScopes.includes(s));
  if (unknownScope !== undefined) throw new ConfigError(`Invalid configuration:\n  KEYBOUND_API_KEY_SELF_SCOPES: ${JSON.stringify(unknownScope)} is not one of KEYBOUND_OIDC_RESOURCE_SCOPES (${resourceScopes.join(', ')})`);
  return { onOwnerOffboard, apiKeyMaxTtlMs: get<number>('KEYBOUND_API_KEY_MAX_TTL') * 1000, delegationMaxTtlMs: get<number>('KEYBOUND_DELEGATION_MAX_TTL') * 1000, apiKeyEnv, apiKeySelfScopes, staleMs: days('KEYBOUND_NHI_STALE_DAYS'), rotateMs: days('KEYBOUND_NHI_ROTATE_DAYS') };
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** WebAuthn §5.1.4.1 / HTML: an RP ID must equal the origin's host or be a registrable suffix of it. */
function originMatchesRpId(origin: string, rpId: string): boolean {
  const host = new URL(origin).hostname;
  return host === rpId || host.endsWith(`.${rpId}`);
}
