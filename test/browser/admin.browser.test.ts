/**
 * Issue 16, "Admin console": every console page and action in headless Chromium against
 * `keybound serve`. Two administrators and members enrol by invitation with virtual
 * authenticators; each page is screenshotted into test-artifacts/admin (gitignored), checked by
 * axe-core (nothing serious or critical) and at 390 px (no sideways scrolling). Actions go through
 * the admin JSON API from the page script and their effect is read back from the CLI.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { machineKey } from '../helpers/machines.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { seriousViolations } from '../helpers/axe.ts';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'admin');
const RESOURCE = 'https://api.example.test/';

/** Screenshot (wide and 390 px), axe-core, and no sideways scrolling on a phone. */
async function inspect(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  expect(await seriousViolations(page), name).toEqual([]);
  await page.setViewportSize({ width: 390, height: 844 });
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  expect(widths.scroll, `${name} at 390 px`).toBeLessThanOrEqual(widths.inner);
  await page.screenshot({ path: join(ARTIFACTS, `${name}-390.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe('the admin console, in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** A new browser with a virtual authenticator, enrolled as `username` (a new account of `role`). */
  async function enrolAs(username: string, role: 'admin' | 'member' = 'member', email?: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const { page, errors } = await openBrowserPage(context);
    const invited = await server.cliJson<{ url: string }>(['invite', username, '--role', role, ...(email ? ['--email', email] : []), '--json']);
    await page.goto(invited.url);
    await page.getByLabel('Name this passkey').fill('Laptop');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.waitForURL(`${server.baseUrl}/account`);
    return { page, errors };
  }

  /** Submits a console form and waits for the page to reload with its confirmation at the top. */
  async function submit(page: Page, form: string, expected: RegExp): Promise<void> {
    await Promise.all([page.waitForEvent('load'), page.locator(`${form} button[type=submit]`).click()]);
    await expect.poll(async () => (await page.locator('#message').textContent()) ?? '').toMatch(expected);
  }

  let root: Page;
  let rootErrors: string[];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    [server, browser] = await Promise.all([startServer({ env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } }), launchChromium()]);
    ({ page: root, errors: rootErrors } = await enrolAs('root', 'admin'));
  }, 60_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('sends a visitor without a session to sign-in and refuses a member with 403', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const anonymous = await context.newPage();
    await anonymous.goto(`${server.baseUrl}/admin/accounts`);
    expect(new URL(anonymous.url()).pathname).toBe('/login');
    expect(new URL(anonymous.url()).searchParams.get('next')).toBe('/admin/accounts');

    const { page } = await enrolAs('mia', 'member', 'mia@example.test');
    for (const path of ['/admin', '/admin/accounts', '/admin/accounts/mia', '/admin/audit', '/admin/policy']) {
      const response = await page.goto(`${server.baseUrl}${path}`);
      expect(response!.status(), path).toBe(403);
      expect(await page.locator('[data-error]').getAttribute('data-error')).toBe('admin_required');
    }
    const api = await page.evaluate(async () => (await fetch('/api/v1/admin/workloads')).status);
    expect(api).toBe(403);
  });

  it('lists accounts with search, filters, factors and last sign-in, and pages through them', async () => {
    for (const name of ['nia', 'noah']) await enrolAs(name);
    await root.goto(`${server.baseUrl}/admin`);
    expect(new URL(root.url()).pathname).toBe('/admin/accounts');
    const nav = await root.locator('nav.console-nav a').allTextContents();
    expect(nav).toEqual(['Accounts', 'Approvals', 'Workloads & keys', 'Shared Signals', 'Audit', 'Policy', 'Posture', 'Report']);
    const listed = await root.locator('tr[data-account]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-account')));
    expect(listed).toEqual(expect.arrayContaining(['root', 'mia', 'nia', 'noah']));
    const mia = root.locator('tr[data-account="mia"]');
    expect(await mia.textContent()).toMatch(/1 passkey \(1 device-bound\)/);
    expect(await mia.locator('time').count()).toBe(1);
    await inspect(root, 'accounts');

    await root.getByLabel('Role', { exact: true }).selectOption('admin');
    await Promise.all([root.waitForEvent('load'), root.getByRole('button', { name: 'Filter' }).click()]);
    const admins = await root.locator('tr[data-account]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-account'), r.querySelectorAll('td')[1]!.textContent]));
    expect(admins.map(([name]) => name)).toContain('root');
    expect(admins.map(([name]) => name)).not.toContain('mia');
    expect(admins.every(([, role]) => role === 'admin')).toBe(true);
    await root.goto(`${server.baseUrl}/admin/accounts?query=no`);
    expect(await root.locator('tr[data-account]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-account')))).toEqual(['noah']);
    await root.goto(`${server.baseUrl}/admin/accounts?below=yes`);
    expect(await root.locator('tr[data-account]').count()).toBe(0);
    await root.goto(`${server.baseUrl}/admin/accounts?level=urn:keybound:aal2:phr`);
    expect(await root.locator('tr[data-account]').count()).toBeGreaterThan(0);
    // More accounts than fit one page: a second page holds the rest.
    const csv = join(tmpdir(), `keybound-admin-bulk-${process.pid}.csv`);
    await writeFile(csv, `username,email,role\n${Array.from({ length: 22 }, (_, i) => `bulk${String(i).padStart(2, '0')},bulk${i}@example.test,member`).join('\n')}\n`);
    expect((await server.cli(['import', 'csv', csv])).code).toBe(0);
    await root.goto(`${server.baseUrl}/admin/accounts`);
    expect(await root.locator('tr[data-account]').count()).toBe(25);
    await Promise.all([root.waitForEvent('load'), root.getByRole('link', { name: 'Next page' }).click()]);
    const total = listed.length + 22;
    expect(await root.locator('tr[data-account]').count()).toBe(total - 25);
    expect(await root.locator('#accounts-count').textContent()).toBe(`${total} accounts, page 2 of 2.`);
    expect(rootErrors).toEqual([]);
  }, 120_000);

  it('shows an account: passkeys, factors, sessions, machines, paths, sign-ins; changes email and role, suspends and resumes', async () => {
    await root.goto(`${server.baseUrl}/admin/accounts/mia`);
    const passkey = root.locator('#passkeys tr[data-passkey]');
    expect(await passkey.count()).toBe(1);
    expect(await passkey.locator('td').nth(1).textContent()).toBe('device-bound');
    expect(await passkey.locator('td').nth(3).textContent()).toBe('active');
    expect(await root.locator('#sessions tr[data-session]').count()).toBe(1);
    expect(await root.locator('svg.paths-graph g.path-node').count()).toBeGreaterThan(0);
    expect(await root.locator('#sign-ins tr[data-sign-in]').count()).toBeGreaterThan(0);
    expect(await root.locator('#offboard-preview').textContent()).toMatch(/1 session.*1 passkey.*0 workloads.*0 API keys/);
    await inspect(root, 'account');

    await root.getByLabel('New email address').fill('mia.new@example.test');
    await submit(root, '#email-form', /Email address changed/);
    expect(await root.locator('#account-email').textContent()).toBe('mia.new@example.test');

    await root.getByLabel('New role').selectOption('admin');
    await submit(root, '#role-form', /second administrator must approve/);
    expect(await root.locator('#account-role').textContent()).toBe('member');

    await root.locator('#suspend-reason').fill('laptop stolen');
    await submit(root, '#suspend-form', /Account suspended/);
    expect(await root.locator('#account-status').textContent()).toBe('suspended');
    expect(await root.locator('#sessions tr[data-session]').count()).toBe(0);
    await submit(root, '#resume-form', /Account resumed/);
    expect(await root.locator('#account-status').textContent()).toBe('active');

    // A refused change is said beside its form, with the focus on it.
    await root.getByLabel('New email address').fill('not an address');
    await root.locator('#email-input').evaluate((input) => input.setAttribute('type', 'text'));
    await root.locator('#email-form button[type=submit]').click();
    const inline = root.locator('#email-form .inline-message');
    await expect.poll(async () => (await inline.textContent()) ?? '').toMatch(/An email address is one address/);
    expect(await root.evaluate(() => document.activeElement?.classList.contains('inline-message'))).toBe(true);
    expect(rootErrors).toEqual([]);
  });

  it('starts an assisted recovery that a second administrator approves in the queue', async () => {
    const { page: ops, errors } = await enrolAs('ops', 'admin');
    await root.goto(`${server.baseUrl}/admin/accounts/nia`);
    await root.getByLabel("Why (how the holder's identity was checked)").fill('called the help desk, identity checked on video');
    await submit(root, '#recovery-form', /Assisted recovery requested/);

    await ops.goto(`${server.baseUrl}/admin/approvals`);
    const row = ops.locator('#open-approvals tr[data-approval]').filter({ hasText: 'Assisted recovery' }).filter({ hasText: 'nia' });
    expect(await row.locator('.state').textContent()).toBe('awaiting approval');
    expect(await ops.locator('#open-approvals tr[data-approval]').filter({ hasText: 'member → admin' }).count()).toBe(1);
    await inspect(ops, 'approvals');
    await Promise.all([ops.waitForEvent('load'), row.getByRole('button', { name: 'Approve' }).click()]);
    await expect.poll(async () => (await ops.locator('#message').textContent()) ?? '').toMatch(/Approved/);
    expect(await ops.locator('#open-approvals tr[data-approval]').filter({ hasText: 'nia' }).locator('.state').textContent()).toBe('waiting');
    const listed = await server.cliJson<{ state: string; username: string }[]>(['recoveries', 'list', '--json']).catch(() => null);
    if (listed) expect(listed.find((r) => r.username === 'nia')?.state).toBe('waiting');
    expect(errors).toEqual([]);
  }, 120_000);

  it('lists workloads and API keys, disables and enables a workload, revokes a key, and previews and runs an offboarding', async () => {
    const dir = tmpdir();
    const jwks = join(dir, `keybound-admin-${process.pid}.json`);
    await writeFile(jwks, JSON.stringify((await machineKey('k1')).jwks));
    const workload = await server.cliJson<{ client_id: string }>(['workloads', 'create', '--name', 'Reports', '--owner', 'noah', '--kind', 'service', '--jwks', jwks, '--audience', RESOURCE, '--json']);
    const key = await server.cliJson<{ id: string }>(['api-keys', 'create', '--owner', 'noah', '--name', 'Billing export', '--scope', 'read', '--json']);

    await root.goto(`${server.baseUrl}/admin/workloads`);
    const w = root.locator(`tr[data-workload="${workload.client_id}"]`);
    expect(await w.locator('.state').textContent()).toBe('active');
    await inspect(root, 'workloads');
    await w.getByLabel('Reason').fill('suspicious calls');
    await Promise.all([root.waitForEvent('load'), w.getByRole('button', { name: 'Disable' }).click()]);
    expect(await root.locator(`tr[data-workload="${workload.client_id}"] .state`).textContent()).toMatch(/^disabled/);
    await Promise.all([root.waitForEvent('load'), root.locator(`tr[data-workload="${workload.client_id}"]`).getByRole('button', { name: 'Enable' }).click()]);
    expect(await root.locator(`tr[data-workload="${workload.client_id}"] .state`).textContent()).toBe('active');
    const k = root.locator(`tr[data-api-key="${key.id}"]`);
    await Promise.all([root.waitForEvent('load'), k.getByRole('button', { name: 'Revoke' }).click()]);
    expect(await root.locator(`tr[data-api-key="${key.id}"] .state`).textContent()).toMatch(/^revoked/);
    const second = await server.cliJson<{ id: string }>(['api-keys', 'create', '--owner', 'noah', '--name', 'Second', '--scope', 'read', '--json']);

    await root.goto(`${server.baseUrl}/admin/accounts/noah`);
    expect(await root.locator('#owned li').count()).toBe(3);
    expect(await root.locator('#offboard-preview').textContent()).toMatch(/1 session, 0 app grants, 1 passkey, 0 code factors, 1 workload, 1 API key and 0 delegations to agents/);
    // The checkbox is required: the browser keeps the form until it is ticked.
    await root.locator('#offboard-form button[type=submit]').click();
    expect(await root.locator('#account-status').textContent()).toBe('active');
    await root.getByLabel('I understand this cannot be undone').check();
    await submit(root, '#offboard-form', /Account offboarded/);
    expect(await root.locator('#account-status').textContent()).toBe('offboarded');
    const keys = await server.cliJson<{ id: string; status: string }[]>(['api-keys', 'list', '--owner', 'noah', '--json']);
    expect(keys.find((x) => x.id === second.id)?.status).toBe('revoked');
  }, 120_000);

  it('shows streams, the audit trail with filters and a JSON-lines export, and the effective policy', async () => {
    await root.goto(`${server.baseUrl}/admin/streams`);
    expect(await root.locator('#streams').count()).toBe(1);
    await inspect(root, 'streams');

    await root.goto(`${server.baseUrl}/admin/audit?type=account.*&account=mia`);
    const types = await root.locator('#audit-events tr[data-type]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')));
    expect(types).toEqual(expect.arrayContaining(['account.suspended', 'account.resumed', 'account.updated']));
    expect(types.every((t) => t!.startsWith('account.'))).toBe(true);
    await inspect(root, 'audit');
    const href = await root.locator('#audit-export').getAttribute('href');
    const exported = await root.evaluate(async (url) => {
      const response = await fetch(url);
      return { type: response.headers.get('content-type'), body: await response.text() };
    }, href!);
    expect(exported.type).toMatch(/^application\/x-ndjson/);
    const lines = exported.body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; username: string });
    expect(lines.length).toBe(types.length);
    expect(lines.every((l) => l.username === 'mia' && l.type.startsWith('account.'))).toBe(true);
    await root.goto(`${server.baseUrl}/admin/audit?since=yesterday`);
    expect(await root.locator('#audit-error').textContent()).toMatch(/Since is an age/);

    await root.goto(`${server.baseUrl}/admin/policy`);
    expect(await root.locator('#policy td[data-role="admin"]').first().textContent()).toMatch(/^AAL2/);
    expect(await root.locator('#policy').textContent()).toMatch(/Assisted recovery delay/);
    await inspect(root, 'policy');
    expect(rootErrors).toEqual([]);
  });
});

describe('the admin console with a stale sign-in, in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    [server, browser] = await Promise.all([startServer({ env: { KEYBOUND_FRESH_AUTH_MAX_AGE: '1' } }), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('still shows the pages, but a change is refused beside its form with a link to sign in again and come back', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, errors } = await openBrowserPage(context);
    await server.cli(['invite', 'mo']);
    const invited = await server.cliJson<{ url: string }>(['invite', 'boss', '--role', 'admin', '--json']);
    await page.goto(invited.url);
    await page.getByLabel('Name this passkey').fill('Laptop');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.waitForURL(`${server.baseUrl}/account`);
    // KEYBOUND_FRESH_AUTH_MAX_AGE=1: two seconds on, the sign-in is no longer fresh.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await page.goto(`${server.baseUrl}/admin/accounts/mo`);
    expect(await page.locator('#account-status').textContent()).toBe('invited');
    await page.locator('#suspend-form button[type=submit]').click();
    const message = page.locator('#suspend-form .inline-message');
    await expect.poll(async () => (await message.textContent()) ?? '').toMatch(/sign in again/i);
    expect(await message.getAttribute('role')).toBe('alert');
    expect(await message.locator('a.sign-in-again').getAttribute('href')).toBe('/login?next=%2Fadmin%2Faccounts%2Fmo');
    await page.screenshot({ path: join(ARTIFACTS, 'stale-change.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.reload();
    expect(await page.locator('#account-status').textContent()).toBe('invited');
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
