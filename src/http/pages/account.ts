import type { Account, Session } from '../../core/model.ts';
import type { PasskeySummary } from '../../services/passkeys/management.ts';
import { renderFactorsSection, type FactorsView } from './factors.ts';
import { html, layout } from './html.ts';

const when = (iso: string | null) => (iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 16)} UTC</time>` : html`never`);

export function renderAccountPage(input: {
  account: Account;
  session: Session;
  passkeys: readonly PasskeySummary[];
  sessions: readonly Session[];
  fresh: boolean;
  allowSyncedPasskeys: boolean;
  /** Every sign-in method with its strength, and the code factors the role allows. */
  factors?: FactorsView;
}): string {
  const { account, session } = input;
  const activeCount = input.passkeys.filter((p) => p.status === 'active').length;
  return layout(
    { title: 'Your account', page: 'account', signedIn: true },
    html`<h1>${account.displayName}</h1>
<p>Signed in as <strong>${account.username}</strong> (${account.role}) at level <strong data-acr="${session.acr}">AAL${session.aal}</strong> with ${session.amr.join(', ')}.</p>

<section aria-labelledby="passkeys-heading">
<h2 id="passkeys-heading">Passkeys</h2>
<table class="passkeys">
<thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Authenticator</th><th scope="col">Strength</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
${input.passkeys.map(
  (p) => html`<tr data-passkey="${p.id}" data-kind="${p.kind}">
<td class="nickname">${p.nickname}${p.status !== 'active' ? html` <strong class="error">disabled: ${p.flaggedReason ?? p.status}</strong>` : ''}</td>
<td>${p.kind === 'device-bound' ? 'Device-bound' : 'Syncable'}${p.kind === 'syncable' && p.backedUp ? ' (backed up)' : ''}</td>
<td>${p.authenticator ?? 'Unknown model'}${p.attestationTrusted ? ' · attested' : ''}</td>
<td>phishing-resistant</td>
<td>${when(p.lastUsedAt)}</td>
<td class="actions">
<button type="button" class="rename" data-id="${p.id}" data-nickname="${p.nickname}">Rename</button>
${activeCount > 1 || p.status !== 'active' ? html`<button type="button" class="remove" data-id="${p.id}">Remove</button>` : html`<span class="muted" title="Add another passkey before removing your only one">Only passkey</span>`}
</td>
</tr>`,
)}
</tbody>
</table>
${
  input.fresh
    ? html`<form id="add-passkey-form"><label for="nickname">Add another passkey</label><input id="nickname" name="nickname" type="text" maxlength="64" placeholder="for example: Phone"><button type="submit" id="add-passkey">Add a passkey</button></form>`
    : html`<p class="notice">To add or remove a passkey, <a href="/login?next=/account">sign in again</a> with a passkey (your sign-in is older than a few minutes).</p>`
}
${input.allowSyncedPasskeys ? '' : html`<p class="muted">Your role accepts device-bound passkeys only.</p>`}
</section>

${input.factors ? renderFactorsSection(input.factors) : ''}

<section aria-labelledby="sessions-heading">
<h2 id="sessions-heading">Sessions</h2>
<table class="sessions">
<thead><tr><th scope="col">Signed in</th><th scope="col">Level</th><th scope="col">From</th><th scope="col">Last seen</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
${input.sessions.map(
  (s) => html`<tr data-session="${s.id}">
<td>${when(new Date(s.authTime).toISOString())}${s.id === session.id ? html` <strong>(this session)</strong>` : ''}</td>
<td>AAL${s.aal}</td>
<td>${s.ip} · ${s.userAgent.slice(0, 80)}</td>
<td>${when(new Date(s.lastSeenAt).toISOString())}</td>
<td><button type="button" class="revoke" data-id="${s.id}">${s.id === session.id ? 'Sign out' : 'Revoke'}</button></td>
</tr>`,
)}
</tbody>
</table>
</section>`,
  );
}
