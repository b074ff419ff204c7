/**
 * The store ports of workloads and API keys (migrations 016 and 017, services/nhi), on SQLite and
 * PostgreSQL: the provider's gate reads the owner's status with the workload; the owner cascade
 * touches only what is still active; revocation and rotation are compare-and-set (of racing
 * callers exactly one wins).
 */
import { describe, expect, it } from 'vitest';
import type { Account } from '../../src/core/model.ts';
import type { Store } from '../../src/store/index.ts';
import type { ApiKeyRow, WorkloadRow } from '../../src/store/ports.ts';
import { BACKENDS } from '../helpers/db.ts';
import { useFreshStore } from '../helpers/store.ts';

const T0 = Date.UTC(2026, 0, 1);
let serial = 0;

const anAccount = (fields: Partial<Account> = {}): Account => {
  const n = ++serial;
  return { id: `acc-${n}`, username: `user${n}`, displayName: `User ${n}`, role: 'member', status: 'active', userHandle: `h-${n}`, email: null, createdAt: T0, ...fields };
};
const aWorkload = (ownerId: string, fields: Partial<WorkloadRow> = {}): WorkloadRow => ({
  clientId: `wl-${++serial}`, name: 'W', ownerId, kind: 'service', status: 'active', disabledReason: null, tokenTtlS: 300, previousJwks: null, previousJwksUntil: null,
  keysRotatedAt: null, createdAt: T0 + serial, lastUsedAt: null, ...fields,
});
const aKey = (ownerId: string, fields: Partial<ApiKeyRow> = {}): ApiKeyRow => {
  const n = ++serial;
  return { id: `ak-${n}`, keyHash: `hash-${n}`, ownerId, name: 'K', scopes: ['read'], status: 'active', revokedReason: null, createdAt: T0 + n, expiresAt: T0 + 86_400_000, revokedAt: null, lastUsedAt: null, replacedBy: null, ...fields };
};

