/**
 * The hosted pages' script: passkey ceremonies through @simplewebauthn/browser and the JSON API.
 * Each page names its behaviour in <body data-page>; everything else is plain HTML.
 */
import { attachAdmin } from './admin.ts';
import { attachCodeFactors, attachCodeSignIn } from './codes.ts';
import { attachDelegations } from './delegations.ts';
import { attachApiKeys } from './apiKeys.ts';
import { attachDevices } from './devices.ts';
import { ApiError, explain } from './messages.ts';
import { WebAuthnAbortService, browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication, startRegistration } from '@simplewebauthn/browser';


async function api<T>(path: string, body?: unknown, method = 'POST'): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => ({}))) as { error?: string; message?: string; retry_after?: number };
  if (!response.ok) throw new ApiError(data.error ?? 'unknown_error', data.message ?? `The server answered ${response.status}.`, typeof data.retry_after === 'number' ? data.retry_after : null);
  return data as T;
}

/**
 * Shows a message next to what it is about: `near` (the button or form that failed) puts it at the
 * end of that form, table cell, block marked `data-messages` or section, so it is on screen where the person is looking, even on a
 * phone; without it, the page's message line at the top. An error takes the focus, so a screen
 * reader reads it and the keyboard continues from there.
 */
function show(message: string, kind: 'error' | 'info' = 'error', near?: Element | null): void {
  const host = near?.closest('form, td, [data-messages], section') ?? null;
  let element = host ? host.querySelector<HTMLElement>(':scope > .inline-message') : document.getElementById('message');
  if (host && !element) {
    element = document.createElement('p');
    element.className = 'inline-message';
    host.append(element);
  }
  if (!element) return;
  element.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  element.tabIndex = -1;
  element.textContent = message;
  element.dataset.kind = kind;
  element.hidden = false;
  if (kind === 'error') element.focus();
  element.scrollIntoView({ block: 'nearest' });
}

function busy(button: HTMLButtonElement | null, on: boolean): void {
  if (button) button.disabled = on;
}

async function login(): Promise<void> {
  const next = document.body.dataset.next ?? '/account';
  const finish = async (response: unknown) => {
    await api('/api/v1/passkeys/authentication/verify', { response });
    location.assign(next);
  };
  if (!browserSupportsWebAuthn()) show('This browser does not support passkeys.');
  // Passkey autofill: the browser offers saved passkeys in the username field.
  if (await browserSupportsWebAuthnAutofill()) {
    api('/api/v1/passkeys/authentication/options', {})
      .then((optionsJSON) => startAuthentication({ optionsJSON: optionsJSON as never, useBrowserAutofill: true }))
      .then(finish)
      .catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'AbortError' && (error as { code?: string }).code !== 'ERROR_CEREMONY_ABORTED') show(explain(error), 'error', document.getElementById('login-form'));
      });
  }
  const form = document.getElementById('login-form') as HTMLFormElement;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = document.getElementById('sign-in') as HTMLButtonElement;
    busy(button, true);
    try {
      WebAuthnAbortService.cancelCeremony();
      const username = (document.getElementById('username') as HTMLInputElement).value.trim();
      const optionsJSON = await api('/api/v1/passkeys/authentication/options', username ? { username } : {});
      await finish(await startAuthentication({ optionsJSON: optionsJSON as never }));
    } catch (error) {
      show(explain(error), 'error', form);
    } finally {
      busy(button, false);
    }
  });
}

async function register(body: Record<string, unknown>, nickname: string): Promise<void> {
  const optionsJSON = await api('/api/v1/passkeys/registration/options', body);
  const response = await startRegistration({ optionsJSON: optionsJSON as never });
  await api('/api/v1/passkeys/registration/verify', { response, ...(nickname ? { nickname } : {}) });
}

function enrol(): void {
  const token = document.body.dataset.token ?? '';
  const form = document.getElementById('enrol-form') as HTMLFormElement;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = document.getElementById('create-passkey') as HTMLButtonElement;
    busy(button, true);
    try {
      await register({ enrolmentToken: token }, (document.getElementById('nickname') as HTMLInputElement).value.trim());
      location.assign('/account');
    } catch (error) {
      show(explain(error), 'error', form);
    } finally {
      busy(button, false);
    }
  });
}

