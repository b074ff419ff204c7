/**
 * Issue 14, continuous evaluation as a person meets it, in headless Chromium against `keybound
 * serve`: a session cookie carried into another browser (a Firefox user agent) is not accepted;
 * the page sends the person to the passkey prompt, which says why in words.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0';

describe('a step-up page with its reason, in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('a session used from another browser is sent to a passkey prompt that says why', async () => {
    const context = await browser.newContext();
    const { page } = await openBrowserPage(context);
    await enrolInBrowser(server, page, 'rita', 'Laptop');
    expect(page.url()).toBe(`${server.baseUrl}/account`);

    // The same cookie in another browser, as a stolen session would be.
    const other = await browser.newContext({ userAgent: FIREFOX });
    await other.addCookies(await context.cookies());
    const stolen = await other.newPage();
    await stolen.goto(`${server.baseUrl}/account`);
    expect(stolen.url()).toBe(`${server.baseUrl}/login?next=/account&step_up=session_agent_changed`);
    const prompt = stolen.locator('#step-up');
    expect(await prompt.getAttribute('role')).toBe('alert');
    expect(await prompt.textContent()).toContain('Sign in again with a passkey to continue.');
    expect(await stolen.locator('#step-up-reasons li[data-reason="session_agent_changed"]').textContent()).toBe('the session is used from another browser');
    expect(await stolen.getByRole('button', { name: 'Sign in with a passkey' }).isVisible()).toBe(true);

    // The browser the session signed in from is still served.
    await page.goto(`${server.baseUrl}/account`);
    expect(page.url()).toBe(`${server.baseUrl}/account`);
    await other.close();
    await context.close();
  }, 60_000);
});
