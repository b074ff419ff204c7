/**
 * Issue 12, "Devices", in headless Chromium against `keybound serve`: on /account a signed-in holder
 * makes a device link (QR code, address, expiry); a second browser profile with a second CDP virtual
 * authenticator (another device) opens it, creates its own passkey and lands signed in on /account
 * of the same account; the link then refuses a second use. From the first device the second is then
 * reported lost, which ends its session at once.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';

describe('add a device by link in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('enrols a second authenticator through the link shown on /account, once; reporting it lost signs that device out', async () => {
    // The first device: enrolled by invitation, signed in on /account.
    const laptopContext = await browser.newContext();
    const laptop = await openBrowserPage(laptopContext);
    await enrolInBrowser(server, laptop.page, 'dana', 'Laptop');
    const asked = Date.now();
    await laptop.page.getByRole('button', { name: 'Make a link for another device' }).click();
    await laptop.page.locator('#device-link').waitFor({ state: 'visible' });
    const url = (await laptop.page.locator('#device-url').textContent())!;
    expect(url).toMatch(new RegExp(`^${server.baseUrl}/enrol/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect(await laptop.page.locator('#device-url').getAttribute('href')).toBe(url);
    const qr = (await laptop.page.locator('#device-qr').getAttribute('src'))!;
    expect(qr).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(qr.split(',')[1]!, 'base64').toString()).toMatch(/^<svg [^>]*viewBox=/);
    // The browser rendered the QR code (an SVG image with a size), not a broken image.
    expect(await laptop.page.locator('#device-qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    const expiry = (await laptop.page.locator('#device-expiry').getAttribute('datetime'))!;
    // Ten minutes from when the server made it, which was between the click and now.
    expect(Date.parse(expiry)).toBeGreaterThanOrEqual(asked - 1000 + 10 * 60_000);
    expect(Date.parse(expiry)).toBeLessThanOrEqual(Date.now() + 10 * 60_000);
    expect(await laptop.page.locator('#device-expiry').textContent()).not.toBe('');

    // The second device: another browser profile, another virtual authenticator.
    const phoneContext = await browser.newContext();
    const phone = await openBrowserPage(phoneContext);
    expect(phone.virtual.id).not.toBe(laptop.virtual.id);
    const opened = await phone.page.goto(url);
    expect(opened?.status()).toBe(200);
    await phone.page.getByLabel('Name this passkey').fill('Phone');
    await phone.page.getByRole('button', { name: 'Create passkey' }).click();
    await phone.page.waitForURL(`${server.baseUrl}/account`);
    const [phoneCredential] = await phone.virtual.credentials();
    const [laptopCredential] = await laptop.virtual.credentials();
    expect(phoneCredential).toBeDefined();
    expect(phoneCredential!.credentialId).not.toBe(laptopCredential!.credentialId);
    // Signed in as the same account, which now lists both passkeys; this one is "this sign-in".
    expect(await phone.page.locator('h1').textContent()).toBe('dana');
    const rows = phone.page.locator('tr[data-passkey]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await phone.page.locator('tr[data-passkey]:has(.this-device) td.nickname').textContent()).toBe('Phone');
    const phonePasskeyId = (await phone.page.locator('tr[data-passkey]:has(.this-device)').getAttribute('data-passkey'))!;

    // Used once: the link now shows the error page.
    const again = await phone.page.goto(url);
    expect(again?.status()).toBe(410);
    expect(await phone.page.locator('[data-error]').getAttribute('data-error')).toBe('enrolment_token_used');
    await phone.page.goto(`${server.baseUrl}/account`);
    expect(phone.page.url()).toBe(`${server.baseUrl}/account`);

    // The laptop reports the phone lost: its passkey goes, and the phone's session ends at once.
    await laptop.page.goto(`${server.baseUrl}/account`);
    laptop.page.once('dialog', (dialog) => void dialog.accept());
    const reported = laptop.page.waitForResponse((r) => r.url().endsWith(`/api/v1/passkeys/${phonePasskeyId}/lost`));
    await laptop.page.locator(`button.lost[data-id="${phonePasskeyId}"]`).click();
    expect((await reported).status()).toBe(204);
    await laptop.page.waitForURL(`${server.baseUrl}/account?changed=passkey-lost`);
    expect(await laptop.page.locator('#confirmation').textContent()).toMatch(/lost passkey was removed/);
    await expect.poll(() => laptop.page.locator('tr[data-passkey]').count()).toBe(1);
    const phoneCookie = (await phoneContext.cookies()).find((c) => c.name.endsWith('keybound_session'))!;
    const after = await fetch(`${server.baseUrl}/api/v1/session`, { headers: { cookie: `${phoneCookie.name}=${phoneCookie.value}` } });
    expect(after.status).toBe(401);
    expect([...laptop.errors, ...phone.errors]).toEqual([]);
  });
});
