/**
 * The account page's device behaviour (bundled into the pages' one script by client.ts): "Add a
 * device" shows a device link with its QR code and expiry; "Lost device" reports a passkey lost.
 */
import type { PageHelpers } from './codes.ts';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;

export function attachDevices(h: PageHelpers): void {
  const add = byId<HTMLButtonElement>('add-device');
  add?.addEventListener('click', async () => {
    h.busy(add, true);
    try {
      const link = await h.api<{ url: string; qrSvg: string; expiresAt: string }>('/api/v1/devices/link', {});
      byId<HTMLImageElement>('device-qr')!.src = `data:image/svg+xml;base64,${btoa(link.qrSvg)}`;
      const anchor = byId<HTMLAnchorElement>('device-url')!;
      anchor.href = link.url;
      anchor.textContent = link.url;
      const expiry = byId<HTMLTimeElement>('device-expiry')!;
      expiry.dateTime = link.expiresAt;
      expiry.textContent = new Date(link.expiresAt).toLocaleString();
      byId('device-link')!.hidden = false;
      add.textContent = 'Make a new link';
    } catch (error) {
      h.show(h.explain(error), 'error', add);
    } finally {
      h.busy(add, false);
    }
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.lost')) {
    button.addEventListener('click', async () => {
      if (!confirm('Report this device lost? Its passkey is removed, and every session and application access it signed in ends now.')) return;
      try {
        await h.api(`/api/v1/passkeys/${button.dataset.id}/lost`, undefined, 'POST');
        h.afterAuthenticatorChange('passkey-lost');
      } catch (error) {
        h.show(h.explain(error), 'error', button);
      }
    });
  }
  // An assisted recovery of this account the holder did not ask for (README "Recovery"): cancel it.
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.cancel-recovery')) {
    button.addEventListener('click', async () => {
      if (!confirm('Cancel this recovery? No link from it will work.')) return;
      try {
        await h.api(`/api/v1/account/recoveries/${button.dataset.id}/cancel`, {});
        location.reload();
      } catch (error) {
        h.show(h.explain(error));
      }
    });
  }
}
