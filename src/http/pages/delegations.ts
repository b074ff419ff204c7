import type { DelegationSummary } from '../../services/nhi/delegations.ts';
import { html, type Html } from './html.ts';

const when = (iso: string | null) => (iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 16)} UTC</time>` : html`never`);

/**
 * "Agents acting for you" on /account (docs/nhi.md "Delegation to agents"): the person's live
 * delegations, each with its agent, scopes, expiry and last use and a Revoke button, and a form to
 * grant one (POST /api/v1/delegations, which needs a fresh passkey sign-in). The behaviour is in
 * assets/delegations.ts.
 */
export function renderDelegationsSection(input: { delegations: readonly DelegationSummary[]; fresh: boolean; maxDays: number; why: Html }): Html {
  const live = input.delegations.filter((d) => d.status === 'active');
  return html`<section aria-labelledby="agents-heading">
<h2 id="agents-heading">Agents acting for you</h2>
<p>An agent you allow here may get short-lived tokens that act for you, with no more than the scopes you give it, and says so in every token. Revoking stops it at once; so does signing out.</p>
${
  live.length === 0
    ? html`<p class="muted" id="no-agents">No agent acts for you.</p>`
    : html`<table class="delegations">
<thead><tr><th scope="col">Agent</th><th scope="col">Scopes</th><th scope="col">Allowed</th><th scope="col">Until</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
${live.map(
  (d) => html`<tr data-delegation="${d.id}">
<td>${d.agentName} <code>${d.clientId}</code></td>
<td>${d.scopes.join(', ')}</td>
<td>${when(d.createdAt)}</td>
<td>${when(d.expiresAt)}</td>
<td>${when(d.lastUsedAt)}</td>
<td><button type="button" class="revoke-delegation" data-id="${d.id}" data-agent="${d.agentName}" aria-label="Stop ${d.agentName} acting for you">Revoke</button></td>
</tr>`,
)}
</tbody>
</table>`
}
${
  input.fresh
    ? html`<form id="delegate-form">
<label for="delegate-client">Agent's client id</label><input id="delegate-client" name="clientId" type="text" maxlength="128" required>
<label for="delegate-scopes">Scopes (separated by spaces)</label><input id="delegate-scopes" name="scopes" type="text" maxlength="500" required>
<label for="delegate-days">For how many days</label><input id="delegate-days" name="days" type="number" min="1" max="${String(input.maxDays)}" value="7" required>
<button type="submit" id="delegate">Let this agent act for me</button>
</form>`
    : html`<p class="notice" id="agents-need-sign-in">To let an agent act for you, <a href="/login?next=/account">sign in again</a> with a passkey (${input.why}).</p>`
}
</section>`;
}
