import type { CodeFactor } from '../../codes/factors.ts';
import { html, type Html } from './html.ts';

const LABEL: Record<CodeFactor, string> = {
  totp: 'Authenticator app',
  sms: 'Text message (SMS)',
  email: 'Email',
  recovery: 'Recovery code',
};

/**
 * "Use a code instead": the weaker path, folded away under the passkey form and said to be weaker.
 * Only factors some role allows are offered; which the account has is never shown (the API answers
 * alike either way).
 */
export function renderCodeSignIn(factors: readonly CodeFactor[]): Html {
  return html`<details id="code-sign-in">
<summary>Use a code instead</summary>
<p class="notice">Codes are weaker than a passkey: they can be phished, and text messages can be intercepted (SIM swap). A sign-in with a code is basic assurance (AAL1); some applications will still ask for your passkey.</p>
<form id="code-start-form">
  <label for="code-username">Username</label>
  <input id="code-username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required>
  <label for="code-factor">Where your code comes from</label>
  <select id="code-factor" name="factor">${factors.map((f) => html`<option value="${f}">${LABEL[f]}</option>`)}</select>
  <button type="submit" id="code-start">Continue</button>
</form>
<form id="code-verify-form" hidden>
  <p id="code-hint" class="muted"></p>
  <label for="code-value">Code</label>
  <input id="code-value" name="code" type="text" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="64" required>
  <button type="submit" id="code-verify">Sign in with the code</button>
</form>
</details>`;
}
