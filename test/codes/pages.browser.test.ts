/**
 * The code pages in headless Chromium against `keybound serve`: binding an authenticator app from
 * the account page (QR code as an image, key shown once), every factor listed with its strength,
 * and "Use a code instead" on the sign-in page. No inline script or style: the page runs under the
 * server's CSP, and any violation would be a page error.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode } from '../../src/codes/base32.ts';
import { totp } from '../../src/codes/totp.ts';
import { enrolInBrowser, launchChromium, openBrowserPage, STEP_TIMEOUT_MS } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { MEMBER_CODES_ENV } from './support.ts';

describe('one-time codes on the hosted pages', () => {
  let server: ServerProcess;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ env: MEMBER_CODES_ENV }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('binds an authenticator app from the account page, then signs in with a code instead of a passkey', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openBrowserPage(context);
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await enrolInBrowser(server, page, 'paula', 'Laptop');

    const section = page.locator('#factors');
    // Passkeys are listed once, in their own table; "Other sign-in methods" has the rest.
    await expect.poll(() => page.locator('tr[data-passkey] td').nth(3).textContent()).toBe('phishing-resistant');
    expect(await section.locator('tr[data-factor="passkey"]').count()).toBe(0);
    expect(await section.textContent()).toMatch(/One-time codes are weaker/);

    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = page.getByAltText("QR code holding your authenticator app's key");
    await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    const key = (await page.locator('#totp-key').textContent())!.replace(/\s/g, '');
    const seed = base32Decode(key)!;
    const params = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
    // Confirm with the previous step's code (accepted, as for a code typed just as it changed), so the
    // current one is left for the sign-in below. Out of the last 10 s of a step, so that the step the
    // code is checked in is still the one after it.
    const left = 30_000 - (Date.now() % 30_000);
    if (left < 10_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
    await page.getByLabel('Code the app shows now').fill(totp(seed, Date.now() - 30_000, params));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => section.locator('tr[data-factor="totp"] td').nth(1).textContent()).toBe('can be phished');

    await context.close();

    // Another browser, without the passkey (where it is, autofill would sign in with it at once).
    const elsewhere = await browser.newContext();
    elsewhere.setDefaultTimeout(STEP_TIMEOUT_MS);
    const login = await elsewhere.newPage();
    login.on('pageerror', (error) => errors.push(error.message));
    login.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await login.goto(`${server.baseUrl}/login`);
    await login.getByText('Use a code instead').click();
    expect(await login.locator('#code-sign-in .notice').textContent()).toMatch(/weaker than a passkey/);
    await login.getByLabel('Username', { exact: true }).last().fill('paula');
    await login.getByLabel('Where your code comes from').selectOption('totp');
    await login.getByRole('button', { name: 'Continue' }).click();
    // The confirmation used the step before its own; the current one is newer (and a code is never
    // accepted before its step: OWASP ASVS 5.0 6.5.5).
    await login.getByLabel('Code', { exact: true }).fill(totp(seed, Date.now(), params));
    await login.getByRole('button', { name: 'Sign in with the code' }).click();
    await login.waitForURL(`${server.baseUrl}/account`);
    expect(await login.locator('[data-acr]').textContent()).toBe('AAL1');
    // Why a passkey change needs a new sign-in, truthfully: not "too old" 0 s after a code sign-in.
    expect(await login.locator('#passkeys-need-sign-in').textContent()).toMatch(/you signed in with a one-time code/);
    expect(await login.locator('#signed-in-with').textContent()).toBe('a one-time code');
    // ASVS 7.5.2: "Sign out everywhere else" calls the API; a code session is not a fresh passkey
    // sign-in, so the other (passkey) session stays and the page says what to do.
    const ending = login.waitForResponse((r) => r.url() === `${server.baseUrl}/api/v1/sessions` && r.request().method() === 'DELETE');
    await login.getByRole('button', { name: 'Sign out everywhere else' }).click();
    expect((await ending).status()).toBe(403);
    // Said beside the button that was pressed, and focused.
    const said = login.locator('.inline-message', { hasText: /sign in again with a passkey/ });
    await said.first().waitFor({ state: 'visible' });
    expect(await said.first().evaluate((element) => element === document.activeElement)).toBe(true);
    // Chromium logs the refused request itself; that line is the 403 just asserted, nothing else.
    expect(errors.filter((e) => e !== 'Failed to load resource: the server responded with a status of 403 (Forbidden)')).toEqual([]);
    await elsewhere.close();
  });
});
