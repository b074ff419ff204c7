import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR, acrSatisfies } from '../../src/core/assurance/level.ts';
import { DataKeyring } from '../../src/crypto/dataKeys.ts';
import { startCodeSignIn } from '../../src/services/codes/signInStart.ts';
import { verifyCodeSignIn } from '../../src/services/codes/signInVerify.ts';
import { enrol, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { codeSignIn, enrolTotp, MEMBER_CODES_ENV, TotpApp } from './support.ts';

describe('TOTP: enrolment, sign-in, window and replay', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Delays out of the way: these tests are about the window and replay, not throttling.
    t = await startTestApp({ env: { ...MEMBER_CODES_ENV, KEYBOUND_CODE_FREE_FAILURES: '1000' } });
  });
  afterAll(async () => t?.close());

  it('enrols only from a passkey sign-in no older than 5 minutes', async () => {
    const { cookie, authenticator } = await enrol(t, 'tina');
    t.clock.advance(5 * 60_000 + 1000);
    const stale = await t.post('/api/v1/totp', {}, cookie);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('fresh_auth_required');
    const again = await signIn(t, authenticator);
    expect(again.statusCode).toBe(200);
    expect((await t.post('/api/v1/totp', {}, sessionCookie(again))).statusCode).toBe(201);
    expect((await t.post('/api/v1/totp', {})).statusCode).toBe(401);
  });

  it('answers 201 {otpauthUri, qrSvg}, confirms with a first code, then signs in at AAL1 with amr otp', async () => {
    const { cookie, account } = await enrol(t, 'terry');
    const begun = await t.post('/api/v1/totp', {}, cookie);
    expect(begun.statusCode).toBe(201);
    const { otpauthUri, qrSvg } = begun.json();
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/Keybound:terry\?secret=[A-Z2-7]{32}&issuer=Keybound&algorithm=SHA1&digits=6&period=30$/);
    expect(qrSvg).toMatch(/^<svg [^>]*viewBox="0 0 \d+ \d+"/);
    expect(qrSvg).not.toMatch(/style=|<script/);
    const app = new TotpApp(otpauthUri);
    const [stored] = await t.deps.store.transaction(async (tx) => [await tx.authenticators.findPending(account.id, 'totp')]);
    expect(stored!.secret).toMatch(/^v1\.test\./); // sealed with the data key, not the seed
    expect(stored!.secret).not.toContain(new URL(otpauthUri).searchParams.get('secret'));

    // Not usable before confirmation.
    const early = await codeSignIn(t, 'terry', 'totp', app.code(t.clock.now));
    expect(early.json().error).toBe('code_invalid');
    const wrong = await t.post('/api/v1/totp/confirm', { code: app.code(t.clock.now, 5) }, cookie);
    expect(wrong.json().error).toBe('code_invalid');
    const confirmed = await t.post('/api/v1/totp/confirm', { code: app.code(t.clock.now) }, cookie);
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().factor).toMatchObject({ factor: 'totp', strength: ['can be phished'], phishingResistant: false, status: 'active' });

    // The confirming code's step is used up; the next step signs in.
    expect((await codeSignIn(t, 'terry', 'totp', app.code(t.clock.now))).json().error).toBe('code_used');
    t.clock.advance(30_000);
    const signedIn = await codeSignIn(t, 'terry', 'totp', app.code(t.clock.now));
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    const body = signedIn.json();
    expect(body).toMatchObject({ acr: ACR.aal1, amr: ['otp'], aal: 1, account: { username: 'terry' }, factor: { kind: 'totp', phishingResistant: false } });
    expect(signedIn.cookies.some((c) => c.name.endsWith('keybound_session'))).toBe(true);
    expect(acrSatisfies(body.acr, ACR.aal2)).toBe(false);
    expect(JSON.stringify(body)).not.toContain(new URL(otpauthUri).searchParams.get('secret'));
  });

  it('accepts a code one step old once, refuses it the second time, and refuses codes two steps away', async () => {
    const { cookie } = await enrol(t, 'wendy');
    const app = await enrolTotp(t, cookie); // uses step S (the one before the step of enrolment)
    t.clock.advance(60_000); // now S + 3
    const oneStepOld = app.code(t.clock.now, -1); // S + 2
    expect((await codeSignIn(t, 'wendy', 'totp', oneStepOld)).statusCode).toBe(200);
    const again = await codeSignIn(t, 'wendy', 'totp', oneStepOld);
    expect(again.statusCode).toBe(400);
    expect(again.json().error).toBe('code_used');
    for (const offset of [-2, 2]) {
      const far = await codeSignIn(t, 'wendy', 'totp', app.code(t.clock.now, offset));
      expect(far.json().error, `offset ${offset}`).toBe('code_invalid');
    }
    // A step after the last used one is fine, even with spaces in it.
    const current = app.code(t.clock.now);
    expect((await codeSignIn(t, 'wendy', 'totp', `${current.slice(0, 3)} ${current.slice(3)}`)).statusCode).toBe(200);
  });

  it('ASVS 6.5.5: a code for the next time step is refused, one for the previous step is accepted', async () => {
    const { cookie } = await enrol(t, 'vera');
    const app = await enrolTotp(t, cookie); // uses the step before the current one, S
    t.clock.advance(60_000); // now S + 3
    const next = await codeSignIn(t, 'vera', 'totp', app.code(t.clock.now, 1));
    expect(next.statusCode).toBe(400);
    expect(next.json().error).toBe('code_invalid');
    const previous = await codeSignIn(t, 'vera', 'totp', app.code(t.clock.now, -1));
    expect(previous.statusCode, previous.body).toBe(200);
    expect(previous.json()).toMatchObject({ aal: 1, amr: ['otp'] });
  });

  it('refuses non-digits before spending a guess', async () => {
    const { cookie, account } = await enrol(t, 'nina');
    const app = await enrolTotp(t, cookie);
    const before = (await t.deps.store.authenticators.findBound(account.id, 'totp'))!.failures;
    for (const bad of ['12345a', '１２３４５６', '12-34-56', '1234567']) {
      const response = await codeSignIn(t, 'nina', 'totp', bad);
      expect(response.statusCode, bad).toBe(400);
      expect(response.json().error, bad).toBe('code_malformed');
    }
    expect((await t.deps.store.authenticators.findBound(account.id, 'totp'))!.failures).toBe(before);
    expect((await codeSignIn(t, 'nina', 'totp', app.code(t.clock.now))).statusCode).toBe(200);
  });

  it('keeps working across a data-key rotation, and seals the seed again under the new key', async () => {
    const { cookie, account } = await enrol(t, 'rotor');
    const app = await enrolTotp(t, cookie);
    expect((await t.deps.store.authenticators.findBound(account.id, 'totp'))!.secret).toMatch(/^v1\.test\./);
    const rotated = { ...t.deps, dataKeys: new DataKeyring([{ id: 'next', key: new Uint8Array(32).fill(9) }, ...t.deps.dataKeys.keys]) };
    const context = { ip: '127.0.0.1', userAgent: 'test' };
    const started = await startCodeSignIn(rotated, { username: 'rotor', factor: 'totp', context });
    if (!started.ok) throw new Error(started.code);
    const signedIn = await verifyCodeSignIn(rotated, { attemptId: started.value.attemptId, code: app.code(t.clock.now), context });
    expect(signedIn.ok).toBe(true);
    expect((await t.deps.store.authenticators.findBound(account.id, 'totp'))!.secret).toMatch(/^v1\.next\./);
  });

  it('removes a code factor from a fresh passkey session only', async () => {
    const { cookie, authenticator } = await enrol(t, 'remy');
    const app = await enrolTotp(t, cookie);
    const factor = (await t.get('/api/v1/factors', cookie)).json().factors.find((f: { factor: string }) => f.factor === 'totp');
    t.clock.advance(6 * 60_000);
    const del = (c: string) => t.app.inject({ method: 'DELETE', url: `/api/v1/factors/${factor.id}`, headers: { cookie: c, origin: 'http://localhost:8080' } });
    expect((await del(cookie)).json().error).toBe('fresh_auth_required');
    const fresh = sessionCookie(await signIn(t, authenticator));
    expect((await del(fresh)).statusCode).toBe(204);
    expect((await del(fresh)).json().error).toBe('factor_not_found');
    expect((await codeSignIn(t, 'remy', 'totp', app.code(t.clock.now))).json().error).toBe('code_invalid');
  });
});