describe.each(BACKENDS)('machine identity store contract on %s', (backend) => {
  let store: Store;
  useFreshStore(backend, (fresh) => ({ store } = fresh));

  it('gate: the workload status, its owner status and the overlap keys in one read; undefined for other clients', async () => {
    const owner = anAccount();
    await store.accounts.create(owner);
    const w = aWorkload(owner.id);
    await store.workloads.create(w);
    expect(await store.workloads.gate('not-a-workload')).toBeUndefined();
    expect(await store.workloads.gate(w.clientId)).toEqual({ status: 'active', ownerStatus: 'active', previousJwks: null, previousJwksUntil: null });
    await store.accounts.setStatus(owner.id, 'suspended', T0);
    await store.workloads.recordRotation(w.clientId, { keys: [{ kty: 'EC', kid: 'old' }] }, T0 + 1000, T0);
    expect(await store.workloads.gate(w.clientId)).toEqual({ status: 'active', ownerStatus: 'suspended', previousJwks: { keys: [{ kty: 'EC', kid: 'old' }] }, previousJwksUntil: T0 + 1000 });
    await store.workloads.recordUse(w.clientId, T0 + 5);
    expect(await store.workloads.find(w.clientId)).toMatchObject({ lastUsedAt: T0 + 5, keysRotatedAt: T0 });
  });

  it('findForProvider: the client row as stored with its workload gate in one read; a change is seen by the next read', async () => {
    const owner = anAccount();
    await store.accounts.create(owner);
    const plain = { clientId: `c-${++serial}`, name: 'C', metadata: { client_id: 'x', jwks: { keys: [{ kty: 'EC', kid: 'a' }] } }, sharedSecret: false, createdAt: T0 };
    await store.oidcClients.create(plain);
    expect(await store.oidcClients.findForProvider('nobody')).toBeUndefined();
    const found = await store.oidcClients.findForProvider(plain.clientId);
    expect(found).toEqual({ clientId: plain.clientId, metadataJson: expect.any(String), workload: null });
    expect(JSON.parse(found!.metadataJson)).toEqual(plain.metadata);
    const w = aWorkload(owner.id);
    await store.oidcClients.create({ ...plain, clientId: w.clientId });
    await store.workloads.create(w);
    expect((await store.oidcClients.findForProvider(w.clientId))?.workload).toEqual({ status: 'active', ownerStatus: 'active', previousJwksJson: null, previousJwksUntil: null });
    await store.workloads.recordRotation(w.clientId, { keys: [{ kty: 'EC', kid: 'old' }] }, T0 + 1000, T0);
    await store.workloads.setStatus(w.clientId, 'disabled', 'test');
    await store.accounts.setStatus(owner.id, 'suspended', T0);
    const after = await store.oidcClients.findForProvider(w.clientId);
    expect(after?.workload).toEqual({ status: 'disabled', ownerStatus: 'suspended', previousJwksJson: expect.any(String), previousJwksUntil: T0 + 1000 });
    expect(JSON.parse(after!.workload!.previousJwksJson!)).toEqual({ keys: [{ kty: 'EC', kid: 'old' }] });
    await store.oidcClients.updateMetadata(plain.clientId, { client_id: 'x', changed: true });
    expect(JSON.parse((await store.oidcClients.findForProvider(plain.clientId))!.metadataJson)).toEqual({ client_id: 'x', changed: true });
  });

  it('the owner cascade disables only active workloads and revokes only live keys; transfer moves them', async () => {
    const [owner, other, heir] = [anAccount(), anAccount(), anAccount()];
    for (const a of [owner, other, heir]) await store.accounts.create(a);
    const [on, off, elsewhere] = [aWorkload(owner.id), aWorkload(owner.id, { status: 'disabled', disabledReason: 'earlier' }), aWorkload(other.id)];
    for (const w of [on, off, elsewhere]) await store.workloads.create(w);
    expect(await store.workloads.disableForOwner(owner.id, 'owner_offboarded')).toEqual([on.clientId]);
    expect(await store.workloads.find(off.clientId)).toMatchObject({ disabledReason: 'earlier' });
    expect(await store.workloads.find(elsewhere.clientId)).toMatchObject({ status: 'active' });
    expect((await store.workloads.transferOwner(owner.id, heir.id)).sort()).toEqual([on.clientId, off.clientId].sort());
    expect((await store.workloads.list({ ownerId: heir.id })).map((w) => w.clientId).sort()).toEqual([on.clientId, off.clientId].sort());

    const [live, expired, revoked] = [aKey(owner.id), aKey(owner.id, { expiresAt: T0 }), aKey(owner.id, { status: 'revoked', revokedAt: T0, revokedReason: 'x' })];
    for (const k of [live, expired, revoked]) await store.apiKeys.create(k);
    expect(await store.apiKeys.revokeForOwner(owner.id, 'owner_offboarded', T0 + 10)).toBe(1);
    expect(await store.apiKeys.find(live.id)).toMatchObject({ status: 'revoked', revokedReason: 'owner_offboarded', revokedAt: T0 + 10 });
    expect(await store.apiKeys.find(revoked.id)).toMatchObject({ revokedReason: 'x' });
    const moving = aKey(other.id);
    await store.apiKeys.create(moving);
    expect(await store.apiKeys.transferOwner(other.id, heir.id)).toBe(1);
    expect(await store.apiKeys.findByHash(moving.keyHash)).toMatchObject({ ownerId: heir.id, ownerStatus: 'active' });
  });

  it('revoke and supersede are compare-and-set: of racing callers exactly one wins', async () => {
    const owner = anAccount();
    await store.accounts.create(owner);
    const key = aKey(owner.id);
    await store.apiKeys.create(key);
    const supersedes = await Promise.all(['a', 'b', 'c', 'd'].map((s) => store.apiKeys.supersede(key.id, `next-${s}`, T0 + 1000)));
    expect(supersedes.filter(Boolean)).toHaveLength(1);
    expect(await store.apiKeys.find(key.id)).toMatchObject({ expiresAt: T0 + 1000, replacedBy: expect.stringMatching(/^next-/) });
    const revokes = await Promise.all(Array.from({ length: 6 }, () => store.apiKeys.revoke(key.id, 'r', T0)));
    expect(revokes.filter(Boolean)).toHaveLength(1);
    expect(await store.apiKeys.supersede(key.id, 'late', T0 + 5)).toBe(false);
    expect(await store.apiKeys.findByHash('no-such-hash')).toBeUndefined();
  });
});
