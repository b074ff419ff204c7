import { plural, verdict } from './verdicts.ts';
import type { Framework, Rule } from './model.ts';

/** NIST CSF 2.0: the Protect / Identity Management, Authentication and Access Control outcomes, and what Keybound feeds to Detect and Respond. */

const DOCS = 'docs/report.md#nist-csf-20';
const pct = (n: number, d: number) => (d === 0 ? 'none' : `${Math.round((100 * n) / d)} %`);

const rules: Rule[] = [
  {
    id: 'PR.AA-01',
    title: 'People and machines each have an identity with a working credential and an owner',
    changeWith: { docs: `${DOCS}-praa-01`, page: '/admin/posture#nhi' },
    evaluate: (f) => {
      const lines = [`${plural(f.accounts.withoutPasskey, 'active account')} of ${f.accounts.active} without a passkey`, `${plural(f.nhi.orphaned, 'machine identity', 'machine identities')} whose owner is not active`];
      return verdict(f.accounts.withoutPasskey === 0 && f.nhi.orphaned === 0 ? 'met' : 'partial', ...lines);
    },
  },
  {
    id: 'PR.AA-02',
    title: 'Identities are bound to people through single-use enrolment, and rebinding needs a second person',
    changeWith: { settings: ['KEYBOUND_INVITATION_TTL', 'KEYBOUND_<ROLE>_RECOVERY_DELAY'], docs: `${DOCS}-praa-02` },
    evaluate: (f) => {
      const line = `${plural(f.accounts.activeAdmins, 'active administrator')}: assisted recovery ${f.accounts.activeAdmins >= 2 ? "needs a second administrator's approval" : 'can be approved by one person alone'}`;
      return verdict(f.accounts.activeAdmins >= 2 ? 'met' : 'partial', line);
    },
  },
  {
    id: 'PR.AA-03',
    title: 'Sign-ins are phishing-resistant and machines prove possession of a key',
    changeWith: { settings: ['KEYBOUND_<ROLE>_CODE_FACTORS', 'KEYBOUND_OIDC_ALLOW_SHARED_SECRETS'], docs: `${DOCS}-praa-03`, page: '/admin/posture#phishing-resistant' },
    evaluate: (f) => {
      const codes = f.roles.filter((r) => r.signInCodeFactors.length > 0);
      const lines = [
        `${pct(f.signIns.phishingResistant, f.signIns.total)} of ${plural(f.signIns.total, 'sign-in')} in the last ${f.signIns.days} days were phishing-resistant`,
        codes.length ? `code sign-in allowed for: ${codes.map((r) => r.role).join(', ')}` : 'no role may sign in with codes',
        `OpenID clients ${f.oidc.allowSharedSecrets ? 'may' : 'may not'} use shared secrets`,
      ];
      if (codes.length || f.oidc.allowSharedSecrets || f.signIns.phishingResistant < f.signIns.total) return verdict('partial', ...lines);
      return verdict('met', ...lines);
    },
  },
  {
    id: 'PR.AA-04',
    title: 'Identity assertions are signed, short-lived and carry only the level proven',
    changeWith: { settings: ['KEYBOUND_OIDC_SIGNING_ALG', 'KEYBOUND_OIDC_ACCESS_TOKEN_TTL', 'KEYBOUND_OIDC_ID_TOKEN_TTL'], docs: `${DOCS}-praa-04` },
    evaluate: (f) => {
      const lines = [`signed with ${f.oidc.signingAlg}`, `access tokens live ${f.oidc.accessTokenTtlS} s (self-contained ones cannot be revoked)`];
      return verdict(f.oidc.accessTokenTtlS <= 600 ? 'met' : 'partial', ...lines);
    },
  },
  {
    id: 'PR.AA-05',
    title: 'Privileges stay small and in use: administrators active, machine keys expiring',
    changeWith: { settings: ['KEYBOUND_API_KEY_MAX_TTL'], docs: `${DOCS}-praa-05`, page: '/admin/posture#nhi' },
    evaluate: (f) => {
      const lines = [`${plural(f.accounts.adminsIdle, 'active administrator')} of ${f.accounts.activeAdmins} without a sign-in in ${f.accounts.idleDays} days`, `${plural(f.nhi.longLived, 'API key')} living longer than the maximum allows`];
      return verdict(f.accounts.adminsIdle === 0 && f.nhi.longLived === 0 ? 'met' : 'partial', ...lines);
    },
  },
  {
    id: 'PR.AA-06',
    title: 'Physical access to assets is managed',
    changeWith: { docs: `${DOCS}-praa-06` },
    evaluate: () => verdict('not_applicable', 'Keybound controls no doors or rooms; this outcome belongs to facilities, not to the identity server.'),
  },
  {
    id: 'DE.CM-03',
    title: 'What people and machines do is recorded in a tamper-evident trail that verifies',
    changeWith: { settings: ['KEYBOUND_DATA_KEYS'], docs: `${DOCS}-decm-03` },
    evaluate: (f) => (f.audit.verifies ? verdict('met', `audit trail verifies (${plural(f.audit.checked, 'event')} checked)`) : verdict('not_met', `audit trail does not verify: ${f.audit.problem ?? 'unknown problem'}`)),
  },
  {
    id: 'DE.CM-09',
    title: 'Operational metrics are collected without exposing them to the public',
    changeWith: { settings: ['KEYBOUND_METRICS_PORT', 'KEYBOUND_METRICS_HOST', 'KEYBOUND_METRICS_TOKEN'], docs: `${DOCS}-decm-09` },
    evaluate: (f) => {
      const loopback = ['127.0.0.1', '::1', 'localhost'].includes(f.metrics.listenerHost);
      const lines = [f.metrics.listenerPort === 0 ? 'no metrics listener' : `metrics listener on ${f.metrics.listenerHost}:${f.metrics.listenerPort}`, f.metrics.tokenOnMainListener ? 'the main listener serves /metrics with a bearer token' : 'the main listener does not serve /metrics'];
      if (f.metrics.listenerPort !== 0 && !loopback) return verdict('partial', ...lines, 'the metrics listener is reachable from other machines without a token');
      return verdict(f.metrics.listenerPort === 0 && !f.metrics.tokenOnMainListener ? 'partial' : 'met', ...lines);
    },
  },
  {
    id: 'RS.MI-01',
    title: 'A compromised account is contained at once: suspension and offboarding leave no live session',
    changeWith: { settings: ['KEYBOUND_NHI_ON_OWNER_OFFBOARD'], docs: `${DOCS}-rsmi-01` },
    evaluate: (f) => verdict(f.accounts.endedWithLiveSessions === 0 ? 'met' : 'not_met', `${plural(f.accounts.endedWithLiveSessions, 'suspended or offboarded account')} with a live session`, `owner offboarding ${f.nhi.onOwnerOffboard === 'disable' ? 'disables' : 'transfers'} their machines`),
  },
  {
    id: 'RS.CO-02',
    title: 'Applications that rely on Keybound hear of revocations (Shared Signals)',
    changeWith: { docs: 'docs/shared-signals.md' },
    evaluate: (f) => verdict(f.streams.enabled > 0 ? 'met' : 'partial', `${plural(f.streams.enabled, 'enabled Shared Signals stream')}`),
  },
];

export const csf: Framework = { id: 'nist-csf-2.0', title: 'NIST Cybersecurity Framework 2.0', rules };
