import type { ApiKeyDetails } from '../../services/nhi/apiKeys.ts';
import { html, type Html } from './html.ts';

const when = (iso: string | null) => (iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 16)} UTC</time>` : html`never`);

/**
 * "API keys": a person's own keys (docs/nhi.md "Your own keys"). A new key is shown once, in the
 * page, with a copy button; the list never holds one. Making or replacing a key needs a fresh
 * passkey sign-in; revoking does not. Hidden when the server lets no one make their own keys and
 * the person has none.
 */
export function renderApiKeysSection(input: { keys: readonly ApiKeyDetails[]; selfScopes: readonly string[]; fresh: boolean; why: Html }): Html | '' {
  if (input.selfScopes.length === 0 && input.keys.length === 0) return '';
  const live = input.keys.filter((k) => k.status === 'active');
  return html`<section aria-labelledby="api-keys-heading" id="api-keys">
<h2 id="api-keys-heading">API keys</h2>
<p>For a script or an integration that acts as you and cannot sign in with a passkey. Each key has a name, a few scopes and an expiry; keep it secret, and revoke it when it is no longer needed.</p>
${
  live.length === 0
    ? html`<p class="muted" id="no-api-keys">You have no live API keys.</p>`
    : html`<table class="api-keys">
<thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
${live.map(
  (k) => html`<tr data-api-key="${k.id}">
<td>${k.name}</td>
<td>${k.scopes.join(', ')}</td>
<td>${when(k.expires_at)}</td>
<td>${when(k.last_used_at)}</td>
<td class="actions">${input.fresh ? html`<button type="button" class="rotate-api-key" data-id="${k.id}" aria-label="Replace ${k.name}">Replace</button> ` : ''}<button type="button" class="revoke-api-key" data-id="${k.id}" data-name="${k.name}" aria-label="Revoke ${k.name}">Revoke</button></td>
</tr>`,
)}
</tbody>
</table>`
}
<div id="new-api-key" hidden>
<p class="notice" role="status">Your new key is shown here <strong>once</strong>: copy it now. Keybound keeps only a hash of it.</p>
<p><code id="new-api-key-value"></code> <button type="button" id="copy-api-key">Copy</button></p>
</div>
${
  input.selfScopes.length === 0
    ? html`<p class="muted">This server does not let people make their own API keys; ask an administrator.</p>`
    : input.fresh
      ? html`<form id="api-key-form">
<label for="api-key-name">Name</label><input id="api-key-name" name="name" type="text" maxlength="100" required placeholder="for example: Reports script">
<fieldset><legend>Scopes</legend>${input.selfScopes.map((s) => html`<label><input type="checkbox" name="scope" value="${s}" checked> ${s}</label> `)}</fieldset>
<label for="api-key-expiry">Expires in</label><select id="api-key-expiry" name="expiresIn"><option value="604800">7 days</option><option value="2592000" selected>30 days</option><option value="7776000">90 days</option></select>
<button type="submit" id="create-api-key">Make a key</button>
</form>`
      : html`<p class="notice" id="api-keys-need-sign-in">To make or replace a key, <a href="/login?next=/account">sign in again</a> with a passkey (${input.why}).</p>`
}
</section>`;
}
