import type { Acr } from '../../../core/assurance/level.ts';
import { ROLES, type Role } from '../../../core/model.ts';
import { acrName } from '../../../core/paths/levels.ts';
import type { RolePolicy } from '../../../core/policy.ts';
import { html } from '../html.ts';
import { consoleLayout } from './layout.ts';

export interface RoleView {
  readonly policy: RolePolicy;
  readonly requiredAcr: Acr;
  readonly recoveryDelayMs: number;
}

/** "3 days", "36 hours", "15 minutes". */
export function durationInWords(ms: number): string {
  const s = Math.round(ms / 1000);
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  if (s === 0) return 'none';
  if (s % 86_400 === 0) return unit(s / 86_400, 'day');
  if (s % 3600 === 0) return unit(s / 3600, 'hour');
  if (s % 60 === 0) return unit(s / 60, 'minute');
  return unit(s, 'second');
}

/** The effective policy of each role, as the server read it from its KEYBOUND_* settings at start. */
export function renderPolicyPage(input: { admin: string; roles: Readonly<Record<Role, RoleView>>; freshMaxAgeMs: number; sessionLimits: Readonly<Record<1 | 2 | 3, { readonly idleMs: number; readonly maxMs: number }>> }): string {
  const row = (label: string, cell: (r: RoleView) => string) => html`<tr><th scope="row">${label}</th>${ROLES.map((role) => html`<td data-role="${role}">${cell(input.roles[role])}</td>`)}</tr>`;
  return consoleLayout(
    { title: 'Policy', section: '/admin/policy', admin: input.admin },
    html`<p>The effective policy, per role, from this server's configuration (README "Configuration"). Change it with the <code>KEYBOUND_&lt;ROLE&gt;_*</code> settings and a restart.</p>
<table id="policy"><thead><tr><th scope="col">Setting</th>${ROLES.map((r) => html`<th scope="col">${r}</th>`)}</tr></thead><tbody>
${row('Lowest sign-in level', (r) => `AAL${r.policy.minAal}${r.policy.minAal === 2 ? ' (a passkey)' : ' (codes alone allowed)'}`)}
${row('Required effective level (weakest way in)', (r) => acrName(r.requiredAcr))}
${row('Synced passkeys', (r) => (r.policy.allowSyncedPasskeys ? 'allowed' : 'not allowed: device-bound only'))}
${row('Code factors allowed', (r) => (r.policy.codeFactors.length > 0 ? r.policy.codeFactors.join(', ') : 'none'))}
${row('Self-service recovery', (r) => (!r.policy.recovery.enabled ? 'off' : r.policy.recovery.proofs.length > 0 ? `a recovery code and one of: ${r.policy.recovery.proofs.join(', ')}` : 'one recovery code'))}
${row('Assisted recovery delay', (r) => durationInWords(r.recoveryDelayMs))}
</tbody></table>
<h2>For every role</h2>
<dl class="facts" id="policy-common">
<dt>Fresh sign-in for changes</dt><dd>a passkey sign-in within ${durationInWords(input.freshMaxAgeMs)}</dd>
${([1, 2, 3] as const).map((aal) => html`<dt>An AAL${aal} session ends</dt><dd>after ${durationInWords(input.sessionLimits[aal].idleMs)} idle, ${durationInWords(input.sessionLimits[aal].maxMs)} at most</dd>`)}
</dl>`,
  );
}
