import { hours, minutes, plural, verdict } from './verdicts.ts';
import type { Framework, ReportFacts, RoleFacts, Rule } from './model.ts';

/** NIST SP 800-63B-4 (docs/report.md#nist-sp-800-63b-4): what the configuration and accounts meet of it. */

const DOCS = 'docs/report.md#nist-sp-800-63b-4';
const ACR_RANK: Record<string, number> = { 'urn:keybound:aal1': 1, 'urn:keybound:aal2': 2, 'urn:keybound:aal2:phr': 3, 'urn:keybound:aal3': 4 };
const short = (acr: string) => acr.replace('urn:keybound:', '');
const smsRoles = (f: ReportFacts) => f.roles.filter((r) => r.signInCodeFactors.includes('sms') || (r.recovery.enabled && r.recovery.proofs.includes('sms')));
const emailSignInRoles = (f: ReportFacts) => f.roles.filter((r) => r.signInCodeFactors.includes('email'));
const roleLine = (r: RoleFacts) =>
  `${r.role}: sign-in at AAL${r.minAal} or above, ${r.signInCodeFactors.length ? `codes allowed (${r.signInCodeFactors.join(', ')})` : 'passkeys only'}, weakest way in at least ${short(r.requiredAcr)}`;

const aalPerRole: Rule = {
  id: '63B-AAL',
  title: 'Each role signs in at the level its access calls for, administrators at AAL2 or above',
  changeWith: { settings: ['KEYBOUND_<ROLE>_MIN_AAL', 'KEYBOUND_<ROLE>_MIN_EFFECTIVE_ACR', 'KEYBOUND_<ROLE>_CODE_FACTORS'], docs: `${DOCS}-aal` },
  evaluate: (f) => {
    const admin = f.roles.find((r) => r.role === 'admin');
    const lines = f.roles.map(roleLine);
    if (admin && (admin.minAal < 2 || (ACR_RANK[admin.requiredAcr] ?? 0) < 2)) return verdict('not_met', ...lines, 'The admin role lets an account in below AAL2.');
    const weak = f.roles.filter((r) => r.minAal < 2);
    if (weak.length) return verdict('partial', ...lines, `${weak.map((r) => r.role).join(', ')} may sign in at AAL1 with codes alone.`);
    return verdict('met', ...lines);
  },
};

const accountsAtLevel: Rule = {
  id: '63B-AAL-ACCOUNTS',
  title: 'No account has a way in (recovery included) weaker than its role requires',
  changeWith: { settings: ['KEYBOUND_<ROLE>_MIN_EFFECTIVE_ACR'], docs: 'docs/paths.md', page: '/admin/posture#levels' },
  evaluate: (f) => {
    const lines = f.roles.map((r) => `${r.role}: ${plural(r.belowRequired, 'account')} of ${r.accounts} below ${short(r.requiredAcr)}`);
    const admins = f.roles.find((r) => r.role === 'admin')?.belowRequired ?? 0;
    const total = f.roles.reduce((n, r) => n + r.belowRequired, 0);
    if (admins > 0) return verdict('not_met', ...lines);
    return verdict(total > 0 ? 'partial' : 'met', ...lines);
  },
};

const deviceBoundAdmins: Rule = {
  id: '63B-AAL3-NONEXPORTABLE',
  title: 'Administrators use passkeys that cannot leave their device',
  changeWith: { settings: ['KEYBOUND_ADMIN_ALLOW_SYNCED_PASSKEYS'], docs: `${DOCS}-syncable`, page: '/admin/posture#factors' },
  evaluate: (f) => {
    const admin = f.roles.find((r) => r.role === 'admin');
    const allowed = admin?.allowSyncedPasskeys ?? false;
    const lines = [`KEYBOUND_ADMIN_ALLOW_SYNCED_PASSKEYS=${allowed}`, `${plural(f.accounts.adminsOnlySyncable, 'active administrator')} hold only syncable passkeys`];
    if (allowed) return verdict(f.accounts.adminsOnlySyncable > 0 ? 'not_met' : 'partial', ...lines);
    return verdict(f.accounts.adminsOnlySyncable > 0 ? 'partial' : 'met', ...lines);
  },
};

