/**
 * A person's own API keys on /account (issue 15, docs/nhi.md "Your own keys"), in headless Chromium
 * against `keybound serve` with KEYBOUND_API_KEY_SELF_SCOPES=read: making a key shows it once, with a
 * copy button that copies it; after a reload the key is nowhere on the page; revoking removes the
 * row and the key stops working.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';

describe('/account API keys, in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ env: { KEYBOUND_OIDC_RESOURCES: 'https://api.example.test/', KEYBOUND_API_KEY_SELF_SCOPES: 'read' } }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('makes a key shown once with a copy button; revoking removes it', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    const { page, errors } = await openBrowserPage(context);
    page.on('dialog', (dialog) => void dialog.accept());
    await enrolInBrowser(server, page, 'ivy', 'Laptop');

    await page.locator('#api-key-name').fill('Reports script');
    await page.getByRole('button', { name: 'Make a key' }).click();
    const shown = page.locator('#new-api-key-value');
    await shown.waitFor({ state: 'visible' });
    const key = (await shown.textContent()) ?? '';
    expect(key).toMatch(/^kb_live_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/);
    await page.locator('#copy-api-key').click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);

    // Once: after a reload the key is listed by name, and the key itself is nowhere.
    await page.reload();
    const row = page.locator('tr[data-api-key]').filter({ hasText: 'Reports script' });
    expect(await row.count()).toBe(1);
    expect(await row.locator('td').nth(1).textContent()).toBe('read');
    expect(await page.content()).not.toContain(key);

    await row.getByRole('button', { name: 'Revoke Reports script' }).click();
    await page.waitForURL(`${server.baseUrl}/account?changed=api-key-revoked`);
    expect(await page.locator('#confirmation').textContent()).toBe('API key revoked: it no longer works.');
    expect(await page.locator('tr[data-api-key]').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
