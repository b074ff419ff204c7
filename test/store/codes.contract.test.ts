/**
 * The one-time-code ports (migration 003) on SQLite and PostgreSQL: every counter that guards a
 * code is atomic in the database, so racing callers (on PostgreSQL, on separate pooled sessions)
 * can never get past a limit or use a value twice.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nextDelayMs, type ThrottlePolicy } from '../../src/codes/throttle.ts';
import type { Account, CodeAuthenticator } from '../../src/core/model.ts';
import { openDatabase, type Db } from '../../src/store/db.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { migrate } from '../../src/store/migrate.ts';
import { BACKENDS, freshDatabase, type TestDatabase } from '../helpers/db.ts';

const T0 = Date.UTC(2026, 0, 1);
let serial = 0;

const anAccount = (): Account => {
  const n = ++serial;
  return { id: `acc-${n}`, username: `user${n}`, displayName: `User ${n}`, role: 'member', status: 'active', userHandle: `h-${n}`, email: null, createdAt: T0 };
};

const anAuthenticator = (accountId: string, fields: Partial<CodeAuthenticator> = {}): CodeAuthenticator => ({
  id: `auth-${++serial}`,
  accountId,
  kind: 'totp',
  status: 'active',
  secret: 'v1.sealed',
  totp: { algorithm: 'SHA1', digits: 6, period: 30 },
  destination: null,
  lastStep: null,
  failures: 0,
  disabledReason: null,
  createdAt: T0 + serial,
  confirmedAt: T0,
  lastUsedAt: null,
  ...fields,
});

describe.each(BACKENDS)('code store contract on %s', (backend) => {
  let database: TestDatabase;
  let db: Db;
  let store: Store;
  let account: Account;
  beforeEach(async () => {
    database = await freshDatabase(backend);
    db = openDatabase(database.url);
    await migrate(db);
    store = createStore(db);
    account = anAccount();
    await store.accounts.create(account);
  });
  afterEach(async () => {
    await db.close();
    await database.drop();
  });

  it('reserves at most `limit` guesses however many race, then disables exactly once', async () => {
    const a = anAuthenticator(account.id);
    await store.authenticators.insert(a);
    const reserved = await Promise.all(Array.from({ length: 60 }, () => store.authenticators.reserveGuess(a.id, 25)));
    expect(reserved.filter((r) => r !== null).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const disabled = await Promise.all(Array.from({ length: 10 }, () => store.authenticators.disableIfExhausted(a.id, 25, 'too_many_failures')));
    expect(disabled.filter(Boolean)).toHaveLength(1);
    expect(await store.authenticators.findById(a.id)).toMatchObject({ status: 'disabled', failures: 25, disabledReason: 'too_many_failures' });
    expect(await store.authenticators.reserveGuess(a.id, 100)).toBeNull();
  });

  it('moves the TOTP step forward only (compare-and-set), and clears failures on use', async () => {
    const a = anAuthenticator(account.id, { lastStep: 100, failures: 7 });
    await store.authenticators.insert(a);
    const racing = await Promise.all(Array.from({ length: 10 }, () => store.authenticators.recordUse(a.id, { now: T0, step: 101 })));
    expect(racing.filter(Boolean)).toHaveLength(1);
    expect(await store.authenticators.recordUse(a.id, { now: T0, step: 100 })).toBe(false);
    expect(await store.authenticators.findById(a.id)).toMatchObject({ lastStep: 101, failures: 0, lastUsedAt: T0 });
  });

  it('binds a pending authenticator in place of the previous one of its kind', async () => {
    const old = anAuthenticator(account.id);
    const other = anAuthenticator(account.id, { kind: 'recovery_codes', secret: null, totp: null });
    const pending = anAuthenticator(account.id, { status: 'pending' });
    for (const a of [old, other, pending]) await store.authenticators.insert(a);
    expect(await store.authenticators.findPending(account.id, 'totp')).toMatchObject({ id: pending.id });
    expect(await store.authenticators.bind(pending.id, { now: T0 + 5, step: 9 })).toBe(true);
    expect(await store.authenticators.bind(pending.id, { now: T0 + 5 })).toBe(false);
    expect((await store.authenticators.listBound(account.id)).map((a) => a.id).sort()).toEqual([other.id, pending.id].sort());
    expect(await store.authenticators.findBound(account.id, 'totp')).toMatchObject({ id: pending.id, status: 'active', lastStep: 9, confirmedAt: T0 + 5 });
  });

  it('consumes an attempt once, and never after it expires', async () => {
    const attempt = { purpose: 'sign_in', factor: 'totp', accountId: account.id, authenticatorId: null, throttleKey: 'k', codeHash: null, refusedReason: null, createdAt: T0, expiresAt: T0 + 600_000, consumedAt: null } as const;
    await store.codeAttempts.create({ ...attempt, idHash: 'a1' });
    await store.codeAttempts.create({ ...attempt, idHash: 'a2' });
    const racing = await Promise.all(Array.from({ length: 10 }, () => store.codeAttempts.consume('a1', T0 + 1)));
    expect(racing.filter(Boolean)).toHaveLength(1);
    expect(await store.codeAttempts.consume('a2', T0 + 600_000)).toBe(false);
    expect(await store.codeAttempts.find('a1')).toMatchObject({ consumedAt: T0 + 1, factor: 'totp' });
    expect(await store.codeAttempts.purgeExpired(T0 + 600_000)).toBe(2);
  });

  it('uses a recovery code once', async () => {
    const set = anAuthenticator(account.id, { kind: 'recovery_codes', secret: null, totp: null });
    await store.authenticators.insert(set);
    await store.recoveryCodes.insertSet(set.id, [{ id: 'r1', codeHash: 'h1' }, { id: 'r2', codeHash: 'h2' }]);
    expect(await store.recoveryCodes.findUnused(set.id, 'h1')).toMatchObject({ id: 'r1' });
    const racing = await Promise.all(Array.from({ length: 10 }, () => store.recoveryCodes.markUsed('r1', T0)));
    expect(racing.filter(Boolean)).toHaveLength(1);
    expect(await store.recoveryCodes.findUnused(set.id, 'h1')).toBeUndefined();
    expect(await store.recoveryCodes.countUnused(set.id)).toBe(1);
  });

  it('applies the failure delay of codes/throttle.ts atomically', async () => {
    const policy: ThrottlePolicy = { free: 2, baseMs: 1000, maxMs: 4000 };
    let now = T0;
    let delay = 0;
    for (let failures = 1; failures <= 7; failures++) {
      const admitted = await store.codeThrottles.admit('acct:x', now, policy);
      expect(admitted, `attempt ${failures}`).toEqual({ admitted: true, failures });
      delay = nextDelayMs(delay, failures, policy);
      if (delay > 0) {
        expect(await store.codeThrottles.admit('acct:x', now + delay - 1, policy)).toEqual({ admitted: false, blockedUntil: now + delay });
        now += delay;
      }
    }
    // Racing attempts: exactly the free ones get through at one instant.
    const racing = await Promise.all(Array.from({ length: 20 }, () => store.codeThrottles.admit('addr:y', T0, policy)));
    expect(racing.filter((r) => r.admitted)).toHaveLength(3); // 2 free, and the third sets the first wait
    await store.codeThrottles.reset('addr:y');
    expect(await store.codeThrottles.admit('addr:y', T0, policy)).toEqual({ admitted: true, failures: 1 });
  });
});
