/**
 * "Agents acting for you" on /account (bundled into the pages' one script by client.ts): grant a
 * delegation (POST /api/v1/delegations) and revoke one (DELETE /api/v1/delegations/{id}).
 */
import type { PageHelpers } from './codes.ts';

const DAY_S = 86_400;

export function attachDelegations(h: PageHelpers): void {
  const form = document.getElementById('delegate-form') as HTMLFormElement | null;
  form?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector<HTMLButtonElement>('button[type=submit]');
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    h.busy(button, true);
    try {
      const scopes = value('scopes').split(/[\s,]+/).filter(Boolean);
      await h.api('/api/v1/delegations', { clientId: value('clientId'), scopes: [...new Set(scopes)], expiresIn: Math.round(Number(value('days')) * DAY_S) });
      location.assign('/account?changed=agent-allowed');
    } catch (error) {
      h.show(h.explain(error), 'error', button);
    } finally {
      h.busy(button, false);
    }
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.revoke-delegation')) {
    button.addEventListener('click', async () => {
      if (!confirm(`Stop ${button.dataset.agent ?? 'this agent'} acting for you?`)) return;
      try {
        await h.api(`/api/v1/delegations/${button.dataset.id}`, undefined, 'DELETE');
        location.assign('/account?changed=agent-revoked');
      } catch (error) {
        h.show(h.explain(error), 'error', button);
      }
    });
  }
}
