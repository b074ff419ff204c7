/**
 * Issue 16, "The pages people use every day": /account walked through as a new user would, in
 * headless Chromium against `keybound serve`. How the sign-in is described (words, not `amr` codes),
 * sessions by browser and system (not a raw User-Agent cut mid-word), the passkey that just signed
 * in is "used", each change confirmed, renaming in place (no window.prompt), passkeys listed once,
 * errors beside the field with the focus on them, recovery codes copied and downloaded, a 390 px
 * phone screen without sideways scrolling, and axe-core finding nothing serious or critical.
 */
import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addVirtualAuthenticator, enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { seriousViolations } from '../helpers/axe.ts';

describe('/account as a person uses it, in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('says things in words, confirms each change, renames in place, shows errors beside the field, and fits a phone', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    const { page, errors, virtual } = await openBrowserPage(context);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.accept();
    });
    await enrolInBrowser(server, page, 'ava', 'Laptop');

    // The sign-in in words; the codes stay in a data attribute for tools.
    const signedInWith = page.locator('#signed-in-with');
    expect(await signedInWith.textContent()).toBe('a passkey, unlocked with your PIN or biometric');
    expect(await signedInWith.getAttribute('data-amr')).toMatch(/\bpop\b/);
    expect(await page.locator('main > p').filter({ hasText: 'Signed in as' }).textContent()).not.toMatch(/\b(pop|mfa|user|hwk|swk)\b/);
    // The session's browser by name; the whole header is in the title, not cut.
    const agent = page.locator('tr[data-session] .agent').first();
    expect(await agent.textContent()).toBe('Chrome (headless) on Linux');
    expect(await agent.getAttribute('title')).toBe(await page.evaluate(() => navigator.userAgent));
    // The passkey that just signed in was used just now, not "never".
    const laptopRow = page.locator('tr[data-passkey]').filter({ hasText: 'Laptop' });
    expect(await laptopRow.locator('td').nth(4).textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    // Passkeys are listed once: not again among the other sign-in methods.
    expect(await page.locator('tr[data-passkey]').count()).toBe(1);
    expect(await page.locator('#factors tr[data-factor="passkey"]').count()).toBe(0);

    // A second passkey, from another authenticator (the first would be excluded): confirmed after the reload.
    await virtual.remove();
    await addVirtualAuthenticator(page);
    await page.getByLabel('Add another passkey').fill('Security key');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(`${server.baseUrl}/account?changed=passkey-added`);
    expect(await page.locator('#confirmation').textContent()).toBe('Passkey added.');
    expect(await page.locator('#confirmation').getAttribute('role')).toBe('status');
    expect(await page.locator('tr[data-passkey]').count()).toBe(2);

    // Rename in place: a form in the row, focused, no window.prompt.
    const keyRow = page.locator('tr[data-passkey]').filter({ hasText: 'Security key' });
    await keyRow.getByRole('button', { name: 'Rename Security key' }).click();
    const input = keyRow.getByLabel('New name');
    await input.waitFor({ state: 'visible' });
    expect(await input.evaluate((element) => element === document.activeElement)).toBe(true);
    // A name of blanks is refused by the server; the error is in that row's form and takes the focus.
    await input.fill('   ');
    await keyRow.getByRole('button', { name: 'Save' }).click();
    const error = keyRow.locator('.inline-message');
    await error.waitFor({ state: 'visible' });
    expect(await error.getAttribute('data-kind')).toBe('error');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await error.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await page.locator('#message').isHidden()).toBe(true);
    await input.fill('Blue key');
    await keyRow.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${server.baseUrl}/account?changed=passkey-renamed`);
    expect(await page.locator('#confirmation').textContent()).toBe('Passkey renamed.');
    expect(await page.locator('tr[data-passkey] td.nickname .name').allTextContents()).toEqual(expect.arrayContaining(['Laptop', 'Blue key']));
    // A rename is not an authenticator change: no "sign out everywhere else" offer for it.
    expect(await page.locator('#changed-offer').count()).toBe(0);

    // Recovery codes: copied to the clipboard and downloaded as a file, the same ten.
    await page.getByRole('button', { name: 'Make recovery codes' }).click();
    await page.locator('#recovery-codes').waitFor({ state: 'visible' });
    const codes = await page.locator('#recovery-list li').allTextContents();
    expect(codes).toHaveLength(10);
    await page.getByRole('button', { name: 'Copy the codes' }).click();
    await page.locator('#recovery-codes .inline-message', { hasText: 'Copied' }).waitFor({ state: 'visible' });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(codes.join('\n'));
    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download as a text file' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('keybound-recovery-codes-localhost.txt');
    const saved = await readFile((await download.path())!, 'utf8');
    for (const code of codes) expect(saved).toContain(code);

    // Removing the renamed passkey: asked first, then confirmed.
    await page.goto(`${server.baseUrl}/account`);
    await page.locator('tr[data-passkey]').filter({ hasText: 'Blue key' }).getByRole('button', { name: 'Remove' }).click();
    await page.waitForURL(`${server.baseUrl}/account?changed=passkey-removed`);
    expect(await page.locator('#confirmation').textContent()).toBe('Passkey removed: it no longer signs you in.');
    expect(dialogs).toEqual(['confirm: Remove this passkey? It will no longer sign you in.']);
    expect(await page.locator('tr[data-passkey]').count()).toBe(1);

    // Nothing serious for axe-core on the account page.
    expect(await seriousViolations(page)).toEqual([]);

    // A 390 px phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.baseUrl}/account`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.locator('#signed-in-with').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the sign-in and enrolment pages have nothing serious for axe-core', async () => {
    const context = await browser.newContext();
    const { page } = await openBrowserPage(context);
    await page.goto(`${server.baseUrl}/login`);
    expect(await seriousViolations(page)).toEqual([]);
    const invited = await server.cliJson<{ url: string }>(['invite', 'axel', '--json']);
    await page.goto(invited.url);
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto(`${server.baseUrl}/recover`);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
