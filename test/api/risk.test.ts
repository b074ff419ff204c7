import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/core/assurance/level.ts';
import { enrol, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { buildCityDb, TEST_PLACES } from '../helpers/mmdb.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { codeSignIn, enrolTotp, MEMBER_CODES_ENV } from '../codes/support.ts';
import { authorize, registerTestClient } from '../helpers/oidcInject.ts';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0';
const LONDON = '127.0.0.1';
const PARIS = '198.51.100.7';
const NEW_YORK = '203.0.113.9';
const MINUTE = 60_000;

const dir = mkdtempSync(join(tmpdir(), 'keybound-risk-'));
const cityDb = join(dir, 'city.mmdb');
writeFileSync(cityDb, buildCityDb(TEST_PLACES));

/** The test app as seen from one place and browser at a time. */
function from(t: TestApp, where: { ip: string; ua: string }): TestApp {
  return {
    ...t,
    post: (url, body, cookie) =>
      t.app.inject({ method: 'POST', url, payload: body as object, remoteAddress: where.ip, headers: { origin: ORIGIN, 'content-type': 'application/json', 'user-agent': where.ua, ...(cookie ? { cookie } : {}) } }),
    get: (url, cookie) => t.app.inject({ method: 'GET', url, remoteAddress: where.ip, headers: { 'user-agent': where.ua, ...(cookie ? { cookie } : {}) } }),
  };
}

async function lastSignIn(t: TestApp, accountId: string) {
  const [event] = await t.store.audit.list({ accountId, type: 'sign_in', limit: 1 });
  return event!;
}

describe.each(BACKENDS)('risk policy, default rules, with a city database (%s)', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ backend, env: { ...MEMBER_CODES_ENV, KEYBOUND_GEOIP_DB: cityDb } });
  });
  afterAll(() => t.close());

  it('records place and device; refuses a code sign-in from a new country (and after impossible travel), not a passkey', async () => {
    const london = from(t, { ip: LONDON, ua: CHROME });
    const { cookie, account, authenticator } = await enrol(london, 'ada');
    const totp = await enrolTotp(london, cookie);
    const enrolled = await lastSignIn(t, account.id);
    expect(enrolled.details.risk).toMatchObject({ decision: 'allow', reasons: [], device: 'Chrome on Linux', place: { country: 'GB', city: 'London' } });

    t.clock.advance(2 * 60 * MINUTE);
    const paris = from(t, { ip: PARIS, ua: CHROME });
    const refused = await codeSignIn(paris, 'ada', 'totp', totp.code(t.clock.now));
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'risk_denied', reasons: ['new_country'] });
    expect(refused.json().message).toMatch(/a country this account has not signed in from before.*passkey/);
    const failure = await lastSignIn(t, account.id);
    expect(failure).toMatchObject({ outcome: 'failure', reason: 'risk_denied' });
    expect(failure.details.risk).toMatchObject({ decision: 'deny', reasons: ['new_country'], place: { country: 'FR' } });

    const byPasskey = await signIn(paris, authenticator);
    expect(byPasskey.statusCode).toBe(200);
    // No built-in rule asks about a passkey from a new country, so the sign-in did not read the
    // account's history for it: placed, allowed, and no history signal computed.
    expect((await lastSignIn(t, account.id)).details.risk).toMatchObject({ decision: 'allow', signals: [], place: { country: 'FR' } });

    // New York 30 minutes after Paris: 5,800 km at more than 10,000 km/h, and a country never seen.
    t.clock.advance(30 * MINUTE);
    const ny = await codeSignIn(from(t, { ip: NEW_YORK, ua: CHROME }), 'ada', 'totp', totp.code(t.clock.now));
    expect(ny.statusCode).toBe(403);
    expect(ny.json().reasons).toEqual(['new_country', 'impossible_travel']);

    // From a country seen before, a code is fine.
    t.clock.advance(24 * 60 * MINUTE);
    const back = await codeSignIn(london, 'ada', 'totp', totp.code(t.clock.now));
    expect(back.statusCode).toBe(200);

    // /account lists the recent sign-ins with place, device and reasons in words.
    const page = await london.get('/account', sessionCookie(back));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Recent sign-ins');
    expect(page.body).toMatch(/authenticator app code<\/td>\n<td>New York, US · <span class="agent"[^>]*>Chrome on Linux<\/span><\/td>\n<td>Refused<\/td>/);
    expect(page.body).toContain('<li data-reason="impossible_travel">too far from the last sign-in for the time between them</li>');
    expect(page.body).toContain('<li data-reason="new_country">a country this account has not signed in from before</li>');
  });

  it('asks a session used from another browser to sign in again (401 step_up_required), and records it', async () => {
    const chrome = from(t, { ip: LONDON, ua: CHROME });
    const { cookie, account } = await enrol(chrome, 'bea');
    expect((await chrome.get('/api/v1/sessions', cookie)).statusCode).toBe(200);
    // Another address alone is recorded as a signal only: the default rules do not act on it.
    expect((await from(t, { ip: PARIS, ua: CHROME }).get('/api/v1/sessions', cookie)).statusCode).toBe(200);

    const stolen = await from(t, { ip: LONDON, ua: FIREFOX }).get('/api/v1/sessions', cookie);
    expect(stolen.statusCode).toBe(401);
    expect(stolen.json()).toMatchObject({ error: 'step_up_required', reasons: ['session_agent_changed'], acr_values: ACR.aal2PhishingResistant, max_age: 0 });
    expect(stolen.json().message).toMatch(/another browser/);
    expect(stolen.headers['www-authenticate']).toMatch(/insufficient_user_authentication.*acr_values="urn:keybound:aal2:phr".*max_age=0/);
    const [event] = await t.store.audit.list({ accountId: account.id, type: 'risk.session', limit: 1 });
    expect(event).toMatchObject({ outcome: 'failure', reason: 'step_up_required', details: { reasons: ['session_agent_changed'] } });

    // A page sends the person to the passkey prompt, which says why.
    const page = await from(t, { ip: LONDON, ua: FIREFOX }).get('/account', cookie);
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login?next=/account&step_up=session_agent_changed');
    const prompt = await t.get(page.headers.location as string);
    expect(prompt.body).toContain('the session is used from another browser');
  });

  it('asks for a passkey sign-in from the last 10 minutes before an administrative action', async () => {
    const admin = from(t, { ip: LONDON, ua: CHROME });
    const { cookie } = await enrol(admin, 'root', new SoftAuthenticator(), 'admin');
    expect((await admin.get('/api/v1/admin/accounts', cookie)).statusCode).toBe(200);
    t.clock.advance(11 * MINUTE);
    const stale = await admin.get('/api/v1/admin/accounts', cookie);
    expect(stale.statusCode).toBe(401);
    expect(stale.json()).toMatchObject({ error: 'step_up_required', reasons: ['privileged_action'], acr_values: ACR.aal2PhishingResistant, max_age: 600 });
    // The session itself still works where nothing privileged is asked.
    expect((await admin.get('/api/v1/sessions', cookie)).statusCode).toBe(200);
  });
});

