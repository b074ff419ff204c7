import type { Account, Session } from '../../core/model.ts';
import { html, layout } from './html.ts';
import { describeUserAgent } from './words.ts';

const when = (ms: number) => {
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 16)} UTC</time>`;
};

/**
 * `/recover`: self-service recovery (README "Recovery"). A saved recovery code and, for roles that
 * need it, a second proof: a code from the authenticator app, or one sent by SMS or email.
 */
export function renderRecoverPage(input: { proofs: readonly string[] }): string {
  const names: Record<string, string> = { totp: 'Authenticator app code', sms: 'Code by text message', email: 'Code by email' };
  return layout(
    { title: 'Recover your account', page: 'recover' },
    html`<h1>Recover your account</h1>
<p>Lost your passkeys? Use one of your saved recovery codes to add a new passkey. Every other session of your account will end, and you will be told on every address you have given.</p>
<form id="recover-form" autocomplete="off">
  <label for="recover-username">Username</label>
  <input id="recover-username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required>
  <label for="recover-code">Recovery code</label>
  <input id="recover-code" name="code" type="text" autocapitalize="characters" spellcheck="false" maxlength="64" required>
  ${
    input.proofs.length
      ? html`<fieldset><legend>Second proof <span class="muted">(if your role needs one)</span></legend>
  <label for="recover-proof-factor">Method</label>
  <select id="recover-proof-factor"><option value="">None</option>${input.proofs.map((p) => html`<option value="${p}">${names[p] ?? p}</option>`)}</select>
  <button type="button" id="recover-proof-start">Get a code</button>
  <label for="recover-proof-code">Its code</label>
  <input id="recover-proof-code" type="text" inputmode="numeric" maxlength="64">
</fieldset>`
      : ''
  }
  <button type="submit" id="recover-submit">Recover</button>
</form>
<p class="muted">No recovery codes left? Ask your administrator for an assisted recovery (described separately).</p>`,
  );
}

/**
 * `/account` for a recovery session: only what it may do, add a passkey and see or end sessions.
 */
export function renderRecoveryAccountPage(input: { account: Account; session: Session; sessions: readonly Session[] }): string {
  const { account, session } = input;
  const intro =
    session.purpose === 'migration'
      ? html`<h1>Add a passkey to ${account.username}</h1>
<p class="notice" id="migration-session">You signed in with your old password, until ${when(session.expiresAt)}, only to add a passkey. Adding it signs you in with it and deletes your old password.</p>`
      : html`<h1>Recovering ${account.username}</h1>
<p class="notice" id="recovery-session">This is a recovery session, until ${when(session.expiresAt)}. It can only add a new passkey and see or end your sessions. Adding the passkey signs you in with it and ends every other session.</p>`;
  return layout(
    { title: session.purpose === 'migration' ? 'Add your passkey' : 'Recover your account', page: 'account', signedIn: true },
    html`${intro}
<form id="add-passkey-form"><label for="nickname">Name your new passkey</label><input id="nickname" name="nickname" type="text" maxlength="64" placeholder="for example: Phone"><button type="submit" id="add-passkey">Add a passkey</button></form>
<section aria-labelledby="sessions-heading">
<h2 id="sessions-heading">Sessions</h2>
<table class="sessions">
<thead><tr><th scope="col">Signed in</th><th scope="col">Kind</th><th scope="col">From</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
${input.sessions.map(
  (s) => html`<tr data-session="${s.id}">
<td>${when(s.authTime)}${s.id === session.id ? html` <strong>(this session)</strong>` : ''}</td>
<td>${s.purpose !== 'sign_in' ? s.purpose : s.passkeyId ? 'passkey' : 'code'}</td>
<td>${s.ip} · <span class="agent" title="${s.userAgent}">${describeUserAgent(s.userAgent)}</span></td>
<td>${s.id === session.id || !s.passkeyId ? html`<button type="button" class="revoke" data-id="${s.id}">${s.id === session.id ? 'End recovery' : 'Revoke'}</button>` : html`<span class="muted">ends when you add the passkey</span>`}</td>
</tr>`,
)}
</tbody>
</table>
</section>`,
  );
}
