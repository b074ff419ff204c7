/**
 * The OpenID provider's storage on SQLite and PostgreSQL: oidc-provider's adapter interface
 * (upsert, find, findByUid, findByUserCode, consume, destroy, revokeByGrantId) over the store, the
 * one-time inserts behind replay detection, clients and signing keys. Time is a manual clock.
 */
import { sql } from 'kysely';
import { errors } from 'oidc-provider';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.ts';
import { hashSecret } from '../../src/core/tokens.ts';
import { adapterFactory } from '../../src/oidc/adapter.ts';
import { ensureSigningKey, loadSigningKeys, rotateSigningKey } from '../../src/oidc/keys.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createDeps } from '../../src/runtime.ts';
import type { Deps } from '../../src/services/deps.ts';
import { openDatabase, type Db } from '../../src/store/db.ts';
import { createStore } from '../../src/store/index.ts';
import { migrate } from '../../src/store/migrate.ts';
import { ManualClock, TEST_DATA_KEYS } from '../helpers/app.ts';
import { BACKENDS, freshDatabase, type TestDatabase } from '../helpers/db.ts';

const HOUR = 3600;

describe.each(BACKENDS)('oidc storage on %s', (backend) => {
  let database: TestDatabase;
  let db: Db;
  let deps: Deps;
  let clock: ManualClock;
  const adapter = (model: string) => adapterFactory(deps)(model);

  beforeEach(async () => {
    database = await freshDatabase(backend);
    db = openDatabase(database.url);
    await migrate(db);
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    const config = loadConfig({ KEYBOUND_DATABASE_URL: database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS });
    deps = await createDeps({ config, store: createStore(db), clock: clock.read, metrics: createMetrics({ processMetrics: false }) });
  });

  afterEach(async () => {
    await db.close();
    await database.drop();
  });

  it('round-trips a payload, gives the id back as jti, and stores only a hash of the id', async () => {
    const a = adapter('RefreshToken');
    // No account: a person's token is found only while its grant's Keybound session lives (next test).
    await a.upsert('rt-secret-value', { jti: 'rt-secret-value', grantId: 'g1', clientId: 'c1', scope: 'openid' }, HOUR);
    expect(await a.find('rt-secret-value')).toEqual({ jti: 'rt-secret-value', grantId: 'g1', clientId: 'c1', scope: 'openid' });
    expect(await a.find('other')).toBeUndefined();
    const { rows } = await sql<{ key: string; payload: string }>`select key, payload from oidc_payloads`.execute(db.kysely);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain('rt-secret-value');
    // The same id under another model is another row.
    expect(await adapter('AccessToken').find('rt-secret-value')).toBeUndefined();
  });

  it("finds a person's code, refresh token or access token only while its grant is bound to a live Keybound session", async () => {
    for (const model of ['AuthorizationCode', 'RefreshToken', 'AccessToken']) {
      await adapter(model).upsert(`${model}-1`, { jti: `${model}-1`, grantId: 'unbound', accountId: 'acc1', clientId: 'c1' }, HOUR);
      expect(await adapter(model).find(`${model}-1`)).toBeUndefined();
      expect(await deps.store.oidcPayloads.find(model, hashSecret(`${model}-1`), clock.now)).toBeDefined();
    }
  });

  it('upsert replaces the payload and the expiry', async () => {
    const a = adapter('Session');
    await a.upsert('s1', { jti: 's1', uid: 'u1', accountId: 'acc1' }, 10);
    await a.upsert('s1', { jti: 's1', uid: 'u1', accountId: 'acc2' }, HOUR);
    clock.advance(11_000);
    expect(await a.find('s1')).toMatchObject({ accountId: 'acc2' });
  });

  it('finds nothing once expired', async () => {
    const a = adapter('AuthorizationCode');
    await a.upsert('code1', { jti: 'code1', grantId: 'g1' }, 60);
    clock.advance(59_000);
    expect(await a.find('code1')).toBeDefined();
    clock.advance(1_000);
    expect(await a.find('code1')).toBeUndefined();
    expect(await deps.store.oidcPayloads.purgeExpired(clock.now)).toBe(1);
  });

  it('finds a session by uid and a device code by user code', async () => {
    await adapter('Session').upsert('sid-cookie', { jti: 'sid-cookie', uid: 'uid-1', accountId: 'acc1' }, HOUR);
    expect(await adapter('Session').findByUid('uid-1')).toMatchObject({ uid: 'uid-1', accountId: 'acc1' });
    expect(await adapter('Session').findByUid('uid-2')).toBeUndefined();
    await adapter('DeviceCode').upsert('dc1', { jti: 'dc1', userCode: 'WDJB-MJHT', grantId: 'g9' }, HOUR);
    expect(await adapter('DeviceCode').findByUserCode('WDJB-MJHT')).toMatchObject({ jti: 'dc1', userCode: 'WDJB-MJHT' });
    expect(await adapter('DeviceCode').findByUserCode('XXXX-XXXX')).toBeUndefined();
  });

  it('consumes once: the payload says when, a second consume is refused as invalid_grant and revokes the grant', async () => {
    const code = adapter('AuthorizationCode');
    await adapter('Grant').upsert('g1', { jti: 'g1', accountId: 'acc1', clientId: 'c1' }, HOUR);
    await adapter('RefreshToken').upsert('rt1', { jti: 'rt1', grantId: 'g1' }, HOUR);
    await code.upsert('code1', { jti: 'code1', grantId: 'g1' }, 60);
    await code.consume('code1');
    expect((await code.find('code1'))?.consumed).toBe(Math.floor(clock.now / 1000));
    await expect(code.consume('code1')).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(await adapter('RefreshToken').find('rt1')).toBeUndefined();
    expect(await adapter('Grant').find('g1')).toBeUndefined();
  });

  it('lets exactly one of many concurrent consumes win', async () => {
    const a = adapter('RefreshToken');
    await a.upsert('rt-race', { jti: 'rt-race', grantId: 'g-race' }, HOUR);
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, () => a.consume('rt-race')));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === 'rejected')) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(errors.InvalidGrant);
  });

  it('destroys one row, and revokes by grant id within the model only', async () => {
    const at = adapter('AccessToken');
    await at.upsert('at1', { jti: 'at1', grantId: 'g1' }, HOUR);
    await at.upsert('at2', { jti: 'at2', grantId: 'g1' }, HOUR);
    await at.upsert('at3', { jti: 'at3', grantId: 'g2' }, HOUR);
    await adapter('RefreshToken').upsert('rt1', { jti: 'rt1', grantId: 'g1' }, HOUR);
    await at.destroy('at3');
    expect(await at.find('at3')).toBeUndefined();
    await at.revokeByGrantId('g1');
    expect(await at.find('at1')).toBeUndefined();
    expect(await at.find('at2')).toBeUndefined();
    expect(await adapter('RefreshToken').find('rt1')).toBeDefined();
  });

  it('revokes everything an account was granted, across models (for offboarding)', async () => {
    await adapter('Session').upsert('s1', { jti: 's1', uid: 'u1', accountId: 'leaver' }, HOUR);
    await adapter('Grant').upsert('g1', { jti: 'g1', accountId: 'leaver' }, HOUR);
    await adapter('RefreshToken').upsert('rt1', { jti: 'rt1', grantId: 'g1', accountId: 'leaver' }, HOUR);
    await adapter('RefreshToken').upsert('rt2', { jti: 'rt2', grantId: 'g2', accountId: 'stayer' }, HOUR);
    expect(await deps.store.oidcPayloads.revokeByAccount('leaver')).toBe(3);
    expect(await deps.store.oidcPayloads.find('RefreshToken', hashSecret('rt2'), clock.now)).toBeDefined();
  });

  it('accepts a replay-detection marker exactly once, even when many race for it, and again after it expires', async () => {
    const row = { model: 'ReplayDetection', key: 'k1', payload: '{}', grantId: null, uid: null, userCode: null, accountId: null, expiresAt: clock.now + 60_000 };
    const results = await Promise.all(Array.from({ length: 12 }, () => deps.store.oidcPayloads.insertOnce(row, clock.now)));
    expect(results.filter(Boolean)).toHaveLength(1);
    clock.advance(60_000);
    expect(await deps.store.oidcPayloads.insertOnce({ ...row, expiresAt: clock.now + 60_000 }, clock.now)).toBe(true);
    // The marker that took the expired one's place protects until its own expiry, not the old one's.
    clock.advance(30_000);
    expect(await deps.store.oidcPayloads.insertOnce({ ...row, expiresAt: clock.now + 60_000 }, clock.now)).toBe(false);
    clock.advance(30_000);
    expect(await deps.store.oidcPayloads.insertOnce({ ...row, expiresAt: clock.now + 60_000 }, clock.now)).toBe(true);
  });

  it('stores clients; the provider reads them through the adapter and cannot write them', async () => {
    const client = { clientId: 'c1', name: 'App', metadata: { client_id: 'c1', redirect_uris: ['https://a/cb'] }, sharedSecret: false, createdAt: clock.now };
    expect(await deps.store.oidcClients.create(client)).toBe(true);
    expect(await deps.store.oidcClients.create(client)).toBe(false);
    expect(await adapter('Client').find('c1')).toEqual(client.metadata);
    await expect(adapter('Client').upsert('c2', { client_id: 'c2' })).rejects.toThrow(/keybound clients/);
    expect((await deps.store.oidcClients.list()).map((c) => c.clientId)).toEqual(['c1']);
    expect(await deps.store.oidcClients.delete('c1')).toBe(true);
    expect(await adapter('Client').find('c1')).toBeUndefined();
  });

  it('makes one signing key per algorithm however many instances start at once, sealed at rest; rotation keeps the old one for the overlap', async () => {
    await Promise.all(Array.from({ length: 6 }, () => ensureSigningKey(deps)));
    const listed = await deps.store.oidcKeys.listLive(clock.now);
    expect(listed.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    const first = listed.filter((k) => k.alg === 'ES256');
    const rsa = listed.find((k) => k.alg === 'RS256')!;
    expect(first[0]!.privateJwk).toMatch(/^v1\./);
    const { rows } = await sql<{ private_jwk: string }>`select private_jwk from oidc_signing_keys`.execute(db.kysely);
    for (const row of rows) expect(row.private_jwk).not.toContain('"d"');

    const rotation = await rotateSigningKey(deps, { overlapMs: 3_600_000, leadMs: 0 });
    expect(rotation.retired?.kid).toBe(first[0]!.kid);
    const loaded = await loadSigningKeys(deps);
    const kids = loaded.jwks.keys.map((k) => k.kid);
    expect([...kids].sort()).toEqual([rotation.kid, rsa.kid, first[0]!.kid].sort());
    // The provider signs with the first key of an algorithm: the new one, ahead of the retiring one.
    expect(kids.indexOf(rotation.kid)).toBeLessThan(kids.indexOf(first[0]!.kid!));
    expect(loaded.jwks.keys[0]!.d).toBeDefined();
    clock.advance(3_600_000);
    expect((await deps.store.oidcKeys.listLive(clock.now)).map((k) => k.kid).sort()).toEqual([rotation.kid, rsa.kid].sort());
    expect(await deps.store.oidcKeys.purgeRetired(clock.now)).toBe(1);
  });
});
