/**
 * The store ports account administration uses (migration 010, services/lifecycle.ts), on SQLite and
 * PostgreSQL: recording a sign-in only while the account is active, searching accounts (LIKE's own
 * characters taken literally), changing details, and the bulk revocations offboarding runs.
 */
import { describe, expect, it } from 'vitest';
import { ACR } from '../../src/core/assurance/level.ts';
import type { Account, CodeAuthenticator, Passkey, Session } from '../../src/core/model.ts';
import type { Store } from '../../src/store/index.ts';
import { LAST_SIGN_IN_RESOLUTION_MS } from '../../src/store/sql/accounts.ts';
import { BACKENDS } from '../helpers/db.ts';
import { useFreshStore } from '../helpers/store.ts';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
let serial = 0;

const anAccount = (fields: Partial<Account> = {}): Account => {
  const n = ++serial;
  return { id: `acc-${n}`, username: `user${n}`, displayName: `User ${n}`, role: 'member', status: 'active', userHandle: `h-${n}`, email: null, createdAt: T0, ...fields };
};

const aPasskey = (accountId: string, fields: Partial<Passkey> = {}): Passkey => {
  const n = ++serial;
  return {
    id: `pk-${n}`, accountId, credentialId: `cred-${n}`, publicKey: 'pk', alg: -7, signCount: 0, transports: [], aaguid: '00000000-0000-0000-0000-000000000000',
    backupEligible: false, backupState: false, userVerified: true, attestationFormat: 'none', attestationTrusted: false, nickname: `Key ${n}`,
    status: 'active', flaggedReason: null, createdAt: T0 + n, lastUsedAt: null, ...fields,
  };
};

const anAuthenticator = (accountId: string, fields: Partial<CodeAuthenticator> = {}): CodeAuthenticator => ({
  id: `auth-${++serial}`, accountId, kind: 'totp', status: 'active', secret: 'v1.sealed', totp: { algorithm: 'SHA1', digits: 6, period: 30 }, destination: null,
  lastStep: null, failures: 0, disabledReason: null, createdAt: T0 + serial, confirmedAt: T0, lastUsedAt: null, ...fields,
});

const aSession = (accountId: string, fields: Partial<Session> = {}): Session => {
  const n = ++serial;
  return {
    id: `ses-${n}`, accountId, secretHash: `s-${n}`, aal: 2, acr: ACR.aal2PhishingResistant, amr: ['hwk'], authTime: T0, passkeyId: null, createdAt: T0, lastSeenAt: T0,
    idleExpiresAt: T0 + HOUR, expiresAt: T0 + 2 * HOUR, ip: '', userAgent: '', revokedAt: null, purpose: 'sign_in', ...fields,
  };
};

