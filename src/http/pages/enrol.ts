import type { Account } from '../../core/model.ts';
import { html, layout } from './html.ts';

export function renderEnrolPage(input: { token: string; account: Account; expiresAt: number; deviceBoundOnly: boolean }): string {
  return layout(
    { title: 'Create your passkey', page: 'enrol', data: { token: input.token } },
    html`<h1>Welcome, ${input.account.displayName}</h1>
<p>Create a passkey for <strong>${input.account.username}</strong>. Your device keeps the private key and unlocks it with your fingerprint, face or screen lock; there is no password to remember or steal.</p>
${input.deviceBoundOnly ? html`<p class="notice">Your role needs a <strong>device-bound</strong> passkey: a security key, or a platform authenticator that does not sync keys to other devices.</p>` : ''}
<form id="enrol-form">
  <label for="nickname">Name this passkey</label>
  <input id="nickname" name="nickname" type="text" maxlength="64" placeholder="for example: Work laptop" autocomplete="off">
  <button type="submit" id="create-passkey">Create passkey</button>
</form>
<p class="muted">This link works once and expires at <time datetime="${new Date(input.expiresAt).toISOString()}">${new Date(input.expiresAt).toUTCString()}</time>.</p>`,
  );
}
