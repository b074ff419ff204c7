/**
 * The delegations store port (migration 020, services/nhi/delegations.ts) on SQLite and PostgreSQL:
 * a live delegation is the newest of the person and agent neither revoked nor expired (all live
 * ones are listed oldest first for `nhi report`); revocation is compare-and-set (of racing callers
 * exactly one wins) and only by its holder; the owner cascade and a replacing grant revoke only
 * live ones; last use is recorded. Migration 020 gives
 * agents made before it the token-exchange grant type, and leaves services alone.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { MIGRATIONS, migrate } from '../../src/store/migrate.ts';
import type { DelegationRow } from '../../src/store/ports.ts';
import { BACKENDS, freshDatabase } from '../helpers/db.ts';
import { migrateBefore } from '../helpers/migrations.ts';
import { useFreshStore } from '../helpers/store.ts';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
let serial = 0;
const aDelegation = (fields: Partial<DelegationRow> = {}): DelegationRow => {
  const n = ++serial;
  return { id: `dg_${n}`, accountId: 'acc-1', clientId: 'agent-1', scopes: ['read'], createdAt: T0 + n, expiresAt: T0 + DAY, revokedAt: null, revokedReason: null, lastUsedAt: null, ...fields };
};

describe.each(BACKENDS)('delegation store contract on %s', (backend) => {
  let store: Store;
  useFreshStore(backend, (fresh) => ({ store } = fresh));

  it('round-trips a delegation, finds the live one of a person and agent, and lists the account\'s newest first', async () => {
    const older = aDelegation({ scopes: ['read', 'write'] });
    const newer = aDelegation();
    const expired = aDelegation({ expiresAt: T0 + 10 });
    const elsewhere = aDelegation({ accountId: 'acc-2' });
    const otherAgent = aDelegation({ clientId: 'agent-2' });
    for (const d of [older, newer, expired, elsewhere, otherAgent]) await store.delegations.create(d);
    expect(await store.delegations.find(older.id)).toEqual(older);
    expect(await store.delegations.find('dg_nope')).toBeUndefined();
    expect((await store.delegations.findLive('acc-1', 'agent-1', T0 + 100))?.id).toBe(newer.id);
    expect(await store.delegations.findLive('acc-1', 'agent-1', T0 + DAY)).toBeUndefined();
    expect(await store.delegations.findLive('acc-3', 'agent-1', T0 + 100)).toBeUndefined();
    expect((await store.delegations.listByAccount('acc-1')).map((d) => d.id)).toEqual([otherAgent.id, expired.id, newer.id, older.id]);
    const revoked = aDelegation({ revokedAt: T0, revokedReason: 'replaced' });
    await store.delegations.create(revoked);
    expect((await store.delegations.listLive(T0 + 100)).map((d) => d.id)).toEqual([older.id, newer.id, elsewhere.id, otherAgent.id]);
    expect(await store.delegations.listLive(T0 + DAY)).toEqual([]);
    await store.delegations.recordUse(newer.id, T0 + 500);
    expect(await store.delegations.find(newer.id)).toMatchObject({ lastUsedAt: T0 + 500 });
  });

  it('revocation is compare-and-set, only by the holder and only while live; racing callers: exactly one wins', async () => {
    const d = aDelegation();
    const expired = aDelegation({ expiresAt: T0 + 10 });
    await store.delegations.create(d);
    await store.delegations.create(expired);
    expect(await store.delegations.revoke(d.id, 'acc-2', 'revoked_by_holder', T0 + 100)).toBe(false);
    expect(await store.delegations.revoke(expired.id, 'acc-1', 'revoked_by_holder', T0 + 100)).toBe(false);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.delegations.revoke(d.id, 'acc-1', 'revoked_by_holder', T0 + 100)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.delegations.find(d.id)).toMatchObject({ revokedAt: T0 + 100, revokedReason: 'revoked_by_holder' });
    expect(await store.delegations.findLive('acc-1', 'agent-1', T0 + 200)).toBeUndefined();
  });

  it('revokes every live delegation of an agent (a replacing grant) or of an account (the owner cascade), leaving ended ones as they were', async () => {
    const [a, b, c] = [aDelegation(), aDelegation({ clientId: 'agent-2' }), aDelegation({ revokedAt: T0, revokedReason: 'replaced' })];
    const gone = aDelegation({ expiresAt: T0 + 10 });
    const other = aDelegation({ accountId: 'acc-2' });
    for (const d of [a, b, c, gone, other]) await store.delegations.create(d);
    expect(await store.delegations.revokeForAgent('acc-1', 'agent-2', 'replaced', T0 + 100)).toBe(1);
    expect(await store.delegations.revokeForAccount('acc-1', 'owner_offboarded', T0 + 200)).toBe(1);
    expect(await store.delegations.find(a.id)).toMatchObject({ revokedReason: 'owner_offboarded', revokedAt: T0 + 200 });
    expect(await store.delegations.find(b.id)).toMatchObject({ revokedReason: 'replaced', revokedAt: T0 + 100 });
    expect(await store.delegations.find(c.id)).toMatchObject({ revokedReason: 'replaced', revokedAt: T0 });
    expect(await store.delegations.find(gone.id)).toMatchObject({ revokedAt: null });
    expect(await store.delegations.find(other.id)).toMatchObject({ revokedAt: null });
  });

  it('migration 020 allows agents made before it the token-exchange grant, and no one else', async () => {
    const fresh = await freshDatabase(backend);
    const old = openDatabase(fresh.url);
    try {
      await migrateBefore(old, 20);
      const before = createStore(old);
      for (const [clientId, kind] of [['agent-old', 'agent'], ['service-old', 'service']] as const) {
        await before.oidcClients.create({ clientId, name: clientId, metadata: { client_id: clientId, grant_types: ['client_credentials'] }, sharedSecret: false, createdAt: T0 });
        await before.workloads.create({ clientId, name: clientId, ownerId: 'acc-1', kind, status: 'active', disabledReason: null, tokenTtlS: 300, previousJwks: null, previousJwksUntil: null, keysRotatedAt: null, createdAt: T0, lastUsedAt: null });
      }
      await before.oidcClients.create({ clientId: 'app', name: 'app', metadata: { client_id: 'app', grant_types: ['authorization_code'] }, sharedSecret: false, createdAt: T0 });
      expect((await migrate(old))[0]).toBe(20);
      const grants = async (id: string) => (await before.oidcClients.find(id))?.metadata.grant_types;
      expect(await grants('agent-old')).toEqual(['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange']);
      expect(await grants('service-old')).toEqual(['client_credentials']);
      expect(await grants('app')).toEqual(['authorization_code']);
    } finally {
      await old.close();
      await fresh.drop();
    }
  });
});
