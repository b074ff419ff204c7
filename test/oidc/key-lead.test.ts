/**
 * Issue 10, finding 7: a rotation publishes the next signing key before it signs anything. A
 * verifier that fetched the JWKS once after the rotation (as jose's createRemoteJWKSet and
 * oauth4webapi cache it) verifies every token signed after the switch. The activation time lives in
 * the database, so every instance switches at its next key refresh after it (1 s here): two
 * instances on one PostgreSQL, rotated through A, are watched on both. The test's clock is moved
 * past the activation time instead of waiting KEYBOUND_OIDC_KEY_LEAD.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../src/oidc/keys.ts';
import { enrol, ManualClock, secondInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { authorize, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';

describe('signing-key lead time', () => {
  let t: TestApp | undefined;
  let b: TestApp | undefined;
  afterEach(async () => {
    await b?.close();
    await t?.close();
    t = b = undefined;
  });

  it('finding 7: the next key is in the JWKS before it signs, and a JWKS cached before the switch verifies tokens after it', async () => {
    t = await startTestApp({ backend: 'postgres', clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_KEY_REFRESH: '1' } });
    b = await secondInstance(t, { KEYBOUND_OIDC_KEY_REFRESH: '1' });
    const app = t;
    const instances = [t, b];
    const clientId = await registerTestClient(app);
    const { cookie } = await enrol(app, 'verifier');
    const jwksOf = async (instance: TestApp) => (await instance.app.inject({ method: 'GET', url: '/oidc/jwks' })).json() as JSONWebKeySet;
    const jwks = () => jwksOf(app);
    /** An ID token authorized and redeemed through `instance`. */
    const idTokenOf = async (instance: TestApp) => {
      const { code, verifier } = await authorize(instance, clientId, cookie);
      const tokens = await tokenRequest(instance, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId });
      return (tokens.json() as { id_token: string }).id_token;
    };
    const idToken = () => idTokenOf(app);
    /** Polls (bounded) until `check` holds: instances re-read keys every second. */
    const eventually = async <T>(read: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> => {
      for (let i = 0; i < 50; i++) {
        const value = await read();
        if (check(value)) return value;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`timed out waiting for ${what}`);
    };

    const oldKid = decodeProtectedHeader(await idToken()).kid!;
    const rotation = await rotateSigningKey(app.deps);
    expect(rotation.activeFrom).toBe(app.clock.now + app.config.oidc.keyLeadMs);
    expect(app.config.oidc.keyLeadMs).toBeGreaterThan(600_000);

    // Published at once (after the next refresh) on both instances, both keys in the set...
    let published: JSONWebKeySet = { keys: [] };
    for (const instance of instances) {
      published = await eventually(() => jwksOf(instance), (set) => set.keys.some((k) => k.kid === rotation.kid), 'the next key in the JWKS');
      expect(published.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, rotation.kid]));
    }
    // ...and the old key still signs, on both.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const instance of instances) expect(decodeProtectedHeader(await idTokenOf(instance)).kid).toBe(oldKid);

    // A verifier caches the JWKS now, before the switch.
    const cached = createLocalJWKSet(published);

    // Past the activation time every instance signs with the new key.
    app.clock.advance(app.config.oidc.keyLeadMs + 1000);
    for (const instance of instances) {
      const afterSwitch = await eventually(() => idTokenOf(instance), (token) => decodeProtectedHeader(token).kid === rotation.kid, 'the new key to sign');
      const verified = await jwtVerify(afterSwitch, cached, { issuer: app.config.oidc.issuer, audience: clientId });
      expect(verified.protectedHeader.kid).toBe(rotation.kid);
    }
    // The old key still verifies what it signed during the overlap.
    expect((await jwks()).keys.map((k) => k.kid)).toContain(oldKid);
  });
});
