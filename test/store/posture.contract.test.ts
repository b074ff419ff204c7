/**
 * The posture read port (src/store/sql/posture.ts, issue 16) on SQLite and PostgreSQL: sign-ins
 * counted by the database per UTC day, method and level, only successful ones inside the window
 * and no recovery sessions; active accounts by role and the factors they hold (each account once
 * per kind, however many of that kind it has); first passkeys by day; credential counts.
 */
import { describe, expect, it } from 'vitest';
import { pendingAuthenticator } from '../../src/codes/factors.ts';
import type { Account, Passkey } from '../../src/core/model.ts';
import type { Store } from '../../src/store/index.ts';
import { BACKENDS } from '../helpers/db.ts';
import { useFreshStore } from '../helpers/store.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 10);
const D0 = T0 / DAY;
const account = (n: number, fields: Partial<Account> = {}): Account => ({ id: `acct-${n}`, username: `user${n}`, displayName: `User ${n}`, role: 'member', status: 'active', userHandle: `handle-${n}`, email: null, createdAt: T0, ...fields });
const passkey = (id: string, accountId: string, fields: Partial<Passkey> = {}): Passkey => ({
  id, accountId, credentialId: `cred-${id}`, publicKey: 'x', alg: -7, signCount: 0, transports: [], aaguid: '00000000-0000-0000-0000-000000000000',
  backupEligible: false, backupState: false, userVerified: true, attestationFormat: 'none', attestationTrusted: false, nickname: id, status: 'active', flaggedReason: null, createdAt: T0, lastUsedAt: null, ...fields,
});

describe.each(BACKENDS)('posture store contract on %s', (backend) => {
  let store: Store;
  useFreshStore(backend, (fresh) => ({ store } = fresh));

  it('counts sign-ins per day, method and level, in the window, successful and not recovery', async () => {
    const signIn = (at: number, details: Record<string, unknown>, outcome: 'success' | 'failure' = 'success') => store.audit.append({ type: 'sign_in', outcome, accountId: null, at, details });
    const phr = { method: 'passkey', acr: 'urn:keybound:aal2:phr' };
    await signIn(T0 - 1, phr); // the day before the window
    await signIn(T0, phr);
    await signIn(T0 + 5_000, phr);
    await signIn(T0 + 6_000, { method: 'totp', acr: 'urn:keybound:aal1' });
    await signIn(T0 + DAY + 1, phr);
    await signIn(T0 + DAY + 2, { method: 'sms_code', acr: 'urn:keybound:aal1' }, 'failure');
    await signIn(T0 + DAY + 3, { method: 'recovery_code', acr: 'urn:keybound:aal1', purpose: 'recovery' });
    await store.audit.append({ type: 'session.revoked', outcome: 'success', at: T0 + 7_000, details: phr });
    await signIn(T0 + 2 * DAY, phr); // `until` is exclusive
    const rows = await store.posture.signInsByDay(T0, T0 + 2 * DAY);
    const sorted = [...rows].sort((a, b) => a.day - b.day || a.method.localeCompare(b.method));
    expect(sorted).toEqual([
      { day: D0, method: 'passkey', acr: 'urn:keybound:aal2:phr', count: 2 },
      { day: D0, method: 'totp', acr: 'urn:keybound:aal1', count: 1 },
      { day: D0 + 1, method: 'passkey', acr: 'urn:keybound:aal2:phr', count: 1 },
    ]);
  });

  it('counts accounts by role and the factors they hold, first passkeys by day, and credential facts', async () => {
    await store.accounts.create(account(1, { role: 'admin' }));
    await store.accounts.create(account(2, { role: 'admin' }));
    await store.accounts.create(account(3));
    await store.accounts.create(account(4));
    await store.accounts.create(account(5, { status: 'suspended' }));
    await store.passkeys.insert(passkey('a1', 'acct-1', { attestationTrusted: true }));
    await store.passkeys.insert(passkey('a1b', 'acct-1', { createdAt: T0 + 3 * DAY }));
    await store.passkeys.insert(passkey('a2', 'acct-2', { backupEligible: true, createdAt: T0 + DAY }));
    await store.passkeys.insert(passkey('m3', 'acct-3', { backupEligible: true, createdAt: T0 + DAY, userVerified: false }));
    await store.passkeys.insert(passkey('m3old', 'acct-3', { status: 'disabled', createdAt: T0 - DAY }));
    await store.passkeys.insert(passkey('s5', 'acct-5'));
    await store.authenticators.insert({ ...pendingAuthenticator({ id: 't3', accountId: 'acct-3', kind: 'totp', now: T0 }), status: 'active' });
    await store.authenticators.insert({ ...pendingAuthenticator({ id: 't4', accountId: 'acct-4', kind: 'totp', now: T0 }), status: 'active' });
    await store.authenticators.insert(pendingAuthenticator({ id: 'p4', accountId: 'acct-4', kind: 'sms_code', now: T0, destination: '+441234567890' }));
    await store.accounts.recordSignIn('acct-1', T0 + 5 * DAY);

    const holders = Object.fromEntries((await store.posture.factorHolders()).map((h) => [h.role, h]));
    expect(holders.admin).toEqual({ role: 'admin', accounts: 2, factors: { passkey_device_bound: 1, passkey_syncable: 1 } });
    expect(holders.member).toEqual({ role: 'member', accounts: 2, factors: { passkey_syncable: 1, totp: 2 } });

    // First passkeys of active accounts: acct-3's first was the disabled one, the day before T0.
    expect(await store.posture.firstPasskeys(T0)).toEqual({ before: 1, byDay: [{ day: D0, accounts: 1 }, { day: D0 + 1, accounts: 1 }] });

    const facts = await store.posture.credentialFacts({ signedInSince: T0 + 4 * DAY, now: T0 + 6 * DAY });
    expect(facts).toMatchObject({ adminsOnlySyncable: 1, activeWithoutPasskey: 1, passkeysWithoutUv: 1, passkeys: 5, passkeysTrusted: 1, endedWithLiveSessions: 0, enabledStreams: 0 });
    expect(facts.adminsNotSignedInSince).toBe(1);
  });
});
