import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configWarnings, loadConfig } from '../../src/config/load.ts';
import { ACR, acrSatisfies, isAcr } from '../../src/core/assurance/level.ts';
import { createClient } from '../../src/oidc/clients.ts';
import { enrol, sessionCookie, startTestApp, type TestApp } from '../helpers/app.ts';
import { rolePolicies } from '../../src/runtime.ts';
import { startCodeSignIn } from '../../src/services/codes/signInStart.ts';
import { verifyCodeSignIn } from '../../src/services/codes/signInVerify.ts';
import { codeSignIn, enrolTotp, MEMBER_CODES_ENV } from './support.ts';

/** Issue 4, required test 6: role policy for code factors, and codes never reaching AAL2. */
describe('code factors and role policy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ...MEMBER_CODES_ENV, KEYBOUND_CODE_FREE_FAILURES: '1000' } });
  });
  afterAll(async () => t?.close());

  it('an admin binds no code factor to sign in with: only the second proofs of its recovery, which never sign in', async () => {
    const { cookie } = await enrol(t, 'root', undefined, 'admin');
    // The default recovery of an AAL2 role, here with no SMS gateway and no mail server: a saved
    // code and a code from an authenticator app (README "Recovery").
    expect(t.deps.policies.admin.recovery).toEqual({ enabled: true, proofs: ['totp'] });
    const refused = await t.post('/api/v1/email-codes', {}, cookie);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('factor_not_allowed');
    expect((await t.post('/api/v1/sms', { phone: '+15555550100' }, cookie)).json().error).toBe('factor_not_allowed');
    expect((await t.post('/api/v1/recovery-codes', {}, cookie)).statusCode).toBe(201);
    const app = await enrolTotp(t, cookie);
    const signIn = await codeSignIn(t, 'root', 'totp', app.code(t.clock.now));
    expect(signIn.statusCode).toBe(403);
    expect(signIn.json().error).toBe('factor_not_allowed');
    // With self-service recovery off, nothing at all.
    const off = await startTestApp({ env: { KEYBOUND_ADMIN_RECOVERY: 'off' } });
    try {
      const { cookie: offCookie } = await enrol(off, 'root', undefined, 'admin');
      for (const path of ['/api/v1/totp', '/api/v1/recovery-codes']) expect((await off.post(path, {}, offCookie)).json().error, path).toBe('factor_not_allowed');
    } finally {
      await off.close();
    }
  });

  it('an admin cannot sign in with codes, even with a factor bound before promotion', async () => {
    const { cookie, account } = await enrol(t, 'promoted');
    const app = await enrolTotp(t, cookie);
    await t.deps.store.accounts.setRole(account.id, 'admin', t.clock.now);
    const refused = await codeSignIn(t, 'promoted', 'totp', app.code(t.clock.now));
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('factor_not_allowed');
    // Starting looks the same as for anyone: the role is only named to whoever holds the factor.
    expect((await t.post('/api/v1/codes/sign-in/start', { username: 'promoted', factor: 'totp' })).statusCode).toBe(200);
    // The code was compared, so the refusal counted a guess, as every compared code does.
    expect((await t.deps.store.authenticators.findBound(account.id, 'totp'))!.failures).toBe(1);
  });

  it('finding 11: a forbidden factor answers a wrong code as an unknown username does, and names itself only after a right one', async () => {
    const { cookie, account } = await enrol(t, 'demoted');
    const app = await enrolTotp(t, cookie);
    await t.deps.store.accounts.setRole(account.id, 'admin', t.clock.now);
    const stranger = await codeSignIn(t, 'demoted', 'totp', '000000');
    const nobody = await codeSignIn(t, 'no-such-person', 'totp', '000000');
    expect([stranger.statusCode, stranger.json()]).toEqual([nobody.statusCode, nobody.json()]);
    expect(stranger.json().error).toBe('code_invalid');
    // The guess was counted before it was compared.
    expect((await t.deps.store.authenticators.findBound(account.id, 'totp'))!.failures).toBe(1);
    const holder = await codeSignIn(t, 'demoted', 'totp', app.code(t.clock.now));
    expect(holder.statusCode).toBe(403);
    expect(holder.json().error).toBe('factor_not_allowed');
    expect(holder.cookies.find((c) => c.name.endsWith('keybound_session'))).toBeUndefined();
    const events = await t.deps.store.audit.list({ accountId: account.id, limit: 10 });
    expect(events.find((e) => e.type === 'sign_in' && e.reason === 'code_invalid')?.details).toMatchObject({ checked: true, withheld: 'factor_not_allowed' });
  });

  it("a member's code sign-in is AAL1 and cannot satisfy a request for AAL2", async () => {
    const { cookie } = await enrol(t, 'mia');
    const app = await enrolTotp(t, cookie);
    const signedIn = await codeSignIn(t, 'mia', 'totp', app.code(t.clock.now));
    expect(signedIn.statusCode).toBe(200);
    const { acr, amr, aal } = signedIn.json();
    expect({ acr, amr, aal }).toEqual({ acr: ACR.aal1, amr: ['otp'], aal: 1 });
    expect(isAcr(acr) && acrSatisfies(acr, ACR.aal2)).toBe(false);
    const session = (await t.get('/api/v1/session', sessionCookie(signedIn))).json();
    expect(session).toMatchObject({ acr: ACR.aal1, aal: 1 });

    // Through the OpenID provider: acr_values=aal2 with this session gives no authorization code;
    // the interaction asks for a passkey. The same session does get a code when AAL1 is enough
    // (a client whose minimum level is AAL1: the default minimum is phishing-resistant AAL2).
    const client = await createClient(
      t.deps,
      { name: 'Policy test', redirectUris: ['http://localhost:9999/cb'], postLogoutRedirectUris: [], public: true, jwks: null, grantTypes: ['authorization_code'], requireDpop: false, minAcr: ACR.aal1, firstParty: true },
      async () => null,
    );
    if (!client.ok) throw new Error(client.code);
    const clientId = client.value.client.clientId;
    const aal2 = await authorize(t, clientId, sessionCookie(signedIn), ACR.aal2);
    expect(aal2.code).toBeNull();
    expect(aal2.last.statusCode).toBe(200);
    expect(aal2.last.body).toMatch(/Continue with a passkey/);
    const aal1 = await authorize(t, clientId, sessionCookie(signedIn), ACR.aal1);
    expect(aal1.code).not.toBeNull();
  });

  it('refuses configurations where codes could never be used as allowed', () => {
    expect(() => loadConfig({ KEYBOUND_MEMBER_CODE_FACTORS: 'totp', KEYBOUND_MEMBER_MIN_AAL: '2' })).toThrow(/codes alone are AAL1/);
    expect(() => loadConfig({ KEYBOUND_MEMBER_CODE_FACTORS: 'email' })).toThrow(/KEYBOUND_SMTP_URL/);
    expect(() => loadConfig({ KEYBOUND_MEMBER_CODE_FACTORS: 'sms' })).toThrow(/KEYBOUND_SMS_PROVIDER=none/);
    expect(() => loadConfig({ KEYBOUND_MEMBER_CODE_FACTORS: 'totp,password' })).toThrow(ConfigError);
    expect(() => loadConfig({ KEYBOUND_CODE_MAX_FAILURES: '101' })).toThrow(/1 to 100/);
    expect(() => loadConfig({ KEYBOUND_CODE_TTL: '601' })).toThrow(/KEYBOUND_CODE_TTL/);
    expect(() => loadConfig({ KEYBOUND_CODE_DIGITS: '4' })).toThrow(/KEYBOUND_CODE_DIGITS/);
    const risky = configWarnings(
      loadConfig({ KEYBOUND_ADMIN_MIN_AAL: '1', KEYBOUND_ADMIN_CODE_FACTORS: 'totp', KEYBOUND_MEMBER_CODE_FACTORS: 'sms,email', KEYBOUND_MEMBER_MIN_AAL: '1', KEYBOUND_SMS_PROVIDER: 'console', KEYBOUND_SMTP_URL: 'smtp://127.0.0.1:2525' }),
    ).join('\n');
    expect(risky).toMatch(/KEYBOUND_ADMIN_CODE_FACTORS=totp: administrators may sign in with one-time codes/);
    expect(risky).toMatch(/includes sms: SMS is a restricted authenticator/);
    expect(risky).toMatch(/includes email: email codes are not an authenticator NIST SP 800-63B-4 accepts/);
    expect(risky).toMatch(/KEYBOUND_SMS_PROVIDER=console/);
    expect(configWarnings(loadConfig({}))).toEqual([]);
    const defaults = loadConfig({});
    expect(defaults.roles.admin).toMatchObject({ codeFactors: [], minAal: 2 });
    expect(defaults.roles.member).toMatchObject({ codeFactors: [], minAal: 2 });
  });
});

