import { plural, verdict } from './verdicts.ts';
import type { Framework, Rule } from './model.ts';

/** NIST SP 800-207, the seven tenets of zero trust, as far as an identity server carries them. */

const DOCS = 'docs/report.md#nist-sp-800-207';
const ACR_RANK: Record<string, number> = { 'urn:keybound:aal1': 1, 'urn:keybound:aal2': 2, 'urn:keybound:aal2:phr': 3, 'urn:keybound:aal3': 4 };

const rules: Rule[] = [
  {
    id: 'ZT-1',
    title: 'Every service and agent is a known resource with an identity and an owner',
    changeWith: { docs: `${DOCS}-1`, page: '/admin/posture#nhi' },
    evaluate: (f) => verdict(f.nhi.orphaned === 0 ? 'met' : 'partial', `${plural(f.nhi.workloads, 'active workload')} and ${plural(f.nhi.apiKeys, 'active API key')}`, `${f.nhi.orphaned} without an active owner`),
  },
  {
    id: 'ZT-2',
    title: 'Communication is secured wherever it comes from',
    changeWith: { settings: ['KEYBOUND_ORIGIN', 'KEYBOUND_METRICS_HOST'], docs: `${DOCS}-2` },
    evaluate: (f) => {
      const https = f.transport.publicUrl.startsWith('https://');
      const lines = [`public URL ${f.transport.publicUrl}`, f.transport.secureCookies ? 'cookies are Secure' : 'cookies are not Secure (plain-HTTP localhost)'];
      return verdict(https && f.transport.secureCookies ? 'met' : 'partial', ...lines);
    },
  },
  {
    id: 'ZT-3',
    title: 'Access is granted per session, with limits on how long and how many',
    changeWith: { settings: ['KEYBOUND_SESSION_MAX_PER_ACCOUNT', 'KEYBOUND_SESSION_AAL2_MAX'], docs: `${DOCS}-3` },
    evaluate: (f) => verdict(f.sessions.maxPerAccount > 0 ? 'met' : 'partial', f.sessions.maxPerAccount > 0 ? `at most ${f.sessions.maxPerAccount} live sessions per account` : 'no limit on live sessions per account'),
  },
  {
    id: 'ZT-4',
    title: 'Policy weighs the evidence of each sign-in, not just the password-era "who"',
    changeWith: { settings: ['KEYBOUND_<ROLE>_MIN_EFFECTIVE_ACR', 'KEYBOUND_<ROLE>_MIN_AAL'], docs: `${DOCS}-4` },
    evaluate: (f) => {
      const weak = f.roles.filter((r) => (ACR_RANK[r.requiredAcr] ?? 0) < 2);
      return verdict(weak.length ? 'partial' : 'met', ...f.roles.map((r) => `${r.role} requires ${r.requiredAcr}`));
    },
  },
  {
    id: 'ZT-5',
    title: 'The integrity of authenticators is checked (attestation)',
    changeWith: { settings: ['KEYBOUND_ATTESTATION'], docs: `${DOCS}-5` },
    evaluate: (f) => verdict(f.passkeys.attestation === 'direct' ? 'met' : 'partial', `KEYBOUND_ATTESTATION=${f.passkeys.attestation}`, `${f.passkeys.trusted} of ${f.passkeys.active} passkeys attested`),
  },
  {
    id: 'ZT-6',
    title: 'Authentication is re-checked before sensitive changes, and tokens are short-lived',
    changeWith: { settings: ['KEYBOUND_FRESH_AUTH_MAX_AGE', 'KEYBOUND_OIDC_ACCESS_TOKEN_TTL'], docs: `${DOCS}-6` },
    evaluate: (f) => {
      const lines = [`changes need a passkey sign-in within ${f.sessions.freshAuthMaxAgeMs / 1000} s`, `access tokens live ${f.oidc.accessTokenTtlS} s`];
      return verdict(f.sessions.freshAuthMaxAgeMs <= 900_000 && f.oidc.accessTokenTtlS <= 600 ? 'met' : 'partial', ...lines);
    },
  },
  {
    id: 'ZT-7',
    title: 'What happens is collected and can be trusted to improve posture',
    changeWith: { settings: ['KEYBOUND_DATA_KEYS', 'KEYBOUND_PATHS_REPORT_ON_START'], docs: `${DOCS}-7`, page: '/admin/posture' },
    evaluate: (f) => (f.audit.verifies ? verdict('met', `audit trail verifies (${plural(f.audit.checked, 'event')})`) : verdict('not_met', `audit trail does not verify: ${f.audit.problem ?? 'unknown problem'}`)),
  },
];

export const zeroTrust: Framework = { id: 'nist-sp-800-207', title: 'NIST SP 800-207 Zero Trust Architecture', rules };
