/**
 * Store contract for back-channel logout (migration 009) on SQLite and PostgreSQL: grant bindings
 * keep their client and `sid`; the logout outbox hands each attempt to exactly one of any number of
 * racing claimers, and rows come due, move and go as the dispatcher (src/oidc/backchannel.ts) needs.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.ts';
import type { LogoutOutboxRow } from '../../src/store/ports.ts';
import { BACKENDS } from '../helpers/db.ts';
import { useFreshStore } from '../helpers/store.ts';

const T0 = Date.UTC(2026, 0, 1);
const row = (id: string, fields: Partial<LogoutOutboxRow> = {}): LogoutOutboxRow => ({
  id,
  clientId: 'client-1',
  accountId: 'acc-1',
  sid: 'sid-1',
  sessionId: 'sess-1',
  reason: 'sign_out',
  attempts: 0,
  createdAt: T0,
  nextAttemptAt: T0,
  ...fields,
});

describe.each(BACKENDS)('logout outbox contract on %s', (backend) => {
  let store: Store;
  useFreshStore(backend, (fresh) => ({ store } = fresh));

  it('grant bindings keep the client and sid, and a rebinding updates them', async () => {
    const binding = { grantId: 'g1', sessionId: 's1', accountId: 'a1', passkeyId: null, providerSessionUid: 'u1', offline: false, createdAt: T0, clientId: 'c1', sid: 'sid-a' };
    await store.oidcGrantSessions.bind(binding);
    expect(await store.oidcGrantSessions.findBySessions(['s1'])).toEqual([binding]);
    await store.oidcGrantSessions.bind({ ...binding, sid: 'sid-b' });
    expect((await store.oidcGrantSessions.findByGrant('g1'))[0]).toMatchObject({ clientId: 'c1', sid: 'sid-b' });
    // Bindings written without them (as before migration 009) read back as null.
    await store.oidcGrantSessions.bind({ grantId: 'g2', sessionId: 's2', accountId: 'a1', passkeyId: null, providerSessionUid: null, offline: true, createdAt: T0 });
    expect((await store.oidcGrantSessions.findByGrant('g2'))[0]).toMatchObject({ clientId: null, sid: null });
  });

  it('lists due rows soonest first, hands each attempt to one claimer, reschedules and removes', async () => {
    await store.oidcLogoutOutbox.enqueue([row('b', { nextAttemptAt: T0 + 10 }), row('a', { sid: null }), row('later', { nextAttemptAt: T0 + 1_000 })]);
    expect((await store.oidcLogoutOutbox.listDue(T0 + 10, 10)).map((r) => r.id)).toEqual(['a', 'b']);
    expect(await store.oidcLogoutOutbox.listDue(T0 + 10, 1)).toEqual([row('a', { sid: null })]);

    // Twenty claimers race for one attempt; one wins, the attempt is counted once and the row hides until the lease ends.
    const wins = await Promise.all(Array.from({ length: 20 }, () => store.oidcLogoutOutbox.claim('a', 0, T0 + 10, T0 + 500)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await store.oidcLogoutOutbox.listDue(T0 + 499, 10)).map((r) => r.id)).toEqual(['b']);
    const leased = (await store.oidcLogoutOutbox.listDue(T0 + 500, 10)).find((r) => r.id === 'a')!;
    expect(leased.attempts).toBe(1);
    // A claim with a stale attempt count, or before the row is due, wins nothing.
    expect(await store.oidcLogoutOutbox.claim('a', 0, T0 + 500, T0 + 900)).toBe(false);
    expect(await store.oidcLogoutOutbox.claim('later', 0, T0 + 999, T0 + 2_000)).toBe(false);

    await store.oidcLogoutOutbox.reschedule('a', T0 + 5_000);
    expect((await store.oidcLogoutOutbox.listDue(T0 + 4_999, 10)).map((r) => r.id)).toEqual(['b', 'later']);
    await store.oidcLogoutOutbox.remove('b');
    expect((await store.oidcLogoutOutbox.listDue(T0 + 5_000, 10)).map((r) => r.id)).toEqual(['later', 'a']);
  });

  it('rows written in a transaction that rolls back never come due', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.oidcLogoutOutbox.enqueue([row('rolled-back')]);
        throw new Error('the ending failed');
      }),
    ).rejects.toThrow('the ending failed');
    expect(await store.oidcLogoutOutbox.listDue(T0 + 1, 10)).toEqual([]);
  });
});
