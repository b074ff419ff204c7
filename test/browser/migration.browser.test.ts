/**
 * Issue 17, "Chromium: an imported account moves from password to passkey through the pages", in
 * headless Chromium against `keybound serve`: an account imported with `keybound import csv` (a
 * bcrypt hash made here by bcryptjs) follows the link on /login to /migrate, types its old password,
 * lands on /account in a migration session that offers only a new passkey, creates it on a CDP
 * virtual authenticator and ends on /account signed in with it; the old password no longer works.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';

describe('moving an imported account to a passkey in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ env: { KEYBOUND_MEMBER_MIGRATION_UNTIL: '2099-12-31' } }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('/login → /migrate → old password → /account with only "Add a passkey" → signed in with the passkey', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keybound-migrate-')), 'people.csv');
    writeFileSync(file, `username,email,display_name,password_hash\numa,uma@example.test,Uma,${bcrypt.hashSync('uma-old-password', 4)}\n`);
    const imported = await server.cli(['import', 'csv', file, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 1 });

    const context = await browser.newContext();
    const { page, virtual, errors } = await openBrowserPage(context);
    await page.goto(`${server.baseUrl}/login`);
    await page.getByRole('link', { name: 'Use your old password once' }).click();
    await page.waitForURL(`${server.baseUrl}/migrate`);
    await page.getByLabel('Username').fill('uma');
    await page.getByLabel('Old password').fill('wrong password');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('That username and password do not match').waitFor({ state: 'visible' });
    await page.getByLabel('Old password').fill('uma-old-password');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${server.baseUrl}/account`);
    await page.locator('#migration-session').waitFor({ state: 'visible' });
    expect(await page.locator('tr[data-passkey]').count()).toBe(0);

    await page.getByLabel('Name your new passkey').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(`${server.baseUrl}/account?changed=passkey-added`);
    expect(await virtual.credentials()).toHaveLength(1);
    expect(await page.locator('#migration-session').count()).toBe(0);
    expect(await page.locator('tr[data-passkey] td.nickname').textContent()).toBe('Laptop');

    // The old password is gone: the API refuses it now.
    const again = await page.request.post(`${server.baseUrl}/api/v1/migration/sign-in`, { data: { username: 'uma', password: 'uma-old-password' }, headers: { origin: server.baseUrl } });
    expect(again.status()).toBe(401);
    expect(errors).toEqual([]);
  });
});
