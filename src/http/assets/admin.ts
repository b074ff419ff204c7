/**
 * The admin console's behaviour (bundled into the pages' one script by client.ts): each
 * `form.api-form` sends its fields as JSON to the admin API route it names (`data-api`,
 * `data-method`), so the console changes nothing the API would not. An error shows beside the form
 * with the focus on it; a change that needs a fresher sign-in says so with a link to sign in again.
 * After a change the page reloads to show the new state, and says what was done at the top.
 */
import type { PageHelpers } from './codes.ts';
import { ApiError } from './messages.ts';

const DONE_KEY = 'keybound-admin-done';

function bodyOf(form: HTMLFormElement): Record<string, string> {
  const body: Record<string, string> = {};
  for (const [name, value] of new FormData(form)) if (typeof value === 'string' && value.trim() !== '') body[name] = value.trim();
  return body;
}

/** A refused change that a new passkey sign-in would allow: offer it, coming back here. */
function offerSignIn(form: HTMLFormElement): void {
  const message = form.querySelector<HTMLElement>(':scope > .inline-message');
  if (!message || message.querySelector('a')) return;
  const link = document.createElement('a');
  link.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
  link.textContent = 'Sign in again';
  link.className = 'sign-in-again';
  message.append(' ', link);
}

export function attachAdmin(h: PageHelpers): void {
  const done = sessionStorage.getItem(DONE_KEY);
  if (done) {
    sessionStorage.removeItem(DONE_KEY);
    h.show(done, 'info');
  }
  for (const form of document.querySelectorAll<HTMLFormElement>('form.api-form')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector<HTMLButtonElement>('button[type=submit]');
      h.busy(button, true);
      try {
        const result = await h.api<{ approval?: { state?: string } } | undefined>(form.dataset.api ?? '', bodyOf(form), form.dataset.method ?? 'POST');
        const text = result?.approval?.state === 'awaiting_approval' ? 'Requested: a second administrator must approve it (see Approvals).' : (form.dataset.done ?? 'Done.');
        sessionStorage.setItem(DONE_KEY, text);
        location.reload();
      } catch (error) {
        h.show(h.explain(error), 'error', form);
        if (error instanceof ApiError && (error.code === 'fresh_auth_required' || error.code === 'admin_required')) offerSignIn(form);
        h.busy(button, false);
      }
    });
  }
}
