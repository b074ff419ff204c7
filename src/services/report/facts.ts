import { auditAnchorKey } from '../../core/audit/anchor.ts';
import { codeFactorAllowed } from '../../core/policy.ts';
import { ROLES } from '../../core/model.ts';
import type { ReportFacts } from '../../core/report/model.ts';
import { evaluateReport } from '../../core/report/evaluate.ts';
import type { Report } from '../../core/report/model.ts';
import { CODE_FACTORS } from '../../codes/factors.ts';
import { verifyAuditTrail } from '../auditTrail.ts';
import type { Deps } from '../deps.ts';
import { nhiReport } from '../nhi/report.ts';
import { analyseAll } from '../paths/analyse.ts';
import { DAY_MS, PHISHING_RESISTANT_ACRS } from './posture.ts';

/** Sign-ins the report looks back on, and how long an administrator may go without one. */
export const REPORT_DAYS = 30;
export const ADMIN_IDLE_DAYS = 90;

/**
 * Everything the standards report's rules look at (core/report), read at this moment from the
 * configuration this process runs with and from the database: the server and `keybound report`
 * gather the same facts from the same `KEYBOUND_*` settings.
 */
export async function gatherReportFacts(deps: Deps): Promise<ReportFacts> {
  const now = deps.clock();
  const { config } = deps;
  const since = (Math.floor(now / DAY_MS) - REPORT_DAYS + 1) * DAY_MS;
  const [summary, holders, credentials, tallies, nhi, audit] = await Promise.all([
    analyseAll(deps),
    deps.store.posture.factorHolders(),
    deps.store.posture.credentialFacts({ signedInSince: now - ADMIN_IDLE_DAYS * DAY_MS, now }),
    deps.store.posture.signInsByDay(since, now + 1),
    nhiReport(deps, { disable: false, by: 'report' }),
    verifyAuditTrail(deps.store, auditAnchorKey(deps.dataKeys.keys)),
  ]);
  const count = (issue: string) => nhi.entries.filter((e) => e.issues.includes(issue as never)).length;
  return {
    generatedAt: now,
    roles: ROLES.map((role) => {
      const policy = deps.policies[role];
      const rc = config.roles[role];
      const tally = summary.roles.find((r) => r.role === role);
      return {
        role,
        signInCodeFactors: CODE_FACTORS.filter((f) => codeFactorAllowed(policy, f) === null),
        minAal: policy.minAal,
        allowSyncedPasskeys: policy.allowSyncedPasskeys,
        recovery: { enabled: policy.recovery.enabled, proofs: [...policy.recovery.proofs] },
        requiredAcr: rc.minEffectiveAcr,
        recoveryDelayMs: rc.recoveryDelayMs,
        accounts: holders.find((h) => h.role === role)?.accounts ?? 0,
        belowRequired: tally?.belowRequired ?? 0,
        holders: holders.find((h) => h.role === role)?.factors ?? {},
      };
    }),
    delivery: { sms: config.sms.provider, email: config.mail.smtpUrl !== null },
    passkeys: { attestation: config.attestation, active: credentials.passkeys, trusted: credentials.passkeysTrusted, withoutUv: credentials.passkeysWithoutUv },
    codes: {
      ttlMs: config.codes.ttlMs,
      digits: config.codes.digits,
      maxFailures: config.codes.maxFailures,
      freeAttempts: config.codes.throttle.free,
      delayBaseMs: config.codes.throttle.baseMs,
      delayMaxMs: config.codes.throttle.maxMs,
      maxSends: config.codes.maxSends,
    },
    rateLimits: { ceremonyMax: config.rateLimit.ceremonyMax, oidcAuthMax: config.oidc.authRateMax },
    sessions: { limits: config.sessionLimits, maxPerAccount: config.sessionMaxPerAccount, freshAuthMaxAgeMs: config.freshAuthMaxAgeMs },
    oidc: { accessTokenTtlS: config.oidc.accessTokenTtlS, refreshTokenTtlS: config.oidc.refreshTokenTtlS, allowSharedSecrets: config.oidc.allowSharedSecrets, signingAlg: config.oidc.signingAlg },
    accounts: {
      active: holders.reduce((n, h) => n + h.accounts, 0),
      withoutPasskey: credentials.activeWithoutPasskey,
      activeAdmins: holders.find((h) => h.role === 'admin')?.accounts ?? 0,
      adminsOnlySyncable: credentials.adminsOnlySyncable,
      adminsIdle: credentials.adminsNotSignedInSince,
      idleDays: ADMIN_IDLE_DAYS,
      endedWithLiveSessions: credentials.endedWithLiveSessions,
    },
    signIns: {
      days: REPORT_DAYS,
      total: tallies.reduce((n, t) => n + t.count, 0),
      phishingResistant: tallies.filter((t) => PHISHING_RESISTANT_ACRS.includes(t.acr)).reduce((n, t) => n + t.count, 0),
    },
    audit: audit.ok ? { verifies: true, checked: audit.checked, problem: null } : { verifies: false, checked: audit.checked, problem: audit.problem },
    metrics: { tokenOnMainListener: config.metrics.token !== null, listenerPort: config.metrics.port, listenerHost: config.metrics.host },
    transport: { secureCookies: config.secureCookies, publicUrl: config.publicUrl },
    nhi: {
      workloads: nhi.workloads,
      apiKeys: nhi.apiKeys,
      orphaned: count('orphaned'),
      stale: count('stale'),
      unrotated: count('unrotated'),
      expiring: count('expiring'),
      longLived: count('long_lived'),
      apiKeyMaxTtlMs: config.nhi.apiKeyMaxTtlMs,
      staleDays: Math.round(config.nhi.staleMs / DAY_MS),
      rotateDays: Math.round(config.nhi.rotateMs / DAY_MS),
      onOwnerOffboard: config.nhi.onOwnerOffboard.action,
      apiKeyEnv: config.nhi.apiKeyEnv,
    },
    streams: { enabled: credentials.enabledStreams },
  };
}

/** The standards report of this moment (`keybound report`, `GET /api/v1/admin/report`, /admin/report). */
export async function standardsReport(deps: Deps): Promise<Report> {
  return evaluateReport(await gatherReportFacts(deps));
}
