import type { AuditEvent } from '../../../core/model.ts';
import { html, type Html } from '../html.ts';
import { describeAmr, describeUserAgent } from '../words.ts';
import { when } from './layout.ts';

/**
 * An account's recent sign-ins, from the audit trail (`sign_in` events), with the risk engine's
 * verdict when the event carries one (`details.risk: {decision, reasons}`), its reasons in words.
 */

const REASONS: Readonly<Record<string, string>> = {
  new_device: 'a device not seen before',
  new_ip: 'an address not seen before',
  new_network: 'a network not seen before',
  new_country: 'a country not seen before',
  impossible_travel: 'too far from the last sign-in for the time between them',
  velocity: 'many sign-ins in a short time',
  failed_attempts: 'recent failed attempts',
  tor: 'an anonymising network',
  anonymous_network: 'an anonymising network',
  unusual_time: 'an unusual time of day',
  credential_stuffing: 'a pattern of credential stuffing',
  breached_ip: 'an address known for attacks',
};

/** A risk reason code in words; an unknown code is still readable ("some_code" → "some code"). */
export function riskReasonInWords(code: string): string {
  return REASONS[code] ?? code.replace(/[_.]+/g, ' ');
}

interface Risk {
  readonly decision: string | null;
  readonly reasons: readonly string[];
}

function riskOf(details: Record<string, unknown>): Risk | null {
  const risk = details.risk as { decision?: unknown; reasons?: unknown } | undefined;
  if (!risk || typeof risk !== 'object') return null;
  const reasons = Array.isArray(risk.reasons) ? risk.reasons.filter((r): r is string => typeof r === 'string') : [];
  return { decision: typeof risk.decision === 'string' ? risk.decision : null, reasons };
}

function riskCell(risk: Risk | null): Html | string {
  if (!risk) return '';
  return html`<span data-risk-decision="${risk.decision ?? ''}">${risk.decision ?? 'assessed'}</span>${risk.reasons.length > 0 ? html`: <span class="risk-reasons">${risk.reasons.map(riskReasonInWords).join('; ')}</span>` : ''}`;
}

export function renderSignInsSection(events: readonly AuditEvent[]): Html {
  return html`<section aria-labelledby="signins-heading" id="sign-ins">
<h2 id="signins-heading">Recent sign-ins</h2>
${events.length === 0
    ? html`<p class="muted">No sign-in recorded.</p>`
    : html`<table><thead><tr><th scope="col">When</th><th scope="col">Outcome</th><th scope="col">How</th><th scope="col">From</th><th scope="col">Risk</th></tr></thead>
<tbody>${events.map((e) => {
        const amr = Array.isArray(e.details.amr) ? (e.details.amr as string[]) : [];
        return html`<tr data-sign-in="${e.seq}"><td>${when(new Date(e.at).toISOString())}</td><td>${e.outcome}${e.reason ? html` (${e.reason})` : ''}</td><td>${amr.length > 0 ? describeAmr(amr) : typeof e.details.method === 'string' ? e.details.method : ''}</td><td><span title="${e.userAgent ?? ''}">${e.userAgent ? describeUserAgent(e.userAgent) : ''}</span>${e.ip ? html`<br><span class="muted">${e.ip}</span>` : ''}</td><td>${riskCell(riskOf(e.details))}</td></tr>`;
      })}</tbody></table>`}
</section>`;
}