/**
 * After an authenticator is added, removed or replaced, the account page says what changed and
 * offers "Sign out everywhere else" (OWASP ASVS 5.0 7.4.3): a reload with ?changed=<what>
 * (pages/account.ts CONFIRMATIONS).
 */
function afterAuthenticatorChange(what = 'method-changed'): void {
  location.assign(`/account?changed=${encodeURIComponent(what)}`);
}

/** The offer on a page that does not reload after its change (new recovery codes are shown once). */
function offerSignOutElsewhere(): void {
  const offer = document.getElementById('changed-offer');
  if (offer) offer.hidden = false;
}

function account(): void {
  document.getElementById('add-passkey-form')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = document.getElementById('add-passkey') as HTMLButtonElement;
    busy(button, true);
    try {
      await register({}, (document.getElementById('nickname') as HTMLInputElement).value.trim());
      afterAuthenticatorChange('passkey-added');
    } catch (error) {
      show(explain(error), 'error', event.currentTarget as HTMLFormElement);
    } finally {
      busy(button, false);
    }
  });
  // Rename in place: the button opens the row's own small form (pages/account.ts), no prompt().
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.rename')) {
    const form = document.getElementById(`rename-${button.dataset.id}`) as HTMLFormElement | null;
    if (!form) continue;
    const input = form.querySelector('input') as HTMLInputElement;
    button.addEventListener('click', () => {
      form.hidden = false;
      button.hidden = true;
      input.focus();
      input.select();
    });
    form.querySelector('button.cancel')?.addEventListener('click', () => {
      form.hidden = true;
      button.hidden = false;
      button.focus();
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const save = form.querySelector<HTMLButtonElement>('button[type=submit]');
      busy(save, true);
      try {
        await api(`/api/v1/passkeys/${button.dataset.id}`, { nickname: input.value.trim() }, 'PATCH');
        location.assign('/account?changed=passkey-renamed');
      } catch (error) {
        show(explain(error), 'error', form);
      } finally {
        busy(save, false);
      }
    });
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.remove')) {
    button.addEventListener('click', async () => {
      if (!confirm('Remove this passkey? It will no longer sign you in.')) return;
      try {
        await api(`/api/v1/passkeys/${button.dataset.id}`, undefined, 'DELETE');
        afterAuthenticatorChange('passkey-removed');
      } catch (error) {
        show(explain(error), 'error', button);
      }
    });
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.sign-out-others')) {
    button.addEventListener('click', async () => {
      busy(button, true);
      try {
        await api('/api/v1/sessions', undefined, 'DELETE');
        location.assign('/account?changed=signed-out-elsewhere');
      } catch (error) {
        show(explain(error), 'error', button);
      } finally {
        busy(button, false);
      }
    });
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.revoke-grant')) {
    button.addEventListener('click', async () => {
      if (!confirm(`Disconnect ${button.dataset.client ?? 'this app'}? It loses access to your account until you allow it again.`)) return;
      try {
        await api(`/api/v1/grants/${button.dataset.id}`, undefined, 'DELETE');
        location.assign('/account?changed=app-disconnected');
      } catch (error) {
        show(explain(error), 'error', button);
      }
    });
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.revoke')) {
    button.addEventListener('click', async () => {
      try {
        await api(`/api/v1/sessions/${button.dataset.id}`, undefined, 'DELETE');
        if (button.dataset.current === 'true') location.assign('/login');
        else location.assign('/account?changed=session-ended');
      } catch (error) {
        show(explain(error), 'error', button);
      }
    });
  }
}

/**
 * Self-service recovery (/recover): a recovery code and, if the role needs one, a second proof; the
 * recovery session it opens lands on /account, which offers only adding a passkey.
 */
