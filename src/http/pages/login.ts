import type { CodeFactor } from '../../codes/factors.ts';
import { renderCodeSignIn } from './codeSignIn.ts';
import { html, layout } from './html.ts';
import { reasonInWords } from '../../core/risk/reasons.ts';

/** The passkey prompt of a step-up (docs/risk.md): why a new sign-in is asked for, in words. */
function renderStepUp(reasons: readonly string[]) {
  return html`<div class="notice" id="step-up" role="alert"><p><strong>Sign in again with a passkey to continue.</strong> Your session needs a new passkey sign-in because of:</p>
<ul id="step-up-reasons">${reasons.map((r) => html`<li data-reason="${r}">${reasonInWords(r)}</li>`)}</ul></div>`;
}

export function renderLoginPage(input: { next: string; codeFactors?: readonly CodeFactor[]; stepUp?: readonly string[] | null }): string {
  return layout(
    { title: 'Sign in', page: 'login', data: { next: input.next } },
    html`<h1>Sign in</h1>
${input.stepUp ? renderStepUp(input.stepUp) : ''}
<p>Sign in with a passkey: your device checks it is you (fingerprint, face or screen lock) and no code or password crosses the network.</p>
<form id="login-form" autocomplete="on">
  <label for="username">Username <span class="muted">(optional)</span></label>
  <input id="username" name="username" type="text" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" maxlength="64">
  <button type="submit" id="sign-in">Sign in with a passkey</button>
</form>
<p class="muted">No passkey yet? Ask your administrator for an enrolment link. Lost your passkeys? <a href="/recover">Recover your account</a> with a saved recovery code.</p>
<p class="muted">Moving from the old sign-in system? <a href="/migrate">Use your old password once</a> to add a passkey.</p>
${input.codeFactors?.length ? renderCodeSignIn(input.codeFactors) : ''}`,
  );
}