describe.each(BACKENDS)('account administration store contract on %s', (backend) => {
  let store: Store;
  useFreshStore(backend, (fresh) => ({ store } = fresh));

  it('recordSignIn records the time only while the account is active', async () => {
    const active = anAccount();
    const suspended = anAccount({ status: 'suspended' });
    for (const a of [active, suspended]) await store.accounts.create(a);
    expect((await store.accounts.findById(active.id))?.lastSignInAt).toBeUndefined();
    expect(await store.accounts.recordSignIn(active.id, T0 + 5)).toEqual({ liveSessions: 0 });
    expect(await store.accounts.recordSignIn(suspended.id, T0 + 5)).toBeNull();
    expect(await store.accounts.recordSignIn('nobody', T0 + 5)).toBeNull();
    expect((await store.accounts.findById(active.id))?.lastSignInAt).toBe(T0 + 5);
    expect((await store.accounts.findById(suspended.id))?.lastSignInAt).toBeUndefined();
  });

  it('recordSignIn keeps the last sign-in to the hour: a sign-in within an hour of the recorded one leaves it', async () => {
    const account = anAccount();
    await store.accounts.create(account);
    const lastSignIn = async () => (await store.accounts.findById(account.id))?.lastSignInAt;
    expect(await store.accounts.recordSignIn(account.id, T0)).toEqual({ liveSessions: 0 });
    expect(await lastSignIn()).toBe(T0);
    expect(LAST_SIGN_IN_RESOLUTION_MS).toBe(HOUR);
    // Still held and counted, but the row is not written.
    expect(await store.accounts.recordSignIn(account.id, T0 + HOUR - 1)).toEqual({ liveSessions: 0 });
    expect(await lastSignIn()).toBe(T0);
    expect(await store.accounts.recordSignIn(account.id, T0 + HOUR)).toEqual({ liveSessions: 0 });
    expect(await lastSignIn()).toBe(T0 + HOUR);
    // A clock behind the recorded time (another instance's) never moves it back.
    expect(await store.accounts.recordSignIn(account.id, T0)).toEqual({ liveSessions: 0 });
    expect(await lastSignIn()).toBe(T0 + HOUR);
    // Not active: nothing recorded, however old the last sign-in.
    expect(await store.accounts.setStatus(account.id, 'suspended', T0 + 3 * HOUR)).toBe(true);
    expect(await store.accounts.recordSignIn(account.id, T0 + 3 * HOUR)).toBeNull();
    expect(await lastSignIn()).toBe(T0 + HOUR);
  });

  it('recordSignIn counts the live sessions it holds the account for: not revoked, expired or idle-expired ones, nor other accounts\'', async () => {
    const account = anAccount();
    const other = anAccount();
    for (const a of [account, other]) await store.accounts.create(a);
    const now = T0 + HOUR;
    const sessions = [
      aSession(account.id, { expiresAt: now + HOUR, idleExpiresAt: now + HOUR }),
      aSession(account.id, { expiresAt: now + HOUR, idleExpiresAt: now + HOUR }),
      aSession(account.id, { expiresAt: now + HOUR, idleExpiresAt: now + HOUR, revokedAt: T0 }),
      aSession(account.id, { expiresAt: now, idleExpiresAt: now }),
      aSession(account.id, { expiresAt: now + HOUR, idleExpiresAt: now - 1 }),
      aSession(other.id, { expiresAt: now + HOUR, idleExpiresAt: now + HOUR }),
    ];
    for (const s of sessions) await store.sessions.create(s);
    expect(await store.accounts.recordSignIn(account.id, now)).toEqual({ liveSessions: 2 });
    expect(await store.sessions.countActive(account.id, now)).toBe(2);
    expect(await store.accounts.recordSignIn(other.id, now)).toEqual({ liveSessions: 1 });
  });

  it('search matches username, display name or email anywhere, any case, with % and _ taken literally', async () => {
    const alice = anAccount({ username: 'alice', displayName: 'Alice Liddell', email: 'al@wonder.example' });
    const bob = anAccount({ username: 'bob_b', displayName: 'Bob', email: null });
    const carol = anAccount({ username: 'carol', displayName: '100% Carol', email: 'c@x.example' });
    for (const a of [carol, bob, alice]) await store.accounts.create(a);
    const names = async (q: string, limit = 10) => (await store.accounts.search(q, limit)).map((a) => a.username);
    expect(await names('LIDD')).toEqual(['alice']);
    expect(await names('wonder')).toEqual(['alice']);
    expect(await names('O')).toEqual(['alice', 'bob_b', 'carol']);
    expect(await names('_')).toEqual(['bob_b']);
    expect(await names('%')).toEqual(['carol']);
    expect(await names('\\')).toEqual([]);
    expect(await names('', 2)).toEqual(['alice', 'bob_b']);
  });

  it('update changes email and display name, each only when given', async () => {
    const a = anAccount({ email: 'old@example.test' });
    await store.accounts.create(a);
    expect(await store.accounts.update(a.id, { displayName: 'New' }, T0 + 1)).toBe(true);
    expect(await store.accounts.findById(a.id)).toMatchObject({ displayName: 'New', email: 'old@example.test' });
    expect(await store.accounts.update(a.id, { email: null }, T0 + 2)).toBe(true);
    expect(await store.accounts.findById(a.id)).toMatchObject({ displayName: 'New', email: null });
    expect(await store.accounts.update('nobody', { email: null }, T0)).toBe(false);
  });

  it('offboarding: passkeys and code factors of one account disabled, links and code attempts ended, each counted once', async () => {
    const a = anAccount();
    const other = anAccount();
    for (const x of [a, other]) await store.accounts.create(x);
    const keys = [aPasskey(a.id), aPasskey(a.id, { status: 'flagged', flaggedReason: 'sign_count_regressed' }), aPasskey(other.id)];
    for (const k of keys) await store.passkeys.insert(k);
    expect(await store.passkeys.disableForAccount(a.id, 'offboarded')).toBe(2);
    expect(await store.passkeys.disableForAccount(a.id, 'offboarded')).toBe(0);
    expect((await store.passkeys.listByAccount(a.id)).map((p) => [p.status, p.flaggedReason])).toEqual([['disabled', 'offboarded'], ['disabled', 'offboarded']]);
    expect((await store.passkeys.findById(keys[2]!.id))?.status).toBe('active');

    const factors = [anAuthenticator(a.id), anAuthenticator(a.id, { kind: 'sms_code', status: 'pending' }), anAuthenticator(a.id, { kind: 'recovery_codes', status: 'disabled', disabledReason: 'too_many_failures' }), anAuthenticator(other.id)];
    for (const f of factors) await store.authenticators.insert(f);
    expect(await store.authenticators.disableForAccount(a.id, 'offboarded')).toBe(2);
    expect((await store.authenticators.findById(factors[2]!.id))?.disabledReason).toBe('too_many_failures');
    expect((await store.authenticators.findById(factors[3]!.id))?.status).toBe('active');

    for (const [id, account, expiresAt, usedAt] of [['i1', a.id, T0 + HOUR, null], ['i2', a.id, T0 + HOUR, T0], ['i3', a.id, T0 - 1, null], ['i4', other.id, T0 + HOUR, null]] as const) {
      await store.invitations.create({ id, accountId: account, secretHash: id, createdBy: 'test', createdAt: T0 - 10, expiresAt, usedAt });
    }
    expect((await store.invitations.listUsable(a.id, T0)).map((i) => i.id)).toEqual(['i1']);
    expect(await store.invitations.revokeForAccount(a.id, T0)).toBe(1);
    expect(await store.invitations.listUsable(a.id, T0)).toEqual([]);
    expect(await store.invitations.hasUsable(other.id, T0)).toBe(true);

    const attempt = (idHash: string, accountId: string, fields: { consumedAt?: number; expiresAt?: number } = {}) =>
      store.codeAttempts.create({ idHash, purpose: 'sign_in', factor: 'totp', accountId, authenticatorId: null, throttleKey: 'k', codeHash: null, refusedReason: null, createdAt: T0 - 10, expiresAt: fields.expiresAt ?? T0 + 600_000, consumedAt: fields.consumedAt ?? null });
    await attempt('c1', a.id);
    await attempt('c2', a.id, { consumedAt: T0 - 1 });
    await attempt('c3', other.id);
    expect(await store.codeAttempts.expireForAccount(a.id, T0)).toBe(1);
    expect(await store.codeAttempts.consume('c1', T0)).toBe(false);
    expect(await store.codeAttempts.consume('c3', T0)).toBe(true);
  });

  it('accountsWithLive and grant accounts: whose sessions and grants everyone-revocation visits', async () => {
    const [a, b, c] = [anAccount(), anAccount(), anAccount()];
    for (const x of [a, b, c]) await store.accounts.create(x);
    await store.sessions.create(aSession(a.id));
    await store.sessions.create(aSession(b.id, { revokedAt: T0 }));
    await store.sessions.create(aSession(c.id, { idleExpiresAt: T0 }));
    expect(await store.sessions.accountsWithLive(T0)).toEqual([a.id]);
    await store.oidcGrantSessions.bind({ grantId: 'g1', sessionId: 'ses-x', accountId: b.id, passkeyId: null, providerSessionUid: null, offline: true, createdAt: T0 });
    await store.oidcGrantSessions.bind({ grantId: 'g2', sessionId: 'ses-y', accountId: b.id, passkeyId: null, providerSessionUid: null, offline: false, createdAt: T0 });
    expect(await store.oidcGrantSessions.accounts()).toEqual([b.id]);
  });
});
