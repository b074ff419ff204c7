/**
 * `keybound report --format json|md|html --output <file>` (issue 16, docs/report.md): the real CLI
 * in a child process against the database an in-process server uses, with its configuration.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrol, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/server.ts';

describe('keybound report', () => {
  let t: TestApp;
  let dir: string;
  const cli = (...args: string[]) => runCli(args, { env: { KEYBOUND_DATABASE_URL: t.database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS } });

  beforeAll(async () => {
    t = await startTestApp();
    await enrol(t, 'root', undefined, 'admin');
    dir = await mkdtemp(join(tmpdir(), 'keybound-report-'));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes JSON, Markdown and HTML to --output; Markdown to stdout by default; refuses another format', async () => {
    const files = { json: join(dir, 'report.json'), md: join(dir, 'report.md'), html: join(dir, 'report.html') };
    for (const [format, file] of Object.entries(files)) {
      const answer = await cli('report', '--format', format, '--output', file);
      expect(answer.code, answer.stderr).toBe(0);
      expect(answer.stdout).toBe('');
      expect(answer.stderr).toBe(`Wrote the ${format} report to ${file}\n`);
    }
    const json = JSON.parse(await readFile(files.json, 'utf8'));
    expect(json.frameworks.map((f: { id: string }) => f.id)).toEqual(['nist-sp-800-63b-4', 'nist-csf-2.0', 'nist-sp-800-207', 'owasp-nhi-top-10']);
    const sms = json.frameworks[0].controls.find((c: { id: string }) => c.id === '63B-RESTRICTED-SMS');
    expect(sms.status).toBe('met');
    const md = await readFile(files.md, 'utf8');
    expect(md).toMatch(/^# Keybound standards report\n/);
    expect(md).toContain('## NIST Cybersecurity Framework 2.0');
    expect(md).toMatch(/\| 63B-RESTRICTED-SMS [^|]+\| Met \|/);
    const html = await readFile(files.html, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<tr data-control="63B-RESTRICTED-SMS" data-status="met">');
    expect(html).toContain('<svg viewBox=');
    expect(html).not.toContain('href="/admin');
    const stdout = await cli('report');
    expect(stdout.code, stdout.stderr).toBe(0);
    expect(stdout.stdout).toBe(md.replace(/^Generated \S+/m, stdout.stdout.match(/^Generated \S+/m)![0]));
    const refused = await cli('report', '--format', 'pdf');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Allowed choices are json, html, md/);
  }, 60_000);
});