const userVerification: Rule = {
  id: '63B-UV',
  title: 'Every passkey in use proved user verification (a PIN or biometric), so it counts as two factors',
  changeWith: { docs: `${DOCS}-uv`, page: '/admin/posture#factors' },
  evaluate: (f) => {
    if (f.passkeys.active === 0) return verdict('not_applicable', 'No active passkeys yet.');
    return verdict(f.passkeys.withoutUv === 0 ? 'met' : 'not_met', `${plural(f.passkeys.withoutUv, 'active passkey')} of ${f.passkeys.active} without user verification`);
  },
};

const restrictedSms: Rule = {
  id: '63B-RESTRICTED-SMS',
  title: 'Text-message codes, a restricted authenticator, are off or kept away from administrators',
  changeWith: { settings: ['KEYBOUND_<ROLE>_CODE_FACTORS', 'KEYBOUND_<ROLE>_RECOVERY', 'KEYBOUND_SMS_PROVIDER'], docs: `${DOCS}-restricted` },
  evaluate: (f) => {
    const roles = smsRoles(f);
    const holders = f.roles.reduce((n, r) => n + (r.holders.sms_code ?? 0), 0);
    const lines = [roles.length ? `SMS codes enabled for: ${roles.map((r) => r.role).join(', ')}` : 'SMS codes are enabled for no role', `${plural(holders, 'active account')} with an SMS factor`];
    if (roles.some((r) => r.role === 'admin')) return verdict('not_met', ...lines);
    if (roles.length || holders > 0) return verdict('partial', ...lines, 'A passkey is offered to every role as the alternative; the risk of SIM swap is accepted for these roles.');
    return verdict('met', ...lines);
  },
};

const emailNotOob: Rule = {
  id: '63B-EMAIL',
  title: 'Codes sent by email never sign anyone in on their own',
  changeWith: { settings: ['KEYBOUND_<ROLE>_CODE_FACTORS', 'KEYBOUND_<ROLE>_RECOVERY'], docs: `${DOCS}-email` },
  evaluate: (f) => {
    const roles = emailSignInRoles(f);
    const recovery = f.roles.filter((r) => r.recovery.enabled && r.recovery.proofs.includes('email'));
    const lines = [roles.length ? `Email codes sign in for: ${roles.map((r) => r.role).join(', ')}` : 'Email codes sign in for no role', recovery.length ? `Email is a second recovery proof for: ${recovery.map((r) => r.role).join(', ')}` : 'Email is no recovery proof'];
    if (roles.length) return verdict('not_met', ...lines);
    return verdict(recovery.length ? 'partial' : 'met', ...lines);
  },
};

const otpParameters: Rule = {
  id: '63B-OOB-CODES',
  title: 'Sent codes have at least six digits and expire within ten minutes',
  changeWith: { settings: ['KEYBOUND_CODE_DIGITS', 'KEYBOUND_CODE_TTL'], docs: `${DOCS}-codes` },
  evaluate: (f) => {
    const ok = f.codes.digits >= 6 && f.codes.ttlMs <= 600_000;
    return verdict(ok ? 'met' : 'not_met', `${f.codes.digits} digits`, `valid ${minutes(f.codes.ttlMs)}`);
  },
};

const throttling: Rule = {
  id: '63B-THROTTLE',
  title: 'Guessing is throttled: waits between attempts, at most 100 failures per authenticator, ceremonies rate-limited',
  changeWith: { settings: ['KEYBOUND_CODE_MAX_FAILURES', 'KEYBOUND_CODE_FREE_FAILURES', 'KEYBOUND_CODE_DELAY_BASE', 'KEYBOUND_RATE_LIMIT_CEREMONY', 'KEYBOUND_RATE_LIMIT_OIDC_AUTH'], docs: `${DOCS}-throttle` },
  evaluate: (f) => {
    const lines = [
      `an authenticator is disabled after ${f.codes.maxFailures} consecutive failures`,
      `${f.codes.freeAttempts} free attempts, then waits from ${f.codes.delayBaseMs / 1000} s doubling to ${f.codes.delayMaxMs / 1000} s`,
      `passkey ceremonies: ${f.rateLimits.ceremonyMax === 0 ? 'no rate limit' : `${f.rateLimits.ceremonyMax} per address per window`}`,
      `OpenID authorization requests: ${f.rateLimits.oidcAuthMax === 0 ? 'no rate limit' : `${f.rateLimits.oidcAuthMax} per address per window`}`,
    ];
    if (f.codes.maxFailures > 100 || f.codes.delayBaseMs === 0) return verdict('not_met', ...lines);
    if (f.rateLimits.ceremonyMax === 0 || f.rateLimits.oidcAuthMax === 0) return verdict('partial', ...lines);
    return verdict('met', ...lines);
  },
};

