/**
 * The account page's API keys (bundled into the pages' one script by client.ts): make a key and show
 * it once with a copy button, replace one (the new key shown the same way), revoke one.
 */
import type { PageHelpers } from './codes.ts';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;

function showOnce(key: string): void {
  byId('new-api-key-value')!.textContent = key;
  byId('new-api-key')!.hidden = false;
  byId<HTMLButtonElement>('copy-api-key')!.focus();
}

export function attachApiKeys(h: PageHelpers): void {
  const form = byId<HTMLFormElement>('api-key-form');
  form?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = byId<HTMLButtonElement>('create-api-key');
    h.busy(button, true);
    try {
      const data = new FormData(form);
      const scopes = data.getAll('scope').map(String);
      const made = await h.api<{ id: string; key: string }>('/api/v1/account/api-keys', { name: String(data.get('name') ?? '').trim(), scopes, expiresIn: Number(data.get('expiresIn')) });
      form.reset();
      showOnce(made.key);
    } catch (error) {
      h.show(h.explain(error), 'error', button);
    } finally {
      h.busy(button, false);
    }
  });
  byId<HTMLButtonElement>('copy-api-key')?.addEventListener('click', async (event) => {
    const button = event.currentTarget as HTMLButtonElement;
    try {
      await navigator.clipboard.writeText(byId('new-api-key-value')!.textContent ?? '');
      button.textContent = 'Copied';
    } catch (error) {
      h.show(h.explain(error), 'error', button);
    }
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.rotate-api-key')) {
    button.addEventListener('click', async () => {
      if (!confirm('Replace this key? The new key is shown once; the old one stops working now.')) return;
      try {
        const rotated = await h.api<{ key: string }>(`/api/v1/account/api-keys/${button.dataset.id}/rotate`, {});
        button.closest('tr')?.remove();
        showOnce(rotated.key);
      } catch (error) {
        h.show(h.explain(error), 'error', button);
      }
    });
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.revoke-api-key')) {
    button.addEventListener('click', async () => {
      if (!confirm(`Revoke ${button.dataset.name ?? 'this key'}? Anything using it stops working at once.`)) return;
      try {
        await h.api(`/api/v1/account/api-keys/${button.dataset.id}`, undefined, 'DELETE');
        location.assign('/account?changed=api-key-revoked');
      } catch (error) {
        h.show(h.explain(error), 'error', button);
      }
    });
  }
}
