import type { DelegationSummary } from '../../../services/nhi/delegations.ts';
import { html, type Html } from '../html.ts';
import { when } from './layout.ts';

const STATUS_WORDS: Record<DelegationSummary['status'], string> = { active: 'Active', expired: 'Expired', revoked: 'Revoked' };

/**
 * An account's delegations (agents acting for the person, RFC 8693 token exchange; docs/nhi.md):
 * which agent, with which scopes, until when, last used. The holder revokes them from /account;
 * suspending or offboarding the account revokes them all.
 */
export function renderDelegationsSection(delegations: readonly DelegationSummary[]): Html {
  return html`<section aria-labelledby="dg-heading" id="delegations"><h2 id="dg-heading">Agents acting for this person</h2>
${delegations.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<table><thead><tr><th scope="col">Agent</th><th scope="col">Scopes</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col">Last used</th></tr></thead><tbody>${delegations.map(
        (d) => html`<tr data-delegation="${d.id}"><td>${d.agentName} <code>${d.clientId}</code></td><td>${d.scopes.join(', ')}</td><td>${STATUS_WORDS[d.status]}${d.revokedReason ? html` (${d.revokedReason.replace(/_/g, ' ')})` : ''}</td><td>${when(d.expiresAt)}</td><td>${when(d.lastUsedAt)}</td></tr>`,
      )}</tbody></table>`}
</section>`;
}
