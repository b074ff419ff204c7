/**
 * SCIM 2.0 (issue 17, docs/scim.md) in-process on SQLite and PostgreSQL: the Entra ID and Okta
 * sequences (test/fixtures/scim/sequences.ts) against real accounts, the credential rules (API key
 * or client-credentials token, scope scim), the SCIM error format, filters, pagination and ETags.
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireDeclaredApiRoutes } from '../../src/http/registrar.ts';
import { SCIM_ROUTES } from '../../src/scim/routes.ts';
import { createApiKey } from '../../src/services/nhi/apiKeys.ts';
import { enrol, ManualClock, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { provisioningKey } from './support.ts';
import { startMailSink, type MailSink } from '../codes/support.ts';
import { clientToken, ssfClient } from '../ssf/support.ts';
import { entra, okta, PATCH_OP } from '../fixtures/scim/sequences.ts';
import { expectStringsWithinBounds } from '../reliability/support/bounds.ts';

const SCIM_JSON = 'application/scim+json';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

describe.each(BACKENDS)('SCIM 2.0 on %s', (backend) => {
  let t: TestApp;
  let mail: MailSink;
  let key: string;

  const scim = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}, credential: string | null = key) =>
    t.app.inject({
      method,
      url,
      headers: { ...(credential !== null ? { authorization: `Bearer ${credential}` } : {}), ...(body !== undefined ? { 'content-type': SCIM_JSON } : {}), ...headers },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });

  beforeAll(async () => {
    mail = await startMailSink();
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_SMTP_URL: mail.url, KEYBOUND_API_KEY_ENV: 'test', KEYBOUND_OIDC_ALLOW_SHARED_SECRETS: 'true' } });
    ({ key } = await provisioningKey(t, 'Entra provisioning'));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  it('Entra ID: look up, create (invited, link mailed), PATCH Replace with filtered paths, disable, enable, delete (offboarded)', async () => {
    const none = await scim('GET', entra.lookUp);
    expect(none.statusCode).toBe(200);
    expect(none.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(none.json()).toMatchObject({ totalResults: 0, Resources: [] });

    const created = await scim('POST', '/scim/v2/Users', entra.create);
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json();
    expect(user).toMatchObject({ userName: 'rowan.quill@harbour.example', externalId: 'rquill', active: true, displayName: 'Rowan Quill', name: { givenName: 'Rowan', familyName: 'Quill' }, emails: [{ value: 'Rowan.Quill@harbour.example', primary: true }], groups: [{ value: 'member' }] });
    expect(created.headers.etag).toBe(user.meta.version);
    const account = await t.store.accounts.findById(user.id);
    expect(account).toMatchObject({ status: 'invited', role: 'member' });
    // The enrolment link went by email, and is in neither the answer nor the audit trail.
    const message = await mail.messageFor('Rowan.Quill@harbour.example');
    const link = /https?:\/\/\S+\/enrol\/(\S+)/.exec(message.raw.replace(/=\r?\n/g, ''));
    expect(link).not.toBeNull();
    expect(created.body).not.toContain(link![1]);
    const trail = JSON.stringify(await t.store.audit.list({ accountId: user.id, limit: 50 }));
    expect(trail).not.toContain(link![1]);
    expect(trail).toContain('scim:key:');

    const found = await scim('GET', entra.lookUp);
    expect(found.json()).toMatchObject({ totalResults: 1, Resources: [{ id: user.id }] });
    // Entra repeats a create when its look-up missed: the userName is taken.
    const again = await scim('POST', '/scim/v2/Users', entra.create);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });

    const patched = await scim('PATCH', `/scim/v2/Users/${user.id}`, entra.replaceAttributes);
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ emails: [{ value: 'rowan.q@harbour.example' }], name: { givenName: 'Ro', familyName: 'Quill' }, displayName: 'Ro Quill', externalId: 'rquill-2' });
    expect(await t.store.accounts.findById(user.id)).toMatchObject({ email: 'rowan.q@harbour.example', displayName: 'Ro Quill' });
    expect(patched.headers.etag).not.toBe(created.headers.etag);

    const disabled = await scim('PATCH', `/scim/v2/Users/${user.id}`, entra.disable);
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect(disabled.json().active).toBe(false);
    expect((await t.store.accounts.findById(user.id))?.status).toBe('suspended');
    const enabled = await scim('PATCH', `/scim/v2/Users/${user.id}`, entra.enable);
    expect(enabled.json().active).toBe(true);
    expect((await t.store.accounts.findById(user.id))?.status).toBe('invited');

    const deleted = await scim('DELETE', `/scim/v2/Users/${user.id}`);
    expect(deleted.statusCode).toBe(204);
    expect((await t.store.accounts.findById(user.id))?.status).toBe('offboarded');
    const gone = await scim('GET', `/scim/v2/Users/${user.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ schemas: [ERROR], status: '404' });
    const events = (await t.store.audit.list({ accountId: user.id, limit: 50 })).map((e) => [e.type, (e.details as { by?: string }).by]);
    for (const type of ['account.created', 'account.updated', 'scim.user_updated', 'account.suspended', 'account.resumed', 'account.offboarded']) {
      expect(events.find(([t]) => t === type)?.[1], type).toMatch(/^scim:key:ak_/);
    }
  });

  it('Okta: look up with startIndex and count, create (password ignored), PUT, deactivate and reactivate by path-less replace, with a client-credentials token', async () => {
    const client = await ssfClient(t, ['scim']);
    const token = await clientToken(t, client, 'scim');
    const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) => scim(method, url, body, {}, token);
    expect((await call('GET', okta.lookUp)).json()).toMatchObject({ totalResults: 0, startIndex: 1 });
    const created = await call('POST', '/scim/v2/Users', okta.create);
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    expect(created.body).not.toContain('Correct-Horse-9');
    expect((await call('GET', okta.lookUp)).json()).toMatchObject({ totalResults: 1, itemsPerPage: 1, Resources: [{ id, externalId: '00u8marshjuno' }] });

    const put = await call('PUT', `/scim/v2/Users/${id}`, okta.put(id));
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ name: { familyName: 'Marsh-Reed' }, displayName: 'Juno Marsh-Reed' });

    const off = await call('PATCH', `/scim/v2/Users/${id}`, okta.deactivate);
    expect(off.statusCode, off.body).toBe(200);
    expect((await t.store.accounts.findById(id))?.status).toBe('suspended');
    // A PUT that leaves active out does not resume a suspended account.
    const { active: _omitted, ...withoutActive } = okta.put(id);
    expect((await call('PUT', `/scim/v2/Users/${id}`, withoutActive)).json().active).toBe(false);
    expect((await t.store.accounts.findById(id))?.status).toBe('suspended');
    const on = await call('PATCH', `/scim/v2/Users/${id}`, okta.reactivate);
    expect(on.json().active).toBe(true);
    const got = await call('GET', `/scim/v2/Users/${id}`);
    expect(got.headers.etag).toBe(on.headers.etag);
    const [event] = await t.store.audit.list({ accountId: id, type: 'account.resumed', limit: 1 });
    expect((event!.details as { by: string }).by).toBe(`scim:client:${client.clientId}`);
  });

  it('refuses without a credential (401), with a credential lacking scope scim (403), in the SCIM error format', async () => {
    const none = await scim('GET', '/scim/v2/Users', undefined, {}, null);
    expect([none.statusCode, none.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    expect(none.json()).toMatchObject({ schemas: [ERROR], status: '401' });
    const other = await createApiKey(t.deps, { owner: 'owner', name: 'reader', scopes: ['read'], by: 'test' });
    const wrong = await scim('GET', '/scim/v2/Users', undefined, {}, other.ok ? other.value.key : '');
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ schemas: [ERROR], status: '403', keyboundError: 'scim_scope_required' });
    const client = await ssfClient(t, ['ssf']);
    const token = await clientToken(t, client, 'ssf');
    const wrongToken = await scim('GET', '/scim/v2/Users', undefined, {}, token);
    expect(wrongToken.statusCode).toBe(403);
    expect((await scim('GET', '/scim/v2/Users', undefined, {}, 'kb_test_notarealkeynotarealkeynotarealk_abcdef')).statusCode).toBe(401);
  });

  it('answers a bad or unsupported filter with 400 invalidFilter', async () => {
    for (const filter of ['userName eq', 'userName sw "a"', 'name.familyName eq "x"', '(((']) {
      const r = await scim('GET', `/scim/v2/Users?filter=${encodeURIComponent(filter)}`);
      expect(r.statusCode, filter).toBe(400);
      expect(r.json(), filter).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter' });
    }
  });

  it('pages with startIndex and count, and filters on emails and externalId', async () => {
    for (const n of [1, 2, 3]) expect((await scim('POST', '/scim/v2/Users', { schemas: [entra.create.schemas[0]], userName: `pager${n}`, emails: [{ value: `pager${n}@page.example` }], externalId: `ext-${n}` })).statusCode).toBe(201);
    const page = await scim('GET', '/scim/v2/Users?startIndex=2&count=2');
    const all = (await scim('GET', '/scim/v2/Users?count=200')).json();
    expect(page.json()).toMatchObject({ totalResults: all.totalResults, startIndex: 2, itemsPerPage: 2 });
    expect(page.json().Resources.map((r: { id: string }) => r.id)).toEqual(all.Resources.slice(1, 3).map((r: { id: string }) => r.id));
    expect((await scim('GET', '/scim/v2/Users?count=0')).json()).toMatchObject({ totalResults: all.totalResults, itemsPerPage: 0 });
    const byEmail = await scim('GET', `/scim/v2/Users?filter=${encodeURIComponent('emails[type eq "work" and value eq "PAGER2@page.example"]')}`);
    expect(byEmail.json()).toMatchObject({ totalResults: 1, Resources: [{ userName: 'pager2' }] });
    expect((await scim('GET', `/scim/v2/Users?filter=${encodeURIComponent('externalId eq "ext-3"')}`)).json()).toMatchObject({ totalResults: 1, Resources: [{ userName: 'pager3' }] });
    expect((await scim('GET', '/scim/v2/Users?count=abc')).statusCode).toBe(400);
  });

  it('of five racing creates of one userName, one is 201 and the others 409 uniqueness; one account, one link', async () => {
    const body = { userName: 'racer', emails: [{ value: 'racer@race.example' }] };
    const answers = await Promise.all(Array.from({ length: 5 }, () => scim('POST', '/scim/v2/Users', body)));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const a of answers.filter((x) => x.statusCode === 409)) expect(a.json()).toMatchObject({ scimType: 'uniqueness' });
    await mail.messageFor('racer@race.example');
    expect(mail.messages.filter((m) => m.to.includes('racer@race.example'))).toHaveLength(1);
  });

  it('honours If-Match: a stale version is 412 and changes nothing', async () => {
    const created = (await scim('POST', '/scim/v2/Users', { userName: 'etag.user', displayName: 'Before' })).json();
    const first = created.meta.version as string;
    expect(first).toMatch(/^W\/"/);
    const changed = await scim('PATCH', `/scim/v2/Users/${created.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'After' }] }, { 'if-match': first });
    expect(changed.statusCode, changed.body).toBe(200);
    const stale = await scim('PATCH', `/scim/v2/Users/${created.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Lost' }] }, { 'if-match': first });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ schemas: [ERROR], status: '412' });
    expect((await scim('DELETE', `/scim/v2/Users/${created.id}`, undefined, { 'if-match': first })).statusCode).toBe(412);
    expect((await t.store.accounts.findById(created.id))?.displayName).toBe('After');
    // Two writers from one version: one goes on, the other is 412.
    const version = changed.headers.etag as string;
    const racing = await Promise.all(['One', 'Two', 'Three'].map((value) => scim('PATCH', `/scim/v2/Users/${created.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value }] }, { 'if-match': version })));
    expect(racing.map((r) => r.statusCode).sort()).toEqual([200, 412, 412]);
    const winner = racing.find((r) => r.statusCode === 200)!;
    expect((await t.store.accounts.findById(created.id))?.displayName).toBe(winner.json().displayName);
    expect((await scim('DELETE', `/scim/v2/Users/${created.id}`, undefined, { 'if-match': winner.headers.etag as string })).statusCode).toBe(204);
  });

  it('keeps administrators out of reach, and maps groups to roles', async () => {
    await enrol(t, 'boss', undefined, 'admin');
    const boss = (await scim('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "boss"')}`)).json().Resources[0];
    expect(boss.groups).toMatchObject([{ value: 'admin' }]);
    const r = await scim('PATCH', `/scim/v2/Users/${boss.id}`, okta.deactivate);
    expect(r.statusCode).toBe(403);
    expect((await scim('DELETE', `/scim/v2/Users/${boss.id}`)).statusCode).toBe(403);
    expect((await t.store.accounts.findById(boss.id))?.status).toBe('active');
    const groups = (await scim('GET', '/scim/v2/Groups')).json();
    expect(groups.Resources.map((g: { id: string }) => g.id)).toEqual(['admin', 'member']);
    expect((await scim('GET', `/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "member"')}`)).json().totalResults).toBe(1);
    const admin = await scim('GET', '/scim/v2/Groups/admin');
    expect(admin.json().members.map((m: { display: string }) => m.display)).toContain('boss');
    const someone = (await scim('POST', '/scim/v2/Users', { userName: 'grouped' })).json();
    const raise = await scim('PATCH', '/scim/v2/Groups/admin', { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: someone.id }] }] });
    expect(raise.statusCode).toBe(403);
    expect((await t.store.accounts.findById(someone.id))?.role).toBe('member');
  });

  it('every SCIM route but the three discovery documents needs the credential; a SCIM route registered by hand stops the start', async () => {
    const open = SCIM_ROUTES.filter((r) => r.access === 'anyone').map((r) => r.path);
    expect(open).toEqual(['/ServiceProviderConfig', '/ResourceTypes', '/Schemas']);
    for (const r of SCIM_ROUTES.filter((x) => x.access === 'scim')) {
      const url = `/scim/v2${r.path.replace(':id', 'member')}`;
      const answer = await scim(r.method, url, r.method === 'GET' || r.method === 'DELETE' ? undefined : { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [] }], userName: 'x' }, {}, null);
      expect(answer.statusCode, `${r.method} ${url}`).toBe(401);
    }
    const app = Fastify();
    requireDeclaredApiRoutes(app);
    expect(() => app.get('/scim/v2/Backdoor', async () => ({}))).toThrow(/declared/);
    await app.close();
  });

  it('publishes its configuration, resource types and schemas; bad bodies are SCIM errors', async () => {
    const config = await scim('GET', '/scim/v2/ServiceProviderConfig', undefined, {}, null);
    expect(config.json()).toMatchObject({ patch: { supported: true }, filter: { supported: true }, etag: { supported: true }, bulk: { supported: false } });
    expect((await scim('GET', '/scim/v2/ResourceTypes')).json().totalResults).toBe(2);
    expect((await scim('GET', '/scim/v2/Schemas')).json().totalResults).toBe(2);
    const long = await scim('POST', '/scim/v2/Users', { userName: 'long.ext', externalId: 'x'.repeat(256) });
    expect(long.json()).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidValue' });
    const noName = await scim('POST', '/scim/v2/Users', { displayName: 'Nobody' });
    expect(noName.json()).toMatchObject({ status: '400', scimType: 'invalidValue' });
    const form = await t.app.inject({ method: 'POST', url: '/scim/v2/Users', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' }, payload: 'userName=x' });
    expect(form.statusCode).toBe(415);
    const badPatch = await scim('PATCH', '/scim/v2/Users/nope', { schemas: [PATCH_OP], Operations: [{ op: 'move', path: 'x' }] });
    expect(badPatch.statusCode).toBe(404);
    expect((await scim('GET', '/scim/v2/Nothing')).json()).toMatchObject({ schemas: [ERROR], status: '404' });
  });

  it('stores the longest values it accepts within their declared bounds, and refuses longer ones', async ({ task }) => {
    const longest = { userName: `b${'o'.repeat(62)}x`, externalId: 'e'.repeat(255), name: { givenName: 'g'.repeat(128), familyName: 'f'.repeat(128) }, displayName: 'd'.repeat(128), emails: [{ value: `${'m'.repeat(64)}@${'h'.repeat(180)}.example`, type: 'work' }] };
    const made = await scim('POST', '/scim/v2/Users', longest);
    expect(made.statusCode, made.body).toBe(201);
    for (const over of [{ externalId: 'e'.repeat(256) }, { name: { givenName: 'g'.repeat(129) } }, { userName: 'u'.repeat(65) }]) {
      const r = await scim('PATCH', `/scim/v2/Users/${made.json().id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: over }] });
      expect(r.statusCode, JSON.stringify(over).slice(0, 40)).toBe(400);
    }
    await expectStringsWithinBounds(t.database.url, task);
  });
});