const reauthentication: Rule = {
  id: '63B-REAUTH',
  title: 'Sessions end on time: AAL2 within 24 h and after 1 h idle, AAL3 within 12 h and after 15 min idle',
  changeWith: { settings: ['KEYBOUND_SESSION_AAL2_MAX', 'KEYBOUND_SESSION_AAL2_IDLE', 'KEYBOUND_SESSION_AAL3_MAX', 'KEYBOUND_SESSION_AAL3_IDLE', 'KEYBOUND_OIDC_REFRESH_TOKEN_TTL'], docs: `${DOCS}-reauth` },
  evaluate: (f) => {
    const { 2: two, 3: three } = f.sessions.limits;
    const problems: string[] = [];
    if (two.maxMs > 86_400_000) problems.push('AAL2 sessions outlive 24 h');
    if (two.idleMs > 3_600_000) problems.push('AAL2 sessions stay idle over 1 h');
    if (three.maxMs > 43_200_000) problems.push('AAL3 sessions outlive 12 h');
    if (three.idleMs > 900_000) problems.push('AAL3 sessions stay idle over 15 min');
    if (f.oidc.refreshTokenTtlS > 86_400) problems.push('refresh tokens outlive 24 h');
    const lines = [`AAL2: ${hours(two.maxMs)} at most, ${minutes(two.idleMs)} idle`, `AAL3: ${hours(three.maxMs)} at most, ${minutes(three.idleMs)} idle`, `refresh tokens: ${hours(f.oidc.refreshTokenTtlS * 1000)}`, ...problems];
    return verdict(problems.length ? 'not_met' : 'met', ...lines);
  },
};

const recovery: Rule = {
  id: '63B-RECOVERY',
  title: 'Recovery is as strong as sign-in and the holder hears of it',
  changeWith: { settings: ['KEYBOUND_<ROLE>_RECOVERY', 'KEYBOUND_<ROLE>_RECOVERY_DELAY', 'KEYBOUND_SMTP_URL'], docs: `${DOCS}-recovery` },
  evaluate: (f) => {
    const lines = f.roles.map((r) => `${r.role}: self-service ${r.recovery.enabled ? (r.recovery.proofs.length ? `a saved code and one of ${r.recovery.proofs.join(', ')}` : 'a saved code alone') : 'off'}; assisted recovery waits ${hours(r.recoveryDelayMs)}`);
    lines.push(f.delivery.email ? 'Email notices are configured' : 'No email (KEYBOUND_SMTP_URL unset): holders are not told by email of a recovery');
    const weak = f.roles.filter((r) => r.minAal >= 2 && r.recovery.enabled && r.recovery.proofs.length === 0);
    if (weak.length) return verdict('not_met', ...lines, `${weak.map((r) => r.role).join(', ')} recovers with one saved code, below its sign-in level`);
    const noDelay = f.roles.filter((r) => r.recoveryDelayMs === 0);
    if (!f.delivery.email || noDelay.length) return verdict('partial', ...lines, ...(noDelay.length ? [`no delay to cancel an assisted recovery for ${noDelay.map((r) => r.role).join(', ')}`] : []));
    return verdict('met', ...lines);
  },
};

const attestation: Rule = {
  id: '63B-ATTESTATION',
  title: 'Only authenticator models the policy trusts are accepted',
  changeWith: { settings: ['KEYBOUND_ATTESTATION', 'KEYBOUND_ATTESTATION_AAGUIDS', 'KEYBOUND_ATTESTATION_TRUST_ANCHORS'], docs: 'docs/report.md#nist-sp-800-63b-4-attestation' },
  evaluate: (f) => {
    const lines = [`KEYBOUND_ATTESTATION=${f.passkeys.attestation}`, `${f.passkeys.trusted} of ${f.passkeys.active} active passkeys have a trusted attestation`];
    if (f.passkeys.attestation === 'direct') return verdict(f.passkeys.trusted === f.passkeys.active ? 'met' : 'partial', ...lines);
    return verdict('partial', ...lines, 'Any authenticator model is accepted; none reaches AAL3.');
  },
};

export const nist63b: Framework = {
  id: 'nist-sp-800-63b-4',
  title: 'NIST SP 800-63B-4 Digital Identity Guidelines: Authentication',
  rules: [aalPerRole, accountsAtLevel, deviceBoundAdmins, userVerification, restrictedSms, emailNotOob, otpParameters, throttling, reauthentication, recovery, attestation],
};
