import { ACR_VALUES } from '../../../core/assurance/level.ts';
import type { Posture } from '../../../services/report/posture.ts';
import { barChart } from '../charts/bar.ts';
import { lineChart } from '../charts/line.ts';
import { stackedBarChart } from '../charts/stackedBar.ts';
import { html, type Html } from '../html.ts';
import { consoleLayout } from './layout.ts';

/**
 * /admin/posture (issue 16; docs/report.md "Posture dashboard"): the figures of
 * `GET /api/v1/admin/posture` as charts, each with its numbers in a table for screen readers.
 */

const FACTORS = [
  { key: 'passkey_device_bound', label: 'Device-bound passkey' },
  { key: 'passkey_syncable', label: 'Syncable passkey' },
  { key: 'totp', label: 'Authenticator app' },
  { key: 'sms_code', label: 'SMS code' },
  { key: 'email_code', label: 'Email code' },
  { key: 'recovery_codes', label: 'Recovery codes' },
];
const CODE_LABELS: Record<string, string> = { totp: 'Authenticator app', sms_code: 'SMS code', email_code: 'Email code' };
const ISSUES = [
  { key: 'orphaned', label: 'Orphaned' },
  { key: 'stale', label: 'Stale' },
  { key: 'unrotated', label: 'Unrotated' },
  { key: 'expiring', label: 'Expiring' },
  { key: 'long_lived', label: 'Too long-lived' },
  { key: 'unused', label: 'Unused' },
];
const short = (acr: string) => acr.replace('urn:keybound:', '');
const pct = (n: number, d: number) => (d === 0 ? null : Math.round((1000 * n) / d) / 10);

