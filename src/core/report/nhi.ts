import { plural, verdict } from './verdicts.ts';
import type { Framework, Rule } from './model.ts';

/** OWASP Non-Human Identities Top 10 (2025), mapped in docs/nhi.md. */

const DOCS = 'docs/report.md#owasp-nhi-top-10';
const DAY = 86_400_000;

const rules: Rule[] = [
  {
    id: 'NHI1',
    title: 'Machine identities are offboarded with their owners',
    changeWith: { settings: ['KEYBOUND_NHI_ON_OWNER_OFFBOARD'], docs: 'docs/nhi.md', page: '/admin/posture#nhi' },
    evaluate: (f) => verdict(f.nhi.orphaned === 0 ? 'met' : 'not_met', `${f.nhi.orphaned} orphaned`, `owner offboarding ${f.nhi.onOwnerOffboard === 'disable' ? 'disables' : 'transfers'} their machines`),
  },
  {
    id: 'NHI2',
    title: 'Machine secrets are not shared or stored readable',
    changeWith: { settings: ['KEYBOUND_OIDC_ALLOW_SHARED_SECRETS'], docs: 'docs/nhi.md' },
    evaluate: (f) => verdict(f.oidc.allowSharedSecrets ? 'partial' : 'met', f.oidc.allowSharedSecrets ? 'OpenID clients may hold shared secrets' : 'clients authenticate with keys; API keys are stored as hashes'),
  },
  {
    id: 'NHI3',
    title: 'Third-party integrations each have their own revocable identity',
    changeWith: { docs: 'docs/nhi.md' },
    evaluate: (f) => (f.nhi.workloads + f.nhi.apiKeys === 0 ? verdict('not_applicable', 'no machine identities') : verdict('partial', `${f.nhi.workloads + f.nhi.apiKeys} machine identities; nothing inventories which are third-party`)),
  },
  {
    id: 'NHI4',
    title: 'Machines authenticate with keys, not passwords',
    changeWith: { settings: ['KEYBOUND_OIDC_ALLOW_SHARED_SECRETS'], docs: 'docs/nhi.md' },
    evaluate: (f) => verdict(f.oidc.allowSharedSecrets ? 'not_met' : 'met', `KEYBOUND_OIDC_ALLOW_SHARED_SECRETS=${f.oidc.allowSharedSecrets}`),
  },
  {
    id: 'NHI5',
    title: 'Machine identities that are not used are found and removed',
    changeWith: { settings: ['KEYBOUND_NHI_STALE_DAYS'], docs: 'docs/nhi.md', page: '/admin/posture#nhi' },
    evaluate: (f) => verdict(f.nhi.stale === 0 ? 'met' : 'partial', `${plural(f.nhi.stale, 'workload or key', 'workloads or keys')} unused for ${f.nhi.staleDays} days`),
  },
  {
    id: 'NHI6',
    title: 'Cloud and CI workloads federate instead of holding secrets',
    changeWith: { docs: 'docs/nhi.md' },
    evaluate: () => verdict('not_applicable', 'Keybound does not federate cloud or CI identities; nothing of this installation can be checked'),
  },
  {
    id: 'NHI7',
    title: 'Machine secrets expire and are rotated',
    changeWith: { settings: ['KEYBOUND_API_KEY_MAX_TTL', 'KEYBOUND_NHI_ROTATE_DAYS'], docs: 'docs/nhi.md', page: '/admin/posture#nhi' },
    evaluate: (f) => {
      const lines = [`API keys live at most ${Math.round(f.nhi.apiKeyMaxTtlMs / DAY)} days`, `${f.nhi.unrotated} workload key sets older than ${f.nhi.rotateDays} days`, `${f.nhi.longLived} API keys longer-lived than allowed`, `${f.nhi.expiring} expiring within 7 days`];
      if (f.nhi.longLived > 0 || f.nhi.apiKeyMaxTtlMs > 365 * DAY) return verdict('not_met', ...lines);
      return verdict(f.nhi.unrotated > 0 ? 'partial' : 'met', ...lines);
    },
  },
  {
    id: 'NHI8',
    title: 'Test and production credentials are told apart',
    changeWith: { settings: ['KEYBOUND_API_KEY_ENV'], docs: 'docs/nhi.md' },
    evaluate: (f) => verdict('partial', `new API keys are marked kb_${f.nhi.apiKeyEnv}_; one installation per environment is the isolation`),
  },
  {
    id: 'NHI9',
    title: 'One machine identity is not reused by many',
    changeWith: { docs: 'docs/nhi.md' },
    evaluate: (f) => (f.nhi.workloads + f.nhi.apiKeys === 0 ? verdict('not_applicable', 'no machine identities') : verdict('partial', 'each identity has its own last use and audit trail; reuse is visible, not prevented')),
  },
  {
    id: 'NHI10',
    title: 'People do not sign in with machine credentials',
    changeWith: { docs: 'docs/nhi.md' },
    evaluate: (f) => verdict(f.accounts.withoutPasskey === 0 ? 'met' : 'partial', `${plural(f.accounts.withoutPasskey, 'active account')} without a passkey of its own`),
  },
];

export const nhiTop10: Framework = { id: 'owasp-nhi-top-10', title: 'OWASP Non-Human Identities Top 10 (2025)', rules };
