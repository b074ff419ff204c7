import type { AuditEvent } from '../../core/model.ts';
import { reasonInWords } from '../../core/risk/reasons.ts';
import { html } from './html.ts';
import { describeMethod, describePlace, describeUserAgent } from './words.ts';

interface RiskSeen {
  readonly decision?: string;
  readonly reasons?: readonly string[];
  readonly signals?: readonly string[];
  readonly place?: { country: string | null; city: string | null } | null;
}

const when = (at: number) => {
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 16)} UTC</time>`;
};

const OUTCOME: Readonly<Record<string, string>> = { allow: 'Signed in', step_up: 'Asked for a passkey', deny: 'Refused' };

/**
 * "Recent sign-ins" of /account (issue 14): when, the method, the place and device, and what the
 * risk policy saw and decided, in words (the sign-in audit events' `risk` details).
 */
export function renderRecentSignIns(events: readonly AuditEvent[]) {
  if (events.length === 0) return '';
  return html`<section aria-labelledby="sign-ins-heading">
<h2 id="sign-ins-heading">Recent sign-ins</h2>
<table class="sign-ins">
<thead><tr><th scope="col">When</th><th scope="col">How</th><th scope="col">From</th><th scope="col">Result</th><th scope="col">Noticed</th></tr></thead>
<tbody>
${events.map((e) => {
  const risk = (e.details.risk ?? {}) as RiskSeen;
  const noticed = [...new Set([...(risk.reasons ?? []), ...(risk.signals ?? [])])];
  const result = e.outcome === 'success' ? 'Signed in' : risk.decision ? (OUTCOME[risk.decision] ?? 'Refused') : 'Failed';
  return html`<tr data-seq="${String(e.seq)}">
<td>${when(e.at)}</td>
<td>${describeMethod(e.details.method)}</td>
<td>${describePlace(risk.place)} · <span class="agent" title="${e.userAgent ?? ''}">${describeUserAgent(e.userAgent ?? '')}</span></td>
<td>${result}</td>
<td>${noticed.length > 0 ? html`<ul class="reasons">${noticed.map((r) => html`<li data-reason="${r}">${reasonInWords(r)}</li>`)}</ul>` : 'nothing unusual'}</td>
</tr>`;
})}
</tbody>
</table>
</section>`;
}