/** Follows an authorization request (PKCE S256) through the provider's redirects, cookies kept; the code it returns, if any. */
async function authorize(t: TestApp, clientId: string, sessionCookie: string, acr: string): Promise<{ code: string | null; last: LightMyRequestResponse }> {
  const verifier = 'v'.repeat(43);
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: 'http://localhost:9999/cb',
    response_type: 'code',
    scope: 'openid',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'state-1',
    nonce: 'nonce-1',
    acr_values: acr,
  });
  const jar = new Map<string, string>([sessionCookie.split('=', 2) as [string, string]]);
  let url = `/oidc/auth?${query}`;
  for (let hop = 0; hop < 8; hop++) {
    const response = await t.app.inject({ method: 'GET', url, headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of response.cookies) jar.set(c.name, c.value);
    const location = response.headers.location;
    if (response.statusCode < 300 || response.statusCode >= 400 || typeof location !== 'string') return { code: null, last: response };
    const next = new URL(location, 'http://localhost:8080');
    if (next.origin === 'http://localhost:9999') return { code: next.searchParams.get('code'), last: response };
    url = next.pathname + next.search;
  }
  throw new Error('too many redirects');
}

describe('phishing-resistant by default (OWASP ASVS 5.0 6.3.3, DESIGN principle 1)', () => {
  let plain: TestApp;
  let allowing: TestApp;
  beforeAll(async () => {
    plain = await startTestApp({ env: { KEYBOUND_CODE_FREE_FAILURES: '1000' } }); // default role settings
    allowing = await startTestApp({ env: { ...MEMBER_CODES_ENV, KEYBOUND_CODE_FREE_FAILURES: '1000' } });
  });
  afterAll(async () => Promise.all([plain?.close(), allowing?.close()]));

  it('ASVS 6.3.3: with default settings a member cannot sign in with a TOTP or recovery code alone', async () => {
    expect(loadConfig({}).roles.member).toMatchObject({ codeFactors: [], minAal: 2 });
    // With the defaults a member binds an authenticator app and recovery codes for recovery only
    // (README "Recovery"): neither signs in.
    const { cookie } = await enrol(plain, 'dora');
    const plainApp = await enrolTotp(plain, cookie);
    const codes = await plain.post('/api/v1/recovery-codes', {}, cookie);
    expect(codes.statusCode).toBe(201);
    for (const [factor, code] of [['totp', plainApp.code(plain.clock.now)], ['recovery', codes.json().codes[0] as string]] as const) {
      const refused = await codeSignIn(plain, 'dora', factor, code);
      expect(refused.statusCode, factor).toBe(403);
      expect(refused.json().error, factor).toBe('factor_not_allowed');
    }
    // ...and factors bound while a setting allowed them sign nobody in under the defaults.
    const { cookie: allowed, account } = await enrol(allowing, 'dora');
    const app = await enrolTotp(allowing, allowed);
    const made = await allowing.post('/api/v1/recovery-codes', {}, allowed);
    expect(made.statusCode).toBe(201);
    const defaults = { ...allowing.deps, policies: rolePolicies(loadConfig({ KEYBOUND_DATA_KEYS: '' })) };
    const context = { ip: '127.0.0.1', userAgent: 'test' };
    for (const [factor, code] of [['totp', app.code(allowing.clock.now)], ['recovery', made.json().codes[0] as string]] as const) {
      const started = await startCodeSignIn(defaults, { username: 'dora', factor, context });
      if (!started.ok) throw new Error(started.code);
      const result = await verifyCodeSignIn(defaults, { attemptId: started.value.attemptId, code, context });
      expect(result.ok, factor).toBe(false);
      if (!result.ok) expect(result.code, factor).toBe('factor_not_allowed');
    }
    expect(await allowing.store.sessions.listActive(account.id, allowing.clock.now)).toHaveLength(1); // the enrolment's only
  });
});