describe.each(BACKENDS)('risk policy at OpenID authorization (%s)', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ backend });
  });
  afterAll(() => t.close());

  it('a client marked sensitive needs a passkey sign-in from the last 10 minutes; others keep single sign-on', async () => {
    const { cookie } = await enrol(t, 'eve');
    const sensitive = await registerTestClient(t, { sensitive: true });
    const ordinary = await registerTestClient(t);
    expect((await authorize(t, sensitive, cookie)).code).toBeTruthy();
    t.clock.advance(11 * MINUTE);
    expect((await authorize(t, ordinary, cookie)).code).toBeTruthy();
    // The sensitive client's request stops at the sign-in page of the interaction: a new passkey sign-in is asked for.
    await expect(authorize(t, sensitive, cookie)).rejects.toThrow(/stopped at \/interaction\/[^ ]+ with 200/);
  });
});

describe.each(BACKENDS)('risk policy from a file (%s)', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    const file = join(dir, `policy-${backend}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        rules: [
          { name: 'new_key_needs_aal3', when: { event: ['sign_in'], signals: ['new_device'], factor: ['passkey'] }, then: { step_up: { acr: ACR.aal3, max_age: 300 } } },
          { name: 'no_new_york', when: { event: ['sign_in'], signals: ['new_country'] }, then: 'deny', advice: 'Sign in from the office.' },
        ],
      }),
    );
    t = await startTestApp({ backend, env: { KEYBOUND_POLICY_FILE: file, KEYBOUND_GEOIP_DB: cityDb } });
  });
  afterAll(() => t.close());

  it('answers 401 step_up_required with acr_values and max_age, and 403 risk_denied with every reason', async () => {
    const london = from(t, { ip: LONDON, ua: CHROME });
    const { authenticator } = await enrol(london, 'cy');
    expect((await signIn(london, authenticator)).statusCode).toBe(200);
    const otherBrowser = await signIn(from(t, { ip: LONDON, ua: FIREFOX }), authenticator);
    expect(otherBrowser.statusCode).toBe(401);
    expect(otherBrowser.json()).toMatchObject({ error: 'step_up_required', reasons: ['new_device'], acr_values: ACR.aal3, max_age: 300 });
    expect(otherBrowser.cookies.find((c) => c.name.endsWith('keybound_session'))).toBeUndefined();

    const ny = await signIn(from(t, { ip: NEW_YORK, ua: FIREFOX }), authenticator);
    expect(ny.statusCode).toBe(403);
    expect(ny.json()).toMatchObject({ error: 'risk_denied', reasons: ['new_device', 'new_country'] });
    expect(ny.json().message).toMatch(/Sign in from the office/);
    expect(sessionCookie(await signIn(london, authenticator))).toBeTruthy();
  });
});
