/**
 * The hosted pages' one-time-code behaviour (bundled into the pages' one script by client.ts):
 * "Use a code instead" on /login, and binding code factors on /account. The helpers are client.ts's
 * own, passed in, so errors read the same everywhere.
 */
export interface PageHelpers {
  api<T>(path: string, body?: unknown, method?: string): Promise<T>;
  /** A message next to `near` (see client.ts `show`), else at the top of the page. */
  show(message: string, kind?: 'error' | 'info', near?: Element | null): void;
  explain(error: unknown): string;
  busy(button: HTMLButtonElement | null, on: boolean): void;
  /** After binding or removing a factor: reload saying what changed, with the "Sign out everywhere else" offer. */
  afterAuthenticatorChange(what?: string): void;
  /** Shows that offer without reloading. */
  offerSignOutElsewhere(): void;
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;

/** Runs `work` with the form's button disabled, showing any failure at the end of the form. */
function onSubmit(h: PageHelpers, form: HTMLFormElement | null, work: () => Promise<void>): void {
  form?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    h.busy(button, true);
    try {
      await work();
    } catch (error) {
      h.show(h.explain(error), 'error', form);
    } finally {
      h.busy(button, false);
    }
  });
}

const HINT: Record<string, string> = {
  totp: 'Enter the code your authenticator app shows now.',
  sms: 'If this account gets codes by text message, one is on its way. It expires in 10 minutes.',
  email: 'If this account gets codes by email, one is on its way. It expires in 10 minutes.',
  recovery: 'Enter one of your saved recovery codes. Each works once.',
};

export function attachCodeSignIn(h: PageHelpers): void {
  const next = document.body.dataset.next ?? '/account';
  const verifyForm = byId<HTMLFormElement>('code-verify-form');
  let attemptId = '';
  onSubmit(h, byId<HTMLFormElement>('code-start-form'), async () => {
    const factor = byId<HTMLSelectElement>('code-factor')!.value;
    const username = byId<HTMLInputElement>('code-username')!.value.trim();
    ({ attemptId } = await h.api<{ attemptId: string }>('/api/v1/codes/sign-in/start', { username, factor }));
    byId('code-hint')!.textContent = HINT[factor] ?? '';
    byId<HTMLInputElement>('code-value')!.inputMode = factor === 'recovery' ? 'text' : 'numeric';
    if (verifyForm) verifyForm.hidden = false;
    byId<HTMLInputElement>('code-value')!.focus();
  });
  onSubmit(h, verifyForm, async () => {
    await h.api('/api/v1/codes/sign-in/verify', { attemptId, code: byId<HTMLInputElement>('code-value')!.value });
    location.assign(next);
  });
}

export function attachCodeFactors(h: PageHelpers): void {
  byId<HTMLButtonElement>('totp-begin')?.addEventListener('click', async (event) => {
    const button = event.currentTarget as HTMLButtonElement;
    h.busy(button, true);
    try {
      const { otpauthUri, qrSvg } = await h.api<{ otpauthUri: string; qrSvg: string }>('/api/v1/totp', {});
      byId<HTMLImageElement>('totp-qr')!.src = `data:image/svg+xml;base64,${btoa(qrSvg)}`;
      byId('totp-key')!.textContent = (new URL(otpauthUri).searchParams.get('secret') ?? '').replace(/(.{4})/g, '$1 ').trim();
      byId('totp-setup')!.hidden = false;
      byId<HTMLInputElement>('totp-code')!.focus();
    } catch (error) {
      h.show(h.explain(error), 'error', button);
    } finally {
      h.busy(button, false);
    }
  });
  onSubmit(h, byId<HTMLFormElement>('totp-confirm-form'), async () => {
    await h.api('/api/v1/totp/confirm', { code: byId<HTMLInputElement>('totp-code')!.value });
    h.afterAuthenticatorChange('method-added');
  });

  byId<HTMLButtonElement>('recovery-generate')?.addEventListener('click', async (event) => {
    if (document.querySelector('tr[data-factor="recovery"]') && !confirm('A new set replaces every old recovery code. Continue?')) return;
    const button = event.currentTarget as HTMLButtonElement;
    h.busy(button, true);
    try {
      const { codes } = await h.api<{ codes: string[] }>('/api/v1/recovery-codes', {});
      const list = byId('recovery-list')!;
      list.replaceChildren(...codes.map((code) => Object.assign(document.createElement('li'), { textContent: code })));
      byId('recovery-codes')!.hidden = false;
      offerCopyAndDownload(h, codes);
      h.offerSignOutElsewhere();
    } catch (error) {
      h.show(h.explain(error), 'error', button);
    } finally {
      h.busy(button, false);
    }
  });

  // SMS and email: send a code, then confirm it in the shared form.
  const confirmForm = byId<HTMLFormElement>('bind-confirm-form');
  let pending: { path: string; attemptId: string } | null = null;
  for (const [id, path] of [['sms-form', '/api/v1/sms'], ['email-form', '/api/v1/email-codes']] as const) {
    onSubmit(h, byId<HTMLFormElement>(id), async () => {
      const body = id === 'sms-form' ? { phone: byId<HTMLInputElement>('sms-phone')!.value } : {};
      const { attemptId, notice } = await h.api<{ attemptId: string; notice: string }>(path, body);
      pending = { path, attemptId };
      h.show(notice, 'info', byId(id));
      if (confirmForm) confirmForm.hidden = false;
      byId<HTMLInputElement>('bind-code')!.focus();
    });
  }
  onSubmit(h, confirmForm, async () => {
    if (!pending) return;
    await h.api(`${pending.path}/confirm`, { attemptId: pending.attemptId, code: byId<HTMLInputElement>('bind-code')!.value });
    h.afterAuthenticatorChange('method-added');
  });

  for (const button of document.querySelectorAll<HTMLButtonElement>('button.remove-factor')) {
    button.addEventListener('click', async () => {
      if (!confirm('Remove this sign-in method?')) return;
      try {
        await h.api(`/api/v1/factors/${button.dataset.id}`, undefined, 'DELETE');
        h.afterAuthenticatorChange('method-removed');
      } catch (error) {
        h.show(h.explain(error), 'error', button);
      }
    });
  }
}

/**
 * New recovery codes are shown once: "Copy" puts them on the clipboard, "Download" saves them as a
 * text file, so nobody has to retype ten codes.
 */
function offerCopyAndDownload(h: PageHelpers, codes: readonly string[]): void {
  const text = `${document.title.replace(/ · .*/, '')} recovery codes for ${location.host}, made ${new Date().toISOString().slice(0, 10)}.\nEach works once, at ${location.origin}/recover.\n\n${codes.join('\n')}\n`;
  const copy = byId<HTMLButtonElement>('recovery-copy');
  const download = byId<HTMLAnchorElement>('recovery-download');
  if (copy) {
    copy.hidden = false;
    copy.onclick = async () => {
      try {
        await navigator.clipboard.writeText(codes.join('\n'));
        h.show('Copied. Paste them somewhere only you can reach.', 'info', copy);
      } catch {
        h.show('This browser did not allow copying. Select the codes and copy them, or download them.', 'error', copy);
      }
    };
  }
  if (download) {
    if (download.href.startsWith('blob:')) URL.revokeObjectURL(download.href);
    download.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    download.download = `keybound-recovery-codes-${location.hostname}.txt`;
    download.hidden = false;
  }
}
