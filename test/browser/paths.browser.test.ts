/**
 * Issue 13, "Where it shows": the /account section "Ways into your account" in headless Chromium
 * against `keybound serve`. A holder enrolled by invitation saves recovery codes (a one-code
 * recovery, which this member role allows); the section then draws every way in that
 * `keybound analyse --account` lists, in an inline SVG under the page's own Content-Security-Policy,
 * with the effective level in words and advice. The section is screenshotted into the test's
 * temporary directory, and the graph's text nodes are read back to check it names each path.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisJson } from '../../src/services/paths/report.ts';
import { enrolInBrowser, launchChromium, openBrowserPage } from '../helpers/browser.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';

describe('ways into your account, in headless Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keybound-paths-'));
    [server, browser] = await Promise.all([startServer({ env: { KEYBOUND_MEMBER_MIN_AAL: '1', KEYBOUND_MEMBER_RECOVERY: 'code' } }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('draws every path and what opens it, says the level in words, and gives advice', async () => {
    const context = await browser.newContext();
    const { page, errors } = await openBrowserPage(context);
    const violations: string[] = [];
    page.on('console', (m) => /Content Security Policy/i.test(m.text()) && violations.push(m.text()));
    await enrolInBrowser(server, page, 'erin', 'Laptop');
    const made = await page.evaluate(async () => (await fetch('/api/v1/recovery-codes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
    expect(made).toBe(201);
    await page.goto(`${server.baseUrl}/account`);

    const section = page.locator('#ways-in');
    await section.waitFor({ state: 'visible' });
    const shot = join(dir, 'ways-in.png');
    await section.screenshot({ path: shot });
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(2000);

    const analysis = await server.cliJson<AnalysisJson>(['analyse', '--account', 'erin', '--json']);
    const all = [...analysis.paths, ...analysis.governedPaths];
    // No administrator is enrolled: the operator's command line can still start an assisted recovery.
    expect(all.map((p) => p.kind)).toEqual(['sign_in', 'recovery', 'assisted_recovery']);
    // The graph's text nodes, as the browser rendered them.
    const drawn = await page.locator('svg.paths-graph g.path-node').evaluateAll((nodes) =>
      nodes.map((g) => ({ id: g.getAttribute('data-path'), label: g.querySelector('text.path-label')?.textContent ?? '' })),
    );
    expect(drawn.map((d) => d.id)).toEqual(all.map((p) => p.id));
    for (const p of all) expect(drawn.find((d) => d.id === p.id)!.label).toBe(p.label);
    // Each capability that opens a path is drawn, with an edge.
    const capabilities = await page.locator('svg.paths-graph g.capability-node').evaluateAll((nodes) => nodes.map((g) => g.getAttribute('data-capability')));
    expect(new Set(capabilities)).toEqual(new Set(all.flatMap((p) => p.capabilities.flat())));
    expect(await page.locator('svg.paths-graph line.edge').count()).toBeGreaterThanOrEqual(all.length);
    // The graph has a size on screen (rendered, not blocked).
    const box = await page.locator('svg.paths-graph').boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(await page.locator('#effective-level').textContent()).toMatch(/^AAL1: one factor/);
    expect(await page.locator('#effective-level').getAttribute('data-effective-acr')).toBe('urn:keybound:aal1');
    expect(await page.locator('#paths-advice li').first().textContent()).toMatch(/Replace one-code recovery/);
    expect(errors).toEqual([]);
    expect(violations).toEqual([]);
    await context.close();
  });
});
