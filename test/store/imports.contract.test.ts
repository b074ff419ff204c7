/**
 * The store ports of importing (migration 019, services/import and services/migration), on SQLite
 * and PostgreSQL: the old password hash is removed exactly once under any concurrency, adoption
 * counts by role and passkey, and retiring disables only the kinds asked for, once.
 */
import { describe, expect, it } from 'vitest';
import type { Account, CodeAuthenticator } from '../../src/core/model.ts';
import type { Store } from '../../src/store/index.ts';
import { BACKENDS } from '../helpers/db.ts';
import { useFreshStore } from '../helpers/store.ts';

const T0 = Date.UTC(2026, 0, 1);
let serial = 0;
const anAccount = (fields: Partial<Account> = {}): Account => {
  const n = ++serial;
  return { id: `acc-${n}`, username: `user${n}`, displayName: `User ${n}`, role: 'member', status: 'invited', userHandle: `h-${n}`, email: null, createdAt: T0, ...fields };
};
const anAuthenticator = (accountId: string, fields: Partial<CodeAuthenticator> = {}): CodeAuthenticator => ({
  id: `auth-${++serial}`, accountId, kind: 'totp', status: 'active', secret: null, totp: null, destination: null,
  lastStep: null, failures: 0, disabledReason: null, createdAt: T0 + serial, confirmedAt: T0, lastUsedAt: null, ...fields,
});

describe.each(BACKENDS)('import store contract on %s', (backend) => {
  let store: Store;
  useFreshStore(backend, (fresh) => ({ store } = fresh));

  const imported = async (fields: Partial<Account> = {}, passwordHash: string | null = '$2b$04$x') => {
    const account = anAccount(fields);
    await store.accounts.create(account);
    await store.imports.insert({ accountId: account.id, source: 'csv', externalId: null, passwordHash, phone: '+15550100', importedAt: T0, passwordRemovedAt: null });
    return account;
  };

  it('removePassword succeeds exactly once, however many race', async () => {
    const account = await imported();
    const results = await Promise.all(Array.from({ length: 8 }, () => store.imports.removePassword(account.id, T0 + 1)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.imports.find(account.id)).toMatchObject({ passwordHash: null, passwordRemovedAt: T0 + 1, phone: '+15550100' });
    expect(await store.imports.removePassword(account.id, T0 + 2)).toBe(false);
  });

  it('adoption counts enrolled and pending accounts per role; suspended and offboarded ones are left out', async () => {
    const enrolled = await imported({ status: 'active' });
    await store.passkeys.insert({
      id: 'pk-1', accountId: enrolled.id, credentialId: 'cred-1', publicKey: 'pk', alg: -7, signCount: 0, transports: [], aaguid: '00000000-0000-0000-0000-000000000000',
      backupEligible: false, backupState: false, userVerified: true, attestationFormat: 'none', attestationTrusted: false, nickname: 'Key', status: 'active', flaggedReason: null, createdAt: T0, lastUsedAt: null,
    });
    await imported();
    await imported({ role: 'admin' });
    await store.accounts.create(anAccount({ role: 'admin' }));
    await imported({ status: 'suspended' });
    await imported({ status: 'offboarded' });
    const counts = await store.imports.adoption();
    expect(counts.find((c) => c.role === 'member')).toEqual({ role: 'member', enrolled: 1, pending: 1, imported: 1 });
    expect(counts.find((c) => c.role === 'admin')).toEqual({ role: 'admin', enrolled: 0, pending: 2, imported: 1 });
  });

  it('disableKinds disables the kinds asked for, active or pending, and reports each once', async () => {
    const account = await imported();
    const totp = anAuthenticator(account.id);
    const sms = anAuthenticator(account.id, { kind: 'sms_code', destination: '+15550100' });
    const email = anAuthenticator(account.id, { kind: 'email_code', destination: 'a@example.test', status: 'pending' });
    for (const a of [totp, sms, email]) await store.authenticators.insert(a);
    const disabled = await store.authenticators.disableKinds(account.id, ['sms_code', 'email_code'], 'retired_on_passkey');
    expect(disabled.map((a) => a.kind).sort()).toEqual(['email_code', 'sms_code']);
    expect((await store.authenticators.findById(totp.id))!.status).toBe('active');
    expect(await store.authenticators.findById(sms.id)).toMatchObject({ status: 'disabled', disabledReason: 'retired_on_passkey' });
    expect(await store.authenticators.disableKinds(account.id, ['sms_code', 'email_code'], 'retired_on_passkey')).toEqual([]);
    expect(await store.authenticators.disableKinds(account.id, [], 'retired_on_passkey')).toEqual([]);
  });
});
