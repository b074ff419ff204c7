/**
 * OWASP ASVS 5.0 11.2.3: RSA signing keys (PS256, and the RS256 key OIDC Discovery §3 requires) are
 * 3072 bits; an RSA key made before, still current in the database, is rotated out at start on the
 * ordinary schedule (published now, signing after KEYBOUND_OIDC_KEY_LEAD, verifying for
 * KEYBOUND_OIDC_KEY_OVERLAP after).
 */
import { createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderHolder } from '../../src/oidc/holder.ts';
import { generateSigningKey, rsaModulusBits, signersAt } from '../../src/oidc/keys.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/** Modulus length as node:crypto reads the key (independent of keys.ts's own count). */
const modulusLength = (jwk: Readonly<Record<string, unknown>>) => createPublicKey({ key: jwk as never, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;

const quiet = { info: () => undefined, error: () => undefined };

describe('RSA signing keys', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('are made with a 3072-bit modulus, for RS256 and PS256', async () => {
    t = await startTestApp();
    for (const alg of ['RS256', 'PS256'] as const) {
      const key = await generateSigningKey(t.deps, alg);
      expect(modulusLength(key.publicJwk), alg).toBe(3072);
      expect(rsaModulusBits(key.publicJwk), alg).toBe(3072);
    }
    // The RS256 key made on first start is what the JWKS publishes.
    const jwks = (await t.get('/oidc/jwks')).json() as { keys: Record<string, unknown>[] };
    const rsa = jwks.keys.filter((k) => k.kty === 'RSA');
    expect(rsa.length).toBeGreaterThan(0);
    for (const k of rsa) expect(modulusLength(k)).toBe(3072);
  });

  it('a PS256 deployment starts with 3072-bit keys only', async () => {
    t = await startTestApp({ env: { KEYBOUND_OIDC_SIGNING_ALG: 'PS256' } });
    const live = await t.store.oidcKeys.listLive(t.clock.now);
    expect(live.map((k) => k.alg).sort()).toEqual(['PS256', 'RS256']);
    for (const k of live) expect(modulusLength(k.publicJwk), k.alg).toBe(3072);
  });

  it('a stored 2048-bit key is rotated out at start on the ordinary schedule: it signs until the lead passes, then only verifies', async () => {
    t = await startTestApp();
    const deps = t.deps;
    // A 2048-bit RS256 key, as earlier versions made, takes the place of the current one.
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const fields = { kid, alg: 'RS256', use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), ...fields };
    await t.store.oidcKeys.retireCurrent(t.clock.now, 'RS256');
    const inserted = await t.store.oidcKeys.insertCurrent({
      kid,
      alg: 'RS256',
      status: 'current',
      privateJwk: deps.dataKeys.seal(new TextEncoder().encode(JSON.stringify(privateJwk)), `oidc-signing-key:${kid}`),
      publicJwk: { ...publicJwk, ...fields },
      createdAt: t.clock.now,
      retireAt: null,
      activateAt: null,
    });
    expect(inserted).toBe(true);
    expect(rsaModulusBits(publicJwk)).toBe(2048);

    await ProviderHolder.create(deps, quiet);

    const live = await t.store.oidcKeys.listLive(t.clock.now);
    const current = live.find((k) => k.alg === 'RS256' && k.status === 'current')!;
    const old = live.find((k) => k.kid === kid)!;
    expect(modulusLength(current.publicJwk)).toBe(3072);
    expect(current.activateAt).toBe(t.clock.now + t.config.oidc.keyLeadMs);
    expect(old.status).not.toBe('current');
    expect(old.retireAt).toBe(current.activateAt! + t.config.oidc.keyOverlapMs);
    expect(signersAt(live, t.clock.now).has(kid)).toBe(true);
    expect(signersAt(live, current.activateAt!)).toEqual(new Set([current.kid, ...live.filter((k) => k.alg !== 'RS256' && k.status === 'current').map((k) => k.kid)]));
    const events = await t.store.audit.list({ type: 'oidc.signing_key.rotated', limit: 10 });
    expect(events.map((e) => e.details)).toContainEqual(expect.objectContaining({ kid: current.kid, retired: kid, reason: 'rsa_key_too_short' }));

    // A second start finds nothing more to replace.
    await ProviderHolder.create(deps, quiet);
    expect((await t.store.oidcKeys.listLive(t.clock.now)).find((k) => k.alg === 'RS256' && k.status === 'current')!.kid).toBe(current.kid);
  });
});
