/**
 * Issue 12, "Recovery" (self-service), in headless Chromium against `keybound serve`: a holder makes
 * recovery codes on /account with one device; on another (a second browser profile with its own CDP
 * virtual authenticator, the lost laptop's stand-in being gone) they open /recover, type a saved
 * code, land on /account in a recovery session that offers only a new passkey and their sessions,
 * create the passkey and end on /account signed in with it; the first device is signed out.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';

describe('self-service recovery in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    // member at AAL1: one saved code recovers it (the default for AAL1 roles; README "Recovery").
    [server, browser] = await Promise.all([startServer({ env: { KEYBOUND_MEMBER_MIN_AAL: '1' } }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('a recovery-code recovery ends on /account with a new passkey on a new virtual authenticator', async () => {
    const laptopContext = await browser.newContext();
    const laptop = await openBrowserPage(laptopContext);
    await enrolInBrowser(server, laptop.page, 'rory', 'Laptop');
    await laptop.page.getByRole('button', { name: 'Make recovery codes' }).click();
    await laptop.page.locator('#recovery-codes').waitFor({ state: 'visible' });
    const saved = (await laptop.page.locator('#recovery-list li').allTextContents())[0]!;
    expect(saved).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);

    // The laptop is lost. On a new device: /recover, from the sign-in page.
    const phoneContext = await browser.newContext();
    const phone = await openBrowserPage(phoneContext);
    await phone.page.goto(`${server.baseUrl}/login`);
    await phone.page.getByRole('link', { name: 'Recover your account' }).click();
    await phone.page.waitForURL(`${server.baseUrl}/recover`);
    await phone.page.getByLabel('Username').fill('rory');
    await phone.page.getByLabel('Recovery code').fill(saved.toLowerCase());
    await phone.page.getByRole('button', { name: 'Recover' }).click();
    await phone.page.waitForURL(`${server.baseUrl}/account`);
    // The recovery session's page: a new passkey and the sessions, nothing else.
    await phone.page.locator('#recovery-session').waitFor({ state: 'visible' });
    expect(await phone.page.locator('tr[data-passkey]').count()).toBe(0);
    expect(await phone.page.locator('tr[data-session]').count()).toBe(2);

    await phone.page.getByLabel('Name your new passkey').fill('Phone');
    await phone.page.getByRole('button', { name: 'Add a passkey' }).click();
    await phone.page.waitForURL(`${server.baseUrl}/account?changed=passkey-added`);
    // Signed in with the new passkey, on the ordinary account page, which says when and from where.
    const [credential] = await phone.virtual.credentials();
    expect(credential).toBeDefined();
    expect(await phone.page.locator('#recovery-session').count()).toBe(0);
    expect(await phone.page.locator('tr[data-passkey]:has(.this-device) td.nickname').textContent()).toBe('Phone');
    expect(await phone.page.locator('tr[data-passkey]').count()).toBe(2);
    expect(await phone.page.locator('#last-recovery').textContent()).toMatch(/Recovered with a new passkey at .+ UTC from (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)/);
    expect(await phone.page.locator('tr[data-session]').count()).toBe(1);

    // The lost laptop's session ended with the recovery.
    await laptop.page.goto(`${server.baseUrl}/account`);
    expect(laptop.page.url()).toBe(`${server.baseUrl}/login?next=/account`);
    expect(laptop.errors).toEqual([]);
    expect(phone.errors).toEqual([]);
  });
});
