import type { Acr } from '../core/assurance/level.ts';
import { ACR } from '../core/assurance/level.ts';
import { Html, html, layout } from '../http/pages/html.ts';

/** Words for each level, shown to people (docs/oidc.md has the same table). */
export const ACR_LABELS: Record<Acr, string> = {
  [ACR.aal1]: 'a basic sign-in (AAL1)',
  [ACR.aal2]: 'a two-factor sign-in (AAL2)',
  [ACR.aal2PhishingResistant]: 'a phishing-resistant two-factor sign-in (AAL2, passkey)',
  [ACR.aal3]: 'a device-bound security key your organisation approved (AAL3)',
};

export interface InteractionView {
  readonly uid: string;
  readonly clientName: string;
  readonly acr: Acr | null;
  /** Why a new ceremony is needed, in words. */
  readonly reason: string;
  /** The signed-in person, when a step-up is asked of a known account. */
  readonly username: string | null;
}

/** The sign-in (or step-up) an application asked for: a passkey ceremony run by the `interaction` script. */
export function renderInteractionPage(view: InteractionView): string {
  return layout(
    { title: 'Sign in', page: 'interaction', data: { uid: view.uid, ...(view.username ? { username: view.username } : {}) } },
    html`<h1>Sign in to ${view.clientName}</h1>
<p id="interaction-reason">${view.reason}</p>
${view.acr ? html`<p class="muted">This application asks for ${ACR_LABELS[view.acr]}.</p>` : ''}
<form id="interaction-form" autocomplete="on">
  ${view.username
    ? html`<p>Signed in as <strong>${view.username}</strong>.</p><input id="username" name="username" type="hidden" value="${view.username}">`
    : html`<label for="username">Username <span class="muted">(optional)</span></label>
  <input id="username" name="username" type="text" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" maxlength="64">`}
  <button type="submit" id="sign-in">Continue with a passkey</button>
</form>
<p><button type="button" class="link" id="abort">Cancel and return to ${view.clientName}</button></p>`,
  );
}

/** The account has no passkey that can reach the level asked for: say so, and let the person go back. */
export function renderUnreachablePage(view: { uid: string; clientName: string; acr: Acr | null }): string {
  return layout(
    { title: 'Cannot reach this level', page: 'interaction', data: { uid: view.uid, unreachable: 'true' } },
    html`<h1>Your account cannot sign in to ${view.clientName} this way</h1>
<p class="error" data-error="acr_unreachable">${view.acr
      ? html`${view.clientName} asks for ${ACR_LABELS[view.acr]}, and none of the passkeys on your account can give it.`
      : html`${view.clientName} asks for an authentication level this server does not offer.`}
Ask your administrator to enrol an approved, device-bound security key for you.</p>
<p><button type="button" id="abort">Return to ${view.clientName}</button></p>`,
  );
}

/** What each OpenID scope lets an application do, in words (the consent page, and Connected apps on /account). */
export const SCOPE_LABELS: Record<string, string> = {
  openid: 'Know who you are (your account identifier and how you signed in)',
  profile: 'See your name and username',
  email: 'See your email address',
  offline_access: 'Keep access while you are not signed in, until you revoke it',
};

export interface ConsentView {
  readonly uid: string;
  readonly clientName: string;
  readonly username: string;
  /** OpenID scopes asked for. */
  readonly scopes: readonly string[];
  /** APIs asked for, each with its scopes. */
  readonly resources: readonly { readonly resource: string; readonly scopes: readonly string[] }[];
}

/**
 * The consent page (OWASP ASVS 5.0 10.7.1, 10.7.2): what a client that is not first-party asks
 * for, and Allow or Deny. The `interaction` script posts the answer to /interaction/:uid/consent
 * (same-origin only, like the sign-in) and follows the redirect the provider gives.
 */
export function renderConsentPage(view: ConsentView): string {
  return layout(
    { title: 'Allow access?', page: 'interaction', data: { uid: view.uid } },
    html`<h1>Allow ${view.clientName} access to your account?</h1>
<p>Signed in as <strong>${view.username}</strong>. ${view.clientName} asks to:</p>
<form id="consent-form">
<ul id="consent-scopes">
${view.scopes.map((s) => html`<li data-scope="${s}">${SCOPE_LABELS[s] ?? s}</li>`)}
${view.resources.map(
  (r) => html`<li data-resource="${r.resource}">Use <code>${r.resource}</code> on your behalf${r.scopes.length ? html` (${r.scopes.join(', ')})` : ''}</li>`,
)}
</ul>
<p class="muted">You can revoke this later under Connected apps on your <a href="/account">account page</a>.</p>
<p><button type="submit" id="consent-allow" name="decision" value="allow">Allow</button>
<button type="button" class="link" id="consent-deny">Deny</button></p>
</form>`,
  );
}

/** oidc-provider's error page (bad client, unregistered redirect_uri, expired request): never a redirect. */
export function renderProviderErrorPage(out: { error?: unknown; error_description?: unknown }): string {
  const code = typeof out.error === 'string' ? out.error : 'server_error';
  const description = typeof out.error_description === 'string' ? out.error_description : 'The request could not be processed.';
  return layout(
    { title: 'This sign-in request cannot be used' },
    html`<h1>This sign-in request cannot be used</h1>
<p class="error" data-error="${code}">${description}</p>
<p class="muted">Error code: <code>${code}</code>. Go back to the application and start again; if it keeps happening, tell its administrator.</p>`,
  );
}

/** RP-initiated logout confirmation (OpenID Connect RP-Initiated Logout §2): the provider's form, our buttons. */
export function renderLogoutPage(form: string, clientName: string | null): string {
  return layout(
    { title: 'Sign out' },
    html`<h1>Sign out${clientName ? html` of ${clientName}` : ''}?</h1>
<p>Signing out also ends your Keybound session on this browser.</p>
${new Html(form)}
<p><button type="submit" form="op.logoutForm" value="yes" name="logout" id="logout-yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="link" id="logout-no">No, stay signed in</button></p>`,
  );
}

export function renderLoggedOutPage(clientName: string | null): string {
  return layout(
    { title: 'Signed out' },
    html`<h1>You are signed out</h1>
<p>You signed out${clientName ? html` of ${clientName}` : ''}. <a href="/login">Sign in again</a></p>`,
  );
}
