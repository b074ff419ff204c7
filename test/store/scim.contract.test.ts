/**
 * The store ports of SCIM and adoption reminders (migration 022), on SQLite and PostgreSQL: SCIM
 * fields saved and the version counted up, lists filtered (case-insensitively on userName and email)
 * and paged with a total, offboarded accounts gone; a reminder claimed by exactly one of many racing
 * callers, once ever; pending accounts are imported, live, with an address and no active passkey.
 */
import { describe, expect, it } from 'vitest';
import type { Account } from '../../src/core/model.ts';
import type { Store } from '../../src/store/index.ts';
import { BACKENDS } from '../helpers/db.ts';
import { useFreshStore } from '../helpers/store.ts';

const T0 = Date.UTC(2026, 0, 1);
let serial = 0;
const anAccount = (fields: Partial<Account> = {}): Account => {
  const n = ++serial;
  return { id: `acc-${n}`, username: `user${n}`, displayName: `User ${n}`, role: 'member', status: 'invited', userHandle: `h-${n}`, email: null, createdAt: T0, ...fields };
};

describe.each(BACKENDS)('SCIM and reminder store contract on %s', (backend) => {
  let store: Store;
  useFreshStore(backend, (fresh) => ({ store } = fresh));

  const account = async (fields: Partial<Account> = {}) => {
    const a = anAccount(fields);
    await store.accounts.create(a);
    return a;
  };

  it('saves SCIM fields, keeps absent ones, counts the version up; an account without them reads version 0', async () => {
    const a = await account();
    expect(await store.scim.find(a.id)).toMatchObject({ externalId: null, givenName: null, version: 0 });
    await store.scim.save(a.id, { externalId: 'ext-1', givenName: 'Ada', familyName: 'Quill' }, T0 + 5);
    await store.scim.save(a.id, { givenName: 'Ad' }, T0 + 6);
    expect(await store.scim.find(a.id)).toMatchObject({ externalId: 'ext-1', givenName: 'Ad', familyName: 'Quill', version: 2, updatedAt: T0 + 6 });
    await store.scim.touch(a.id, T0 + 7);
    expect((await store.scim.find(a.id))?.version).toBe(3);
    await store.accounts.setStatus(a.id, 'offboarded', T0 + 8);
    expect(await store.scim.find(a.id)).toBeUndefined();
  });

  it('claimVersion: of writers racing from one version exactly one wins, from no row and from a row', async () => {
    const a = await account();
    const first = await Promise.all(Array.from({ length: 6 }, () => store.scim.claimVersion(a.id, 0, T0)));
    expect(first.filter(Boolean)).toHaveLength(1);
    const second = await Promise.all(Array.from({ length: 6 }, () => store.scim.claimVersion(a.id, 1, T0 + 1)));
    expect(second.filter(Boolean)).toHaveLength(1);
    expect((await store.scim.find(a.id))?.version).toBe(2);
    expect(await store.scim.claimVersion(a.id, 1, T0 + 2)).toBe(false);
  });

  it('lists by username with a total, filtered case-insensitively on userName and email, exactly on externalId', async () => {
    const accounts = [];
    for (const n of [3, 1, 2]) accounts.push(await account({ username: `page${n}`, email: `Page${n}@Example.test` }));
    await store.scim.save(accounts[0]!.id, { externalId: 'X-3' }, T0);
    await account({ username: 'gone', status: 'offboarded' });
    const all = await store.scim.list({ offset: 0, limit: 10 });
    expect(all.total).toBe(3);
    expect(all.records.map((r) => r.account.username)).toEqual(['page1', 'page2', 'page3']);
    expect((await store.scim.list({ offset: 1, limit: 1 })).records.map((r) => r.account.username)).toEqual(['page2']);
    expect(await store.scim.list({ offset: 0, limit: 0 })).toEqual({ total: 3, records: [] });
    expect((await store.scim.list({ userName: 'PAGE2', offset: 0, limit: 10 })).records.map((r) => r.account.username)).toEqual(['page2']);
    expect((await store.scim.list({ email: 'page1@example.test', offset: 0, limit: 10 })).total).toBe(1);
    expect((await store.scim.list({ externalId: 'X-3', offset: 0, limit: 10 })).records[0]?.account.username).toBe('page3');
    expect((await store.scim.list({ externalId: 'x-3', offset: 0, limit: 10 })).total).toBe(0);
    expect((await store.scim.list({ userName: 'gone', offset: 0, limit: 10 })).total).toBe(0);
  });

  it('a reminder is claimed by exactly one of many racing callers, and never again', async () => {
    const a = await account();
    const results = await Promise.all(Array.from({ length: 8 }, () => store.adoptionReminders.claim(a.id, 7, T0)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.adoptionReminders.claim(a.id, 7, T0 + 1)).toBe(false);
    expect(await store.adoptionReminders.claimed(a.id, 7)).toBe(true);
    expect(await store.adoptionReminders.claimed(a.id, 1)).toBe(false);
    expect(await store.adoptionReminders.claim(a.id, 1, T0 + 2)).toBe(true);
  });

  it('pending: imported, invited or active, with an address, without an active passkey, of the role', async () => {
    const mk = async (fields: Partial<Account>, importIt = true) => {
      const a = await account(fields);
      if (importIt) await store.imports.insert({ accountId: a.id, source: 'csv', externalId: null, passwordHash: null, phone: null, importedAt: T0, passwordRemovedAt: null });
      return a;
    };
    const due = await mk({ email: 'a@x.test' });
    await mk({ email: null });
    await mk({ email: 'b@x.test', status: 'suspended' });
    await mk({ email: 'c@x.test' }, false);
    await mk({ email: 'd@x.test', role: 'admin' });
    const enrolled = await mk({ email: 'e@x.test', status: 'active' });
    await store.passkeys.insert({
      id: 'pk-1', accountId: enrolled.id, credentialId: 'cred-1', publicKey: 'pk', alg: -7, signCount: 0, transports: [], aaguid: '00000000-0000-0000-0000-000000000000',
      backupEligible: false, backupState: false, userVerified: true, attestationFormat: 'none', attestationTrusted: false, nickname: 'Key', status: 'active', flaggedReason: null, createdAt: T0, lastUsedAt: null,
    });
    expect((await store.adoptionReminders.pending('member', 7, 10)).map((a) => a.id)).toEqual([due.id]);
    await store.adoptionReminders.claim(due.id, 7, T0);
    expect(await store.adoptionReminders.pending('member', 7, 10)).toEqual([]);
    expect((await store.adoptionReminders.pending('member', 1, 10)).map((a) => a.id)).toEqual([due.id]);
  });
});
