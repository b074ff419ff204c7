/**
 * SCIM goes through the same gates as the rest of Keybound (docs/scim.md), on SQLite and
 * PostgreSQL: it never raises an account to admin (no group, user attribute or create does), never
 * brings an offboarded account back nor resumes one an administrator suspended, and an email change it makes is audited with the old and new
 * address and told to the holder at the old one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/services/adminAccess.ts';
import { suspendAccount } from '../../src/services/lifecycle.ts';
import { ManualClock, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { provisioningKey } from './support.ts';
import { startMailSink, type MailSink } from '../codes/support.ts';
import { PATCH_OP } from '../fixtures/scim/sequences.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe.each(BACKENDS)('SCIM governance on %s', (backend) => {
  let t: TestApp;
  let mail: MailSink;
  let key: string;
  let keyId: string;

  const scim = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });

  beforeAll(async () => {
    mail = await startMailSink();
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_SMTP_URL: mail.url } });
    ({ key, id: keyId } = await provisioningKey(t));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  it('never raises an account to admin: not by a group, a user\'s groups, a PUT or a create; and asks for no approval either', async () => {
    const made = await scim('POST', '/scim/v2/Users', { schemas: [USER], userName: 'climber', groups: [{ value: 'admin' }], roles: [{ value: 'admin' }] });
    expect(made.statusCode, made.body).toBe(201);
    const id = made.json().id as string;
    expect(made.json().groups).toMatchObject([{ value: 'member' }]);
    const attempts = [
      scim('PATCH', '/scim/v2/Groups/admin', { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] }),
      scim('PATCH', '/scim/v2/Groups/admin', { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { members: [{ value: id }] } }] }),
      scim('PATCH', `/scim/v2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'groups', value: [{ value: 'admin' }] }] }),
      scim('PATCH', `/scim/v2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', value: { groups: [{ value: 'admin' }] } }] }),
    ];
    for (const r of await Promise.all(attempts)) expect([403, 400], r.body).toContain(r.statusCode);
    const put = await scim('PUT', `/scim/v2/Users/${id}`, { schemas: [USER], userName: 'climber', groups: [{ value: 'admin' }] });
    expect(put.json().groups).toMatchObject([{ value: 'member' }]);
    expect((await t.store.accounts.findById(id))?.role).toBe('member');
    expect(await t.store.approvals.list({ kind: 'role', accountId: id, limit: 5 })).toEqual([]);
  });

  it('never brings an offboarded account back: its id is gone, its userName stays taken', async () => {
    const id = (await scim('POST', '/scim/v2/Users', { schemas: [USER], userName: 'leaver' })).json().id as string;
    expect((await scim('DELETE', `/scim/v2/Users/${id}`)).statusCode).toBe(204);
    expect((await scim('PATCH', `/scim/v2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] })).statusCode).toBe(404);
    expect((await scim('PUT', `/scim/v2/Users/${id}`, { schemas: [USER], userName: 'leaver', active: true })).statusCode).toBe(404);
    expect((await scim('DELETE', `/scim/v2/Users/${id}`)).statusCode).toBe(404);
    expect((await scim('GET', `/scim/v2/Users/${id}`)).statusCode).toBe(404);
    const again = await scim('POST', '/scim/v2/Users', { schemas: [USER], userName: 'leaver', active: true });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ keyboundError: 'scim_uniqueness' });
    expect((await t.store.accounts.findById(id))?.status).toBe('offboarded');
  });

  it('an email change is audited with the old and new address and the SCIM credential, and told at the old address', async () => {
    const id = (await scim('POST', '/scim/v2/Users', { schemas: [USER], userName: 'mover', emails: [{ value: 'old@mover.example' }] })).json().id as string;
    await mail.messageFor('old@mover.example');
    const sent = mail.messages.length;
    const changed = await scim('PATCH', `/scim/v2/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'new@mover.example' }] });
    expect(changed.statusCode, changed.body).toBe(200);
    const [event] = await t.store.audit.list({ accountId: id, type: 'account.updated', limit: 5 });
    expect(event?.details).toMatchObject({ by: `scim:key:${keyId}`, changes: { email: { from: 'old@mover.example', to: 'new@mover.example' } } });
    const notice = await mail.messageFor('old@mover.example', sent);
    expect(notice.raw).toMatch(/account details changed/i);
  });

  it('resumes what provisioning suspended, never what an administrator suspended', async () => {
    const active = (value: boolean) => ({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value }] });
    const id = (await scim('POST', '/scim/v2/Users', { schemas: [USER], userName: 'paused' })).json().id as string;
    expect((await scim('PATCH', `/scim/v2/Users/${id}`, active(false))).json().active).toBe(false);
    expect((await scim('PATCH', `/scim/v2/Users/${id}`, active(true))).json().active).toBe(true);
    expect((await suspendAccount(t.deps, { username: 'paused', actor: CLI_ACTOR, context: { ip: '192.0.2.1', userAgent: 'test' }, reason: 'incident 7' })).ok).toBe(true);
    const refused = await scim('PATCH', `/scim/v2/Users/${id}`, active(true));
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ keyboundError: 'account_status_conflict' });
    expect((await scim('PUT', `/scim/v2/Users/${id}`, { schemas: [USER], userName: 'paused', active: true })).statusCode).toBe(409);
    expect((await t.store.accounts.findById(id))?.status).toBe('suspended');
  });
});
