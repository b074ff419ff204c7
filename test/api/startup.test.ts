import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server.ts';

/** What a newcomer sees: first start on an empty database prints one enrolment link for the administrator. */
describe('first start', () => {
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
  });

  it('creates the admin account, prints a single-use 15-minute link once, and the CLI sees the same database', async () => {
    const first = await startServer({ env: { KEYBOUND_LOG_LEVEL: 'info' } });
    servers.push(first);
    // /readyz can answer before the parent has read the banner from the child's pipe.
    for (let i = 0; i < 100 && !/valid until \S+\)[\s\S]*\/enrol\//.test(first.output()); i++) await new Promise((r) => setTimeout(r, 50));
    const output = first.output();
    const link = output.match(/http:\/\/localhost:\d+\/enrol\/([A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43})/);
    expect(link, output).not.toBeNull();
    const until = output.match(/valid until (\S+?)\)/);
    expect(until).not.toBeNull();
    const ttl = Date.parse(until![1]!) - Date.now();
    expect(ttl).toBeGreaterThan(10 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
    // The token never reaches the JSON logs, only the console banner.
    const logLines = output.split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(link![1]);

    const page = await fetch(`${first.baseUrl}/enrol/${link![1]}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Welcome, Administrator');
    const accounts = await first.cliJson<{ username: string; role: string; status: string; passkeys: number }[]>(['accounts', 'list', '--json']);
    expect(accounts).toEqual([expect.objectContaining({ username: 'admin', role: 'admin', status: 'invited', passkeys: 0 })]);

    const stopped = await first.stop({ keepDatabase: true });
    expect(stopped.code).toBe(0);
    const second = await startServer({ databaseUrl: first.databaseUrl, env: { KEYBOUND_LOG_LEVEL: 'info' } });
    servers.push(second);
    expect(second.output()).not.toContain('/enrol/');
    expect((await fetch(`${second.baseUrl}/enrol/${link![1]}`)).status).toBe(200);
    const invited = await second.cliJson<{ url: string; token: string; expiresAt: string }>(['invite', 'bob', '--role', 'member', '--json']);
    expect(invited.url).toBe(`${second.baseUrl}/enrol/${invited.token}`);
    expect(Date.parse(invited.expiresAt)).toBeGreaterThan(Date.now());
    const bad = await second.cli(['invite', 'Not A Name!']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/username/i);
    const badRole = await second.cli(['invite', 'carol', '--role', 'owner']);
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toMatch(/role must be one of admin, member/);
  });

  it('refuses to start with a bad setting and says which', async () => {
    await expect(startServer({ env: { KEYBOUND_PORT: 'eighty' }, readyTimeoutMs: 15_000 })).rejects.toThrow(/KEYBOUND_PORT.*whole number/);
  });
});
