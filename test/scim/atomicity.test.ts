/**
 * A SCIM write is one change (RFC 7644 §3.5.2: "each operation ... is applied in sequence ... if
 * any operation fails, the entire PATCH SHALL NOT be applied"; the same holds for a PUT): its
 * account fields, SCIM attributes, status, version and audit events are committed together or not
 * at all, on SQLite and PostgreSQL; so is a create. Failures are injected in the database (a
 * trigger refusing the suspension) or come from a later, invalid operation.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.ts';
import { enrol, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { provisioningKey } from './support.ts';
import { PATCH_OP } from '../fixtures/scim/sequences.ts';

const SCIM_JSON = 'application/scim+json';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const REFUSED = 'atomic.refused';

/** A trigger that fails any suspension of a username starting with REFUSED: the write after the account's own fields. */
async function refuseSuspensionOf(url: string, backend: string): Promise<void> {
  const db = openDatabase(url);
  try {
    if (backend === 'sqlite') {
      await sql`create trigger refuse_suspension before update of status on accounts for each row when new.status = 'suspended' and old.username like ${sql.lit(`${REFUSED}%`)} begin select raise(abort, 'injected failure'); end`.execute(db.kysely);
    } else {
      await sql`create function refuse_suspension() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`.execute(db.kysely);
      await sql`create trigger refuse_suspension before update on accounts for each row when (new.status = 'suspended' and old.username like ${sql.lit(`${REFUSED}%`)}) execute function refuse_suspension()`.execute(db.kysely);
    }
  } finally {
    await db.close();
  }
}

describe.each(BACKENDS)('SCIM writes are atomic on %s', (backend) => {
  let t: TestApp;
  let key: string;

  const scim = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, body?: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': SCIM_JSON } : {}), ...headers }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });

  /** Everything a failed write must leave as it was. */
  const snapshot = async (id: string) => {
    const got = await scim('GET', `/scim/v2/Users/${id}`);
    return { status: got.statusCode, etag: got.headers.etag, resource: got.json(), account: await t.store.accounts.findById(id), events: (await t.store.audit.list({ accountId: id, limit: 100 })).map((e) => e.type) };
  };

  beforeAll(async () => {
    t = await startTestApp({ backend });
    ({ key } = await provisioningKey(t));
    await refuseSuspensionOf(t.database.url, backend);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('a PATCH or PUT whose suspension fails in the database leaves the names, email, externalId, version and audit trail as they were', async () => {
    const created = await scim('POST', '/scim/v2/Users', { schemas: [USER], userName: REFUSED, displayName: 'Before', externalId: 'ext-before', emails: [{ value: 'before@atomic.example' }] });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const before = await snapshot(id);
    const patch = await scim('PATCH', `/scim/v2/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'After' },
        { op: 'replace', path: 'externalId', value: 'ext-after' },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'after@atomic.example' },
        { op: 'replace', path: 'active', value: false },
      ],
    });
    expect(patch.statusCode).toBe(500);
    expect(await snapshot(id)).toEqual(before);
    const put = await scim('PUT', `/scim/v2/Users/${id}`, { schemas: [USER], userName: REFUSED, displayName: 'After', externalId: 'ext-after', emails: [{ value: 'after@atomic.example' }], active: false });
    expect(put.statusCode).toBe(500);
    expect(await snapshot(id)).toEqual(before);
  });

  it('a create whose suspension (active false) fails in the database leaves no account, no link and no event', async () => {
    const username = `${REFUSED}.new`;
    const events = (await t.store.audit.list({ limit: 1000 })).length;
    const created = await scim('POST', '/scim/v2/Users', { schemas: [USER], userName: username, externalId: 'ext-new', emails: [{ value: 'new@atomic.example' }], active: false });
    expect(created.statusCode).toBe(500);
    expect(await t.store.accounts.findByUsername(username)).toBeUndefined();
    expect((await t.store.audit.list({ limit: 1000 })).length).toBe(events);
    // Nothing half-made stands in the way of the retry (here without the failing suspension).
    expect((await scim('POST', '/scim/v2/Users', { schemas: [USER], userName: username, externalId: 'ext-new' })).statusCode).toBe(201);
  });

  it('a PATCH with If-Match whose later operation is invalid changes nothing, not even the version it named', async () => {
    const created = await scim('POST', '/scim/v2/Users', { schemas: [USER], userName: 'atomic.etag', displayName: 'Before', emails: [{ value: 'etag@atomic.example' }] });
    const id = created.json().id as string;
    const before = await snapshot(id);
    const operations = (email: string) => ({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'After' }, { op: 'replace', path: 'emails[type eq "work"].value', value: email }] });
    const refused = await scim('PATCH', `/scim/v2/Users/${id}`, operations('not an address'), { 'if-match': before.etag as string });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ scimType: 'invalidValue' });
    expect(await snapshot(id)).toEqual(before);
    // The version named is still the current one.
    const applied = await scim('PATCH', `/scim/v2/Users/${id}`, operations('etag2@atomic.example'), { 'if-match': before.etag as string });
    expect(applied.statusCode, applied.body).toBe(200);
    expect(applied.json()).toMatchObject({ displayName: 'After', emails: [{ value: 'etag2@atomic.example' }] });
  });

  it('a group PATCH with one member it cannot take changes none of the others', async () => {
    const one = (await scim('POST', '/scim/v2/Users', { schemas: [USER], userName: 'atomic.member' })).json().id as string;
    const boss = (await enrol(t, 'atomic.boss', undefined, 'admin')).account.id;
    const before = await snapshot(one);
    for (const [members, status] of [[[one, 'no-such-user'], 400], [[one, boss], 403]] as const) {
      const r = await scim('PATCH', '/scim/v2/Groups/member', { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members.map((value) => ({ value })) }] });
      expect(r.statusCode, r.body).toBe(status);
      expect(await snapshot(one)).toEqual(before);
    }
    expect((await t.store.accounts.findById(boss))?.role).toBe('admin');
  });
});
