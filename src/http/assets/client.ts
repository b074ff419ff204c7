/**
 * The hosted pages' script: passkey ceremonies through @simplewebauthn/browser and the JSON API.
 * Each page names its behaviour in <body data-page>; everything else is plain HTML.
 */
import { attachCodeFactors, attachCodeSignIn } from './codes.ts';
import { attachDevices } from './devices.ts';
import { WebAuthnAbortService, browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication, startRegistration } from '@simplewebauthn/browser';

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function api<T>(path: string, body?: unknown, method = 'POST'): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!response.ok) throw new ApiError(data.error ?? 'unknown_error', data.message ?? `The server answered ${response.status}.`);
  return data as T;
}

function show(message: string, kind: 'error' | 'info' = 'error'): void {
  const element = document.getElementById('message');
  if (!element) return;
  element.textContent = message;
  element.dataset.kind = kind;
  element.hidden = false;
}

/** A sentence for whatever went wrong: the server's own, or the browser's ceremony error in words. */
function explain(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  const name = (error as { name?: string }).name;
  const code = (error as { code?: string }).code;
  if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') return 'This authenticator is already registered to your account.';
  if (name === 'NotAllowedError') {
    return 'The passkey prompt was closed, timed out, or your authenticator could not verify you (this server requires a PIN, fingerprint or face check). Try again, or use another authenticator.';
  }
  if (name === 'InvalidStateError') return 'This authenticator is already registered to your account.';
  if (name === 'NotSupportedError' || name === 'ConstraintError') {
    return 'Your authenticator cannot do what this server requires (a discoverable passkey with user verification). Use another authenticator.';
  }
  return (error as Error).message || 'Something went wrong.';
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
        if ((error as { name?: string }).name !== 'AbortError' && (error as { code?: string }).code !== 'ERROR_CEREMONY_ABORTED') show(explain(error));
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
      show(explain(error));
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
      show(explain(error));
    } finally {
      busy(button, false);
    }
  });
}

/**
 * After an authenticator is added, removed or replaced, the account page offers "Sign out
 * everywhere else" (OWASP ASVS 5.0 7.4.3): reload with ?changed=1, which shows the offer.
 */
function afterAuthenticatorChange(): void {
  location.assign('/account?changed=1');
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
      afterAuthenticatorChange();
    } catch (error) {
      show(explain(error));
    } finally {
      busy(button, false);
    }
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.rename')) {
    button.addEventListener('click', async () => {
      const nickname = prompt('New name for this passkey', button.dataset.nickname ?? '');
      if (!nickname) return;
      try {
        await api(`/api/v1/passkeys/${button.dataset.id}`, { nickname }, 'PATCH');
        location.reload();
      } catch (error) {
        show(explain(error));
      }
    });
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.remove')) {
    button.addEventListener('click', async () => {
      if (!confirm('Remove this passkey? It will no longer sign you in.')) return;
      try {
        await api(`/api/v1/passkeys/${button.dataset.id}`, undefined, 'DELETE');
        afterAuthenticatorChange();
      } catch (error) {
        show(explain(error));
      }
    });
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.sign-out-others')) {
    button.addEventListener('click', async () => {
      busy(button, true);
      try {
        await api('/api/v1/sessions', undefined, 'DELETE');
        location.assign('/account');
      } catch (error) {
        show(explain(error));
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
        location.reload();
      } catch (error) {
        show(explain(error));
      }
    });
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.revoke')) {
    button.addEventListener('click', async () => {
      try {
        await api(`/api/v1/sessions/${button.dataset.id}`, undefined, 'DELETE');
        location.reload();
      } catch (error) {
        show(explain(error));
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
  document.getElementById('recover-proof-start')?.addEventListener('click', async () => {
    try {
      ({ attemptId: proofAttempt } = await api<{ attemptId: string }>('/api/v1/recovery/start', { username: value('recover-username'), factor: value('recover-proof-factor') }));
      show('If that method is set up, its code is on its way (or in your app).', 'info');
    } catch (error) {
      show(explain(error));
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
      show(explain(error));
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
      show(explain(error));
    }
  });
  // The consent page (src/oidc/pages.ts renderConsentPage): Allow submits the form, Deny answers no.
  const answer = async (decision: 'allow' | 'deny') => {
    try {
      proceed(await api<{ redirectTo: string }>(`${base}/consent`, { decision }));
    } catch (error) {
      show(explain(error));
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
      show(explain(error));
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
// One-time codes (assets/codes.ts), beside the passkey behaviour of the same pages.
const helpers = { api, show, explain, busy, afterAuthenticatorChange, offerSignOutElsewhere };
if (page === 'login') attachCodeSignIn(helpers);
else if (page === 'account') attachCodeFactors(helpers);
if (page === 'account') attachDevices(helpers);
