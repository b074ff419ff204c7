/**
 * Issue 16, /admin/posture and /admin/report in headless Chromium against `keybound serve`: an
 * administrator signs in with a passkey and sees the charts (SVG named by <title> and <desc>, a
 * table of the figures for screen readers), axe-core finds nothing serious or critical, a 390 px
 * phone does not scroll sideways; screenshots are kept in test-artifacts/ (gitignored). A member
 * is refused and a visitor sent to sign in.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { seriousViolations } from '../helpers/axe.ts';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/report/', import.meta.url));

/** Each chart: an SVG image named by its own title and description, and a table of its figures. */
async function charts(page: Page) {
  return page.locator('figure.chart').evaluateAll((figures) =>
    figures.map((f) => {
      const svg = f.querySelector('svg[role="img"]')!;
      const [titleId, descId] = (svg.getAttribute('aria-labelledby') ?? '').split(' ');
      return {
        id: f.id,
        title: document.getElementById(titleId!)?.textContent ?? null,
        desc: document.getElementById(descId!)?.textContent ?? null,
        viewBox: svg.getAttribute('viewBox'),
        marks: svg.querySelectorAll('rect, path, circle').length,
        tableRows: f.querySelectorAll('table tbody tr').length,
      };
    }),
  );
}

describe('/admin/posture and /admin/report in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    await mkdir(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('an administrator sees the charts and the report; accessible, and no sideways scroll on a phone', async () => {
    // A member first, so there is more than one account to chart.
    const memberContext = await browser.newContext();
    const member = await openBrowserPage(memberContext);
    await enrolInBrowser(server, member.page, 'mia', 'Phone');
    await member.page.goto(`${server.baseUrl}/admin/report`);
    expect(await member.page.locator('[data-error]').getAttribute('data-error')).toBe('admin_required');
    await memberContext.close();

    const context = await browser.newContext();
    const { page, errors } = await openBrowserPage(context);
    await page.goto(`${server.baseUrl}/admin/posture`);
    await page.waitForURL(/\/login\?next=%2Fadmin%2Fposture$/);
    const invited = await server.cliJson<{ url: string }>(['invite', 'root', '--role', 'admin', '--json']);
    await page.goto(invited.url);
    await page.getByLabel('Name this passkey').fill('Laptop');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.waitForURL(`${server.baseUrl}/account`);

    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.baseUrl}/admin/posture?days=14`);
    const posture = await charts(page);
    expect(posture.map((c) => c.id)).toEqual(['chart-phr', 'chart-factors', 'chart-levels', 'chart-below', 'chart-codes', 'chart-adoption', 'chart-nhi']);
    for (const chart of posture) {
      expect(chart.title, chart.id).toBeTruthy();
      expect(chart.desc, chart.id).toBeTruthy();
      expect(chart.viewBox, chart.id).toMatch(/^0 0 \d+/);
      expect(chart.tableRows, chart.id).toBeGreaterThan(0);
    }
    // Two enrolments today, both with a passkey: 100 % phishing-resistant, 2 accounts with a passkey.
    expect(posture.find((c) => c.id === 'chart-phr')!.desc).toMatch(/^100 % of 2 sign-ins in the last 14 days/);
    expect(posture.find((c) => c.id === 'chart-adoption')!.desc).toMatch(/^2 of 2 active accounts had a passkey/);
    expect(posture.find((c) => c.id === 'chart-factors')!.marks).toBeGreaterThanOrEqual(2);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}posture-desktop.png`, fullPage: true });

    await page.goto(`${server.baseUrl}/admin/report`);
    const rows = page.locator('tr[data-control]');
    expect(await rows.count()).toBeGreaterThan(30);
    expect(await page.locator('section[data-framework]').count()).toBe(4);
    expect(await page.locator('tr[data-control="63B-RESTRICTED-SMS"]').getAttribute('data-status')).toBe('met');
    expect(await page.locator('tr[data-control="PR.AA-06"]').getAttribute('data-status')).toBe('not_applicable');
    expect((await charts(page)).map((c) => c.id)).toEqual(['chart-report']);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}report-desktop.png`, fullPage: true });

    // A 390 px phone: nothing wider than the screen, the charts scaled into it.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ['/admin/posture', '/admin/report']) {
      await page.goto(`${server.baseUrl}${path}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(390);
      const widest = await page.locator('figure.chart svg[role="img"]').evaluateAll((svgs) => Math.max(...svgs.map((s) => s.getBoundingClientRect().right)));
      expect(widest, path).toBeLessThanOrEqual(390);
      expect(await seriousViolations(page), path).toEqual([]);
      await page.screenshot({ path: `${ARTIFACTS}${path.slice(7)}-phone.png`, fullPage: true });
    }

    // ?days= out of range: a page that says so, not a stack.
    const bad = await page.goto(`${server.baseUrl}/admin/posture?days=0`);
    expect(bad!.status()).toBe(400);
    expect(await page.locator('[data-error]').textContent()).toBe('Days must be a whole number from 1 to 365.');
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
