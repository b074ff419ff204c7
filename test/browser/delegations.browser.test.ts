/**
 * Issue 15, "Agents acting for you" on /account, in headless Chromium against `keybound serve`: a
 * person fresh from a passkey sign-in lets an agent workload act for them (the form posts
 * POST /api/v1/delegations), sees it listed with its scopes, and revokes it with the button; a
 * scope the agent is not allowed is refused with the reason beside the form.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { machineKey } from '../helpers/machines.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';

const RESOURCE = 'https://api.example.test/';

describe('agents acting for you, in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('grants a delegation from the form, lists it, refuses a scope the agent lacks, and revokes it with the button', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openBrowserPage(context);
    await enrolInBrowser(server, page, 'ines', 'Laptop');
    const jwks = join(mkdtempSync(join(tmpdir(), 'keybound-agent-')), 'jwks.json');
    writeFileSync(jwks, JSON.stringify((await machineKey()).jwks));
    const agent = await server.cliJson<{ client_id: string }>(['workloads', 'create', '--name', 'Trip planner', '--owner', 'ines', '--kind', 'agent', '--jwks', jwks, '--audience', RESOURCE, '--scope', 'read', '--json']);

    await page.goto(`${server.baseUrl}/account`);
    expect(await page.locator('#no-agents').textContent()).toBe('No agent acts for you.');
    // A scope the agent is not allowed: refused, with the reason beside the form.
    await page.getByLabel("Agent's client id").fill(agent.client_id);
    await page.getByLabel('Scopes (separated by spaces)').fill('read write');
    await page.getByRole('button', { name: 'Let this agent act for me' }).click();
    await expect.poll(() => page.locator('[role=alert], .error').filter({ hasText: 'write' }).count()).toBeGreaterThan(0);

    await page.getByLabel('Scopes (separated by spaces)').fill('read');
    await page.getByLabel('For how many days').fill('3');
    await page.getByRole('button', { name: 'Let this agent act for me' }).click();
    await page.waitForURL(`${server.baseUrl}/account?changed=agent-allowed`);
    const row = page.locator('tr[data-delegation]');
    expect(await row.count()).toBe(1);
    expect(await row.locator('td').first().textContent()).toContain('Trip planner');
    expect(await row.locator('td').nth(1).textContent()).toBe('read');

    page.once('dialog', (dialog) => void dialog.accept());
    const revoked = page.waitForResponse((r) => r.url().includes('/api/v1/delegations/') && r.request().method() === 'DELETE');
    await row.getByRole('button', { name: 'Stop Trip planner acting for you' }).click();
    expect((await revoked).status()).toBe(204);
    await page.waitForURL(`${server.baseUrl}/account?changed=agent-revoked`);
    expect(await page.locator('#confirmation').textContent()).toBe('The agent no longer acts for you.');
    expect(await page.locator('tr[data-delegation]').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