function recover(): void {
  const value = (id: string) => (document.getElementById(id) as HTMLInputElement | HTMLSelectElement | null)?.value.trim() ?? '';
  let proofAttempt = '';
  document.getElementById('recover-proof-start')?.addEventListener('click', async (event) => {
    const button = event.currentTarget as HTMLButtonElement;
    try {
      ({ attemptId: proofAttempt } = await api<{ attemptId: string }>('/api/v1/recovery/start', { username: value('recover-username'), factor: value('recover-proof-factor') }));
      show('If that method is set up, its code is on its way (or in your app).', 'info', button);
    } catch (error) {
      show(explain(error), 'error', button);
    }
  });
  document.getElementById('recover-form')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = document.getElementById('recover-submit') as HTMLButtonElement;
    busy(button, true);
    try {
      const username = value('recover-username');
      if (value('recover-proof-factor') && !proofAttempt) {
        ({ attemptId: proofAttempt } = await api<{ attemptId: string }>('/api/v1/recovery/start', { username, factor: value('recover-proof-factor') }));
      }
      const { attemptId } = await api<{ attemptId: string }>('/api/v1/recovery/start', { username, factor: 'recovery' });
      const proofCode = value('recover-proof-code');
      await api('/api/v1/recovery/verify', { attemptId, code: value('recover-code'), ...(proofAttempt && proofCode ? { proof: { attemptId: proofAttempt, code: proofCode } } : {}) });
      location.assign('/account');
    } catch (error) {
      show(explain(error), 'error', button);
    } finally {
      busy(button, false);
    }
  });
}

/**
 * The migration sign-in (/migrate, README "Importing accounts"): the old password, and the
 * authenticator app's code if one was imported; the migration session lands on /account, which
 * offers only adding a passkey.
 */
function migrate(): void {
  const value = (id: string) => (document.getElementById(id) as HTMLInputElement | null)?.value ?? '';
  document.getElementById('migrate-form')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = document.getElementById('migrate-submit') as HTMLButtonElement;
    busy(button, true);
    try {
      const code = value('migrate-code').trim();
      await api('/api/v1/migration/sign-in', { username: value('migrate-username').trim(), password: value('migrate-password'), ...(code ? { code } : {}) });
      location.assign('/account');
    } catch (error) {
      show(explain(error), 'error', button);
    } finally {
      busy(button, false);
    }
  });
}

/**
 * The OpenID provider's sign-in (src/oidc/interaction.ts): a passkey ceremony through the
 * interaction's own endpoints, then on to wherever the provider says. Cancel returns to the app.
 */
function interaction(): void {
  const base = `/interaction/${encodeURIComponent(document.body.dataset.uid ?? '')}`;
  const proceed = (result: { redirectTo: string }) => location.assign(result.redirectTo);
  document.getElementById('abort')?.addEventListener('click', async () => {
    try {
      proceed(await api<{ redirectTo: string }>(`${base}/abort`, {}));
    } catch (error) {
      show(explain(error), 'error', document.getElementById('abort'));
    }
  });
  // The consent page (src/oidc/pages.ts renderConsentPage): Allow submits the form, Deny answers no.
  const answer = async (decision: 'allow' | 'deny') => {
    try {
      proceed(await api<{ redirectTo: string }>(`${base}/consent`, { decision }));
    } catch (error) {
      show(explain(error), 'error', document.getElementById('consent-form'));
    }
  };
  document.getElementById('consent-form')?.addEventListener('submit', (event) => {
    event.preventDefault();
    void answer('allow');
  });
  document.getElementById('consent-deny')?.addEventListener('click', () => void answer('deny'));
  document.getElementById('interaction-form')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = document.getElementById('sign-in') as HTMLButtonElement;
    busy(button, true);
    try {
      const username = (document.getElementById('username') as HTMLInputElement | null)?.value.trim() ?? '';
      const optionsJSON = await api(`${base}/options`, username ? { username } : {});
      const response = await startAuthentication({ optionsJSON: optionsJSON as never });
      proceed(await api<{ redirectTo: string }>(`${base}/verify`, { response }));
    } catch (error) {
      show(explain(error), 'error', button);
    } finally {
      busy(button, false);
    }
  });
}

document.getElementById('sign-out')?.addEventListener('click', async () => {
  await api('/api/v1/session', undefined, 'DELETE').catch(() => undefined);
  location.assign('/login');
});

const page = document.body.dataset.page;
if (page === 'login') void login();
else if (page === 'enrol') enrol();
else if (page === 'account') account();
else if (page === 'interaction') interaction();
else if (page === 'recover') recover();
else if (page === 'migrate') migrate();
// One-time codes (assets/codes.ts), beside the passkey behaviour of the same pages.
const helpers = { api, show, explain, busy, afterAuthenticatorChange, offerSignOutElsewhere };
if (page === 'login') attachCodeSignIn(helpers);
else if (page === 'account') attachCodeFactors(helpers);
if (page === 'account') {
  attachDevices(helpers);
  attachApiKeys(helpers);
  attachDelegations(helpers);
}
if (page === 'admin') attachAdmin(helpers);
