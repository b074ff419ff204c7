import { FACTOR_NAME, type CodeFactor } from '../../codes/factors.ts';
import type { FactorSummary } from '../../services/codes/factors.ts';
import { html, type Html } from './html.ts';

/** What the account page's "Other sign-in methods" section needs. */
export interface FactorsView {
  /** Every sign-in method, passkeys first (services/codes/factors.ts). */
  readonly factors: readonly FactorSummary[];
  /** Code factors the role allows binding. */
  readonly allowed: readonly CodeFactor[];
  /** Signed in with a passkey recently enough to bind or remove a method. */
  readonly fresh: boolean;
  readonly hasEmail: boolean;
  /** Why a change needs a new passkey sign-in, in words (account.ts reSignInReason). */
  readonly why?: Html;
}

const STRENGTH_CLASS = (f: FactorSummary) => (f.phishingResistant ? 'strong' : 'weak');

function row(f: FactorSummary, fresh: boolean): Html {
  const status =
    f.status === 'active'
      ? f.allowed
        ? 'Active'
        : 'Not allowed for your role'
      : f.status === 'disabled'
        ? html`<strong class="error">Disabled after too many wrong codes: set it up again</strong>`
        : html`<strong class="error">Disabled: ${f.disabledReason ?? f.status}</strong>`;
  return html`<tr data-factor="${f.factor}" data-id="${f.id}">
<td>${f.name}${f.destination ? html` <span class="muted">(${f.destination})</span>` : ''}${f.recoveryCodesLeft !== undefined ? html` <span class="muted">${f.recoveryCodesLeft} of 10 left</span>` : ''}</td>
<td class="${STRENGTH_CLASS(f)}">${f.strength.join('; ')}</td>
<td>${status}</td>
<td>${f.lastUsedAt ? html`<time datetime="${f.lastUsedAt}">${f.lastUsedAt.replace('T', ' ').slice(0, 16)} UTC</time>` : 'never'}</td>
<td class="actions">${f.factor !== 'passkey' && fresh ? html`<button type="button" class="remove-factor" data-id="${f.id}">Remove</button>` : ''}</td>
</tr>`;
}

/**
 * Every sign-in method with its strength in words, a nudge towards passkeys, and (from a fresh
 * passkey sign-in) the forms that bind code factors. The QR code is an <img> with a data: URI set by
 * the page script: the CSP allows `img-src data:` and no inline style.
 */
export function renderFactorsSection(view: FactorsView): Html {
  const has = (factor: CodeFactor) => view.factors.some((f) => f.factor === factor);
  const can = (factor: CodeFactor) => view.allowed.includes(factor);
  const others = view.factors.filter((f) => f.factor !== 'passkey');
  return html`<section aria-labelledby="factors-heading" id="factors">
<h2 id="factors-heading">Other sign-in methods</h2>
<p class="notice">Passkeys are the strongest way to sign in: they are <strong>phishing-resistant</strong>, because your device only answers this site. One-time codes are weaker. They can be phished, text messages can be intercepted by a SIM swap, and email codes ride on your mailbox; a sign-in with codes alone is basic assurance (AAL1), so some applications will still ask for your passkey. Keep a second passkey rather than relying on codes.</p>
${
  // Passkeys have their own table above; this one lists the rest, each once.
  others.length === 0
    ? html`<p class="muted" id="no-other-methods">None: your passkeys are your only way in.</p>`
    : html`<table class="factors">
<thead><tr><th scope="col">Method</th><th scope="col">Strength</th><th scope="col">Status</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>
${others.map((f) => row(f, view.fresh))}
</tbody>
</table>`
}
${
  view.allowed.length === 0
    ? html`<p class="muted">Your role signs in with passkeys only.</p>`
    : !view.fresh
      ? html`<p class="notice">To add, replace or remove a method, <a href="/login?next=/account">sign in again</a> with a passkey (${view.why ?? 'your sign-in is older than a few minutes'}).</p>`
      : html`${
          can('totp')
            ? html`<h3>${FACTOR_NAME.totp}</h3>
<button type="button" id="totp-begin">${has('totp') ? 'Replace your authenticator app' : 'Set up an authenticator app'}</button>
<div id="totp-setup" hidden>
<p>Scan this code with your authenticator app, or type the key below into it. It is shown once.</p>
<img id="totp-qr" alt="QR code holding your authenticator app's key" width="240" height="240">
<p>Key: <code id="totp-key"></code></p>
<form id="totp-confirm-form"><label for="totp-code">Code the app shows now</label><input id="totp-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="16"><button type="submit" id="totp-confirm">Confirm</button></form>
</div>`
            : ''
        }
${
  can('recovery')
    ? html`<h3>${FACTOR_NAME.recovery}</h3>
<p class="muted">Ten single-use codes to recover your account at <a href="/recover">/recover</a> if you lose your passkeys (they add a new passkey; they never sign you in). A new set replaces every old code.</p>
<button type="button" id="recovery-generate">${has('recovery') ? 'Make a new set of recovery codes' : 'Make recovery codes'}</button>
<div id="recovery-codes" data-messages hidden><p class="notice">Save these now, somewhere only you can reach: they are shown once. Each works once.</p><ol id="recovery-list"></ol>
<p><button type="button" id="recovery-copy" hidden>Copy the codes</button> <a id="recovery-download" href="#" hidden>Download as a text file</a></p></div>`
    : ''
}
${
  can('sms')
    ? html`<h3>${FACTOR_NAME.sms}</h3>
<p class="notice">Text-message codes are weaker: they can be phished, and someone who takes over your phone number (SIM swap) receives them. A passkey is safer.</p>
<form id="sms-form" data-factor="sms"><label for="sms-phone">Phone number, in international form</label><input id="sms-phone" name="phone" type="tel" autocomplete="tel" placeholder="+44 7700 900123" maxlength="32"><button type="submit">Send a code to this number</button></form>`
    : ''
}
${
  can('email') && view.hasEmail
    ? html`<h3>${FACTOR_NAME.email}</h3>
<p class="notice">Email codes are the weakest method, and not an authenticator NIST accepts: anyone who can read your mailbox receives them.</p>
<form id="email-form" data-factor="email"><button type="submit">Send a code to my email address</button></form>`
    : ''
}
<form id="bind-confirm-form" hidden><label for="bind-code">Code you received</label><input id="bind-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="16"><button type="submit">Confirm</button></form>`
}
</section>`;
}