export function postureBody(p: Posture): Html {
  const share = pct(p.signIns.phishingResistant, p.signIns.total);
  const codeTotal = Object.values(p.codeSignIns.byFactor).reduce((n, v) => n + v, 0);
  const below = p.levels.reduce((n, l) => n + l.belowRequired, 0);
  const adopted = p.passkeyAdoption.byDay.at(-1)?.accounts ?? 0;
  const issueCount = (kind: 'workload' | 'api_key' | 'delegation') => Object.values(p.nhi.issues[kind]).reduce((n, v) => n + v, 0);
  return html`<p>The last ${p.days} days, from ${p.since.slice(0, 10)} (UTC), as of ${p.generatedAt.slice(0, 16).replace('T', ' ')} UTC. The same figures as JSON: <a href="/api/v1/admin/posture?days=${p.days}">/api/v1/admin/posture</a>. Standards: <a href="/admin/report">the standards report</a>.</p>
<form method="get" action="/admin/posture"><label for="days">Days to show (1 to 365)</label><input id="days" name="days" type="number" min="1" max="365" value="${p.days}" inputmode="numeric"><button type="submit">Show</button></form>
<ul class="figures">
<li><strong>${share === null ? 'No' : `${share} %`}</strong> ${share === null ? 'sign-ins' : 'of sign-ins phishing-resistant'}</li>
<li><strong>${below}</strong> ${below === 1 ? 'account' : 'accounts'} below their role's level</li>
<li><strong>${adopted}</strong> of ${p.passkeyAdoption.activeAccounts} active accounts with a passkey</li>
</ul>
<section id="phishing-resistant"><h2>Phishing-resistant sign-ins</h2>
${lineChart({
  id: 'chart-phr',
  title: 'Share of sign-ins that were phishing-resistant, by day',
  desc: share === null ? `No sign-ins in the last ${p.days} days.` : `${share} % of ${p.signIns.total} sign-ins in the last ${p.days} days were made with a passkey (phishing-resistant); days without sign-ins are left out.`,
  labels: p.signIns.byDay.map((d) => d.date),
  series: [{ label: 'Phishing-resistant', values: p.signIns.byDay.map((d) => pct(d.phishingResistant, d.total)) }],
  max: 100,
  unit: '%',
})}
</section>
<section id="factors"><h2>Factor mix by role</h2>
${stackedBarChart({
  id: 'chart-factors',
  title: 'Active accounts holding each kind of factor, by role',
  desc: p.factorMix.map((m) => `${m.role}: ${m.accounts} active accounts; ${FACTORS.filter((f) => m.factors[f.key]).map((f) => `${m.factors[f.key]} with ${f.label.toLowerCase()}`).join(', ') || 'no factors'}`).join('. ') || 'No active accounts.',
  series: FACTORS,
  rows: p.factorMix.map((m) => ({ label: m.role, values: m.factors })),
})}
</section>
<section id="levels"><h2>Effective level against the role's requirement</h2>
<p>An account's effective level is that of its weakest way in, recovery included (the paths analysis). Required: ${p.levels.map((l) => `${l.role} ${short(l.requiredAcr)}`).join(', ')}.</p>
${stackedBarChart({
  id: 'chart-levels',
  title: 'Accounts by effective level, by role',
  desc: p.levels.map((l) => `${l.role}: ${l.accounts} accounts, ${l.belowRequired} below the required ${short(l.requiredAcr)}`).join('. '),
  series: [{ key: 'none', label: 'No way in' }, ...ACR_VALUES.map((a) => ({ key: a, label: short(a) }))],
  rows: p.levels.map((l) => ({ label: l.role, values: l.byEffectiveAcr })),
})}
${barChart({
  id: 'chart-below',
  title: "Accounts below their role's required level (recovery-path debt)",
  desc: `${below} accounts in all; required: ${p.levels.map((l) => `${l.role} ${short(l.requiredAcr)}`).join(', ')}.`,
  rows: p.levels.map((l) => ({ label: l.role, value: l.belowRequired })),
  colour: '#be123c',
})}
</section>
<section id="codes"><h2>Code sign-ins</h2>
${barChart({
  id: 'chart-codes',
  title: `Sign-ins with one-time codes, by factor, last ${p.days} days`,
  desc: `${codeTotal} code sign-ins in all.`,
  rows: Object.entries(p.codeSignIns.byFactor).map(([k, v]) => ({ label: CODE_LABELS[k] ?? k, value: v })),
  colour: '#b45309',
})}
</section>
<section id="adoption"><h2>Passkey adoption</h2>
${lineChart({
  id: 'chart-adoption',
  title: 'Active accounts with a passkey, by day',
  desc: `${adopted} of ${p.passkeyAdoption.activeAccounts} active accounts had a passkey on ${p.passkeyAdoption.byDay.at(-1)?.date ?? 'the last day'}.`,
  labels: p.passkeyAdoption.byDay.map((d) => d.date),
  series: [{ label: 'Accounts with a passkey', values: p.passkeyAdoption.byDay.map((d) => d.accounts) }],
})}
</section>
<section id="nhi"><h2>Non-human identities</h2>
<p>${p.nhi.workloads} active workloads, ${p.nhi.apiKeys} active API keys and ${p.nhi.delegations} live delegations to agents; <code>keybound nhi report</code> lists them one by one.</p>
${stackedBarChart({
  id: 'chart-nhi',
  title: 'Workloads, API keys and delegations needing attention, by issue',
  desc: `Workloads: ${issueCount('workload')} issues; API keys: ${issueCount('api_key')} issues; delegations: ${issueCount('delegation')} unused (one machine may have several issues).`,
  series: ISSUES,
  rows: [
    { label: 'Workloads', values: p.nhi.issues.workload },
    { label: 'API keys', values: p.nhi.issues.api_key },
    { label: 'Delegations', values: p.nhi.issues.delegation },
  ],
})}
</section>`;
}

export function renderPosturePage(p: Posture, admin: string): string {
  return consoleLayout({ title: 'Posture', section: '/admin/posture', admin }, postureBody(p));
}
