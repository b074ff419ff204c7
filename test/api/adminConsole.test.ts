/**
 * The admin console's gates (issue 16, README "Admin console"), in-process on SQLite and PostgreSQL:
 * its pages and the admin API routes it calls admit only an administrator's session at the admin
 * role's level; without a session a page sends to sign-in; a member gets 403; an administrator
 * whose passkey sign-in is older than KEYBOUND_FRESH_AUTH_MAX_AGE still reads every page, but each
 * change is refused with `fresh_auth_required` (by the route's gate and by the service itself) until
 * a new sign-in. The JSON-lines audit export answers what `keybound audit list --json` prints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRevokeApiKey, adminSetWorkload } from '../../src/services/nhi/adminActions.ts';
import { resolveSession } from '../../src/services/sessions.ts';
import { ADMIN_PAGES } from '../../src/http/routes/adminPages.ts';
import { enrol, ManualClock, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';

const PAGES = ['/admin/accounts', '/admin/accounts/mel', '/admin/approvals', '/admin/workloads', '/admin/streams', '/admin/audit', '/admin/policy', '/admin/posture', '/admin/report'];

describe.each(BACKENDS)('admin console gates on %s', (backend) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof enrol>>;
  let member: Awaited<ReturnType<typeof enrol>>;

  const send = (method: 'POST' | 'PATCH', url: string, cookie: string, body: unknown = {}) =>
    t.app.inject({ method, url, payload: body as object, headers: { origin: ORIGIN, cookie, 'content-type': 'application/json' } });

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()) });
    admin = await enrol(t, 'root', undefined, 'admin');
    member = await enrol(t, 'mel');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('every console page is declared with the admin gate, and the console is the table', () => {
    expect(ADMIN_PAGES.map((p) => p.path)).toEqual(['/admin/accounts', '/admin/accounts/:username', ...PAGES.slice(2)]);
    for (const page of ADMIN_PAGES) expect(page.access).toEqual({ admin: true });
  });

  it('without a session, a page sends to sign-in and comes back after it; the API answers 401', async () => {
    for (const path of PAGES) {
      const response = await t.get(path);
      expect(response.statusCode, path).toBe(303);
      expect(response.headers.location).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    expect((await t.get('/admin')).headers.location).toBe('/admin/accounts');
    expect((await t.get('/api/v1/admin/workloads')).statusCode).toBe(401);
    expect((await t.get('/api/v1/admin/audit')).statusCode).toBe(401);
  });

  it('a member gets 403 on every page and every console API route', async () => {
    for (const path of PAGES) {
      const response = await t.get(path, member.cookie);
      expect(response.statusCode, path).toBe(403);
      expect(response.body).toMatch(/data-error="admin_required"/);
    }
    for (const url of ['/api/v1/admin/workloads', '/api/v1/admin/streams', '/api/v1/admin/audit', '/api/v1/admin/accounts']) {
      const response = await t.get(url, member.cookie);
      expect(response.statusCode, url).toBe(403);
      expect(response.json().error).toBe('admin_required');
    }
    const change = await send('POST', '/api/v1/admin/workloads/some-client/disable', member.cookie);
    expect(change.json().error).toBe('admin_required');
  });

  it('a stale administrator reads every page, but each change asks for a new sign-in, at the gate and in the service', async () => {
    for (const path of PAGES) expect((await t.get(path, admin.cookie)).statusCode, path).toBe(200);
    // An account's page by its id too; an unknown one is a 404 page.
    expect((await t.get(`/admin/accounts/${member.account.id}`, admin.cookie)).body).toMatch(/<h1>Account mel<\/h1>/);
    expect((await t.get('/admin/accounts/nobody', admin.cookie)).statusCode).toBe(404);
    t.clock.advance(t.config.freshAuthMaxAgeMs + 1000);
    for (const path of PAGES) expect((await t.get(path, admin.cookie)).statusCode, path).toBe(200);
    const changes: [method: 'POST' | 'PATCH', url: string, body?: unknown][] = [
      ['POST', '/api/v1/admin/accounts/mel/suspend', { reason: 'test' }],
      ['POST', '/api/v1/admin/accounts/mel/offboard', {}],
      ['POST', '/api/v1/admin/accounts/mel/role', { role: 'admin' }],
      ['PATCH', '/api/v1/admin/accounts/mel', { email: 'mel@example.test' }],
      ['POST', '/api/v1/admin/recoveries', { username: 'mel', reason: 'lost everything' }],
      ['POST', '/api/v1/admin/workloads/some-client/disable', {}],
      ['POST', '/api/v1/admin/workloads/some-client/enable', {}],
      ['POST', '/api/v1/admin/api-keys/some-key/revoke', {}],
    ];
    for (const [method, url, body] of changes) {
      const response = await send(method, url, admin.cookie, body);
      expect(response.statusCode, url).toBe(403);
      expect(response.json().error, url).toBe('fresh_auth_required');
    }
    // The services refuse too, whatever route or command calls them.
    const [name, value] = admin.cookie.split('=') as [string, string];
    expect(name).toBeTruthy();
    const active = await resolveSession(t.deps, decodeURIComponent(value));
    expect(active.ok).toBe(true);
    if (!active.ok) return;
    const actor = { kind: 'admin' as const, active: active.value };
    expect(await adminSetWorkload(t.deps, { actor, clientId: 'some-client', enabled: false })).toMatchObject({ ok: false, code: 'fresh_auth_required' });
    expect(await adminRevokeApiKey(t.deps, { actor, id: 'some-key' })).toMatchObject({ ok: false, code: 'fresh_auth_required' });

    // A new passkey sign-in: the change goes through.
    const fresh = sessionCookie(await signIn(t, admin.authenticator));
    const retried = await send('POST', '/api/v1/admin/workloads/some-client/disable', fresh);
    expect(retried.json().error).toBe('workload_not_found');
    const updated = await send('PATCH', '/api/v1/admin/accounts/mel', fresh, { email: 'mel@example.test' });
    expect(updated.statusCode, updated.body).toBe(200);
  });

  it('exports the audit trail as JSON lines with its filters, and refuses a bad filter with 400', async () => {
    const response = await t.get('/api/v1/admin/audit?type=account.*&account=mel', admin.cookie);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(response.headers['content-disposition']).toMatch(/attachment/);
    const lines = response.body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; username: string; details: { changes?: unknown } });
    expect(lines.map((l) => l.type)).toEqual(['account.created', 'account.enrolled', 'account.updated']);
    expect(lines.every((l) => l.username === 'mel')).toBe(true);
    expect(lines[2]).toMatchObject({ username: 'mel', details: { changes: { email: { from: null, to: 'mel@example.test' } } } });
    const signIns = (await t.get('/api/v1/admin/audit?type=sign_in&limit=1', admin.cookie)).body.trim().split('\n');
    expect(signIns).toHaveLength(1);
    expect((await t.get('/api/v1/admin/audit?since=yesterday', admin.cookie)).statusCode).toBe(400);
    expect((await t.get('/api/v1/admin/audit?account=nobody', admin.cookie)).json().error).toBe('account_not_found');
    expect((await t.get('/api/v1/admin/audit?type=%3Cscript%3E', admin.cookie)).statusCode).toBe(400);
  });
});
