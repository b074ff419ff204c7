/**
 * Security headers and cookie attributes on every answer (issue 5), with plain-HTTP localhost and
 * with an HTTPS origin. Every GET route the app registers is visited (found from the router, so a
 * new page is checked without anyone adding it here), signed out and signed in, together with error
 * answers and every answer that sets or clears the session cookie. Extends test/api/http.test.ts,
 * which checks the hosted pages one by one.
 */
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../../src/services/invitations.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { registeredRoutes } from '../helpers/routes.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { record, Tally } from './support/report.ts';

interface Answer {
  readonly what: string;
  readonly response: LightMyRequestResponse;
}

/** The checks every answer must pass; returns the problems found. */
function headerProblems({ what, response }: Answer, https: boolean): string[] {
  const h = response.headers;
  const problems: string[] = [];
  const expectHeader = (name: string, test: (value: string) => boolean, wanted: string) => {
    const value = h[name];
    if (typeof value !== 'string' || !test(value)) problems.push(`${what}: ${name} is ${JSON.stringify(value)}, wanted ${wanted}`);
  };
  const type = String(h['content-type'] ?? '');
  expectHeader('x-content-type-options', (v) => v === 'nosniff', 'nosniff');
  expectHeader('referrer-policy', (v) => v === 'no-referrer' || v === 'same-origin' || v === 'strict-origin-when-cross-origin', 'a referrer policy');
  expectHeader('content-security-policy', (v) => v.includes("frame-ancestors 'none'"), "frame-ancestors 'none'");
  expectHeader('x-frame-options', (v) => v.toUpperCase() === 'DENY', 'DENY');
  if (https) expectHeader('strict-transport-security', (v) => Number(/max-age=(\d+)/.exec(v)?.[1] ?? 0) >= 31_536_000, 'HSTS for a year or more');
  else if (h['strict-transport-security']) problems.push(`${what}: HSTS on plain HTTP`);
  if (type.startsWith('text/html')) {
    expectHeader('content-security-policy', (v) => /script-src [^;]*'self'/.test(v) && !/script-src[^;]*'unsafe-(inline|eval)'/.test(v), 'a script-src without unsafe-inline');
    expectHeader('cache-control', (v) => v.includes('no-store'), 'no-store');
  }
  const personal = response.headers['set-cookie'] !== undefined || what.includes('/api/v1/') || response.statusCode >= 400;
  if (type.startsWith('application/json') && personal) expectHeader('cache-control', (v) => v.includes('no-store'), 'no-store');
  for (const cookie of [response.headers['set-cookie'] ?? []].flat() as string[]) problems.push(...cookieProblems(what, cookie, https));
  return problems;
}

/** Cookie attributes: HttpOnly, SameSite, Path=/, no Domain; Secure and the __Host- prefix over HTTPS. */
function cookieProblems(what: string, cookie: string, https: boolean): string[] {
  const [pair, ...attributes] = cookie.split(';').map((p) => p.trim());
  const name = pair!.split('=')[0]!;
  const has = (attribute: string) => attributes.some((a) => a.toLowerCase().startsWith(attribute.toLowerCase()));
  const problems: string[] = [];
  const say = (problem: string) => problems.push(`${what}: cookie ${name} ${problem} (${cookie.slice(0, 160)})`);
  if (!has('HttpOnly')) say('is not HttpOnly');
  if (!attributes.some((a) => /^samesite=(lax|strict)$/i.test(a))) say('has no SameSite=Lax or Strict');
  if (has('Domain')) say('names a Domain');
  if (https && !has('Secure')) say('is not Secure over HTTPS');
  if (name.includes('keybound_session')) {
    if (!attributes.includes('Path=/')) say('is not Path=/');
    if (https && !name.startsWith('__Host-')) say('has no __Host- prefix over HTTPS');
    if (!https && name !== 'keybound_session') say('has an unexpected name on plain HTTP');
  }
  return problems;
}

describe.each([
  ['plain-HTTP localhost', false, {}],
  ['an HTTPS origin', true, { KEYBOUND_ORIGIN: 'https://login.example.test', KEYBOUND_RP_ID: 'login.example.test' }],
] as const)('security headers and cookies with %s', (_name, https, env) => {
  let t: TestApp;
  const origin = https ? 'https://login.example.test' : 'http://localhost:8080';
  beforeAll(async () => {
    t = await startTestApp({ env: { ...env } });
  });
  afterAll(async () => t?.close());

  it('on every page, API answer, error, and session cookie', async ({ task }) => {
    const tally = new Tally();
    const answers: Answer[] = [];
    const send = async (what: string, options: InjectOptions) => {
      tally.requests++;
      const response = await t.app.inject(options);
      answers.push({ what: `${what} -> ${response.statusCode}`, response });
      return response;
    };
    // Enrolment sets the session cookie; the same account signs in again (cookie set again).
    const authenticator = new SoftAuthenticator({ origin, rpId: https ? 'login.example.test' : 'localhost' });
    const invited = await invite(t.deps, { username: 'headers', createdBy: 'test' });
    if (!invited.ok) throw new Error(invited.code);
    const json = { 'content-type': 'application/json', origin };
    const regOptions = await send('registration options', { method: 'POST', url: '/api/v1/passkeys/registration/options', payload: { enrolmentToken: invited.value.token }, headers: json });
    const enrolled = await send('registration verify', { method: 'POST', url: '/api/v1/passkeys/registration/verify', payload: { response: authenticator.create(regOptions.json()) }, headers: json });
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    const signInOptions = await send('authentication options', { method: 'POST', url: '/api/v1/passkeys/authentication/options', payload: {}, headers: json });
    const signedIn = await send('authentication verify', { method: 'POST', url: '/api/v1/passkeys/authentication/verify', payload: { response: authenticator.get(signInOptions.json()) }, headers: json });
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    const cookie = [signedIn.headers['set-cookie']].flat()[0]!.split(';')[0]!;
    const unused = await invite(t.deps, { username: 'headers-unused', createdBy: 'test' });
    if (!unused.ok) throw new Error(unused.code);

    // Every GET route, signed out and signed in.
    const routes = registeredRoutes(t.app.printRoutes({ commonPrefix: false })).filter((r) => r.methods.includes('GET'));
    expect(routes.length).toBeGreaterThan(10);
    const samples = (path: string): string[] =>
      path.includes('*')
        ? ['.well-known/openid-configuration', 'jwks', 'auth', 'no-such-thing'].map((s) => path.replace('*', s))
        : path.includes(':token')
          ? [path.replace(':token', unused.value.token), path.replace(':token', 'not-a-token')]
          : [path.replace(/:\w+/g, '0b0b0b0b-0000-4000-8000-000000000000')];
    for (const route of routes) {
      for (const url of samples(route.path)) {
        await send(`GET ${url}`, { method: 'GET', url });
        await send(`GET ${url} signed in`, { method: 'GET', url, headers: { cookie } });
      }
    }
    // Errors: unknown paths, wrong media type, malformed JSON, too large, a bad URL, a foreign origin.
    await send('unknown API path', { method: 'GET', url: '/api/v1/nothing' });
    await send('unknown page', { method: 'GET', url: '/nothing' });
    await send('wrong media type', { method: 'POST', url: '/api/v1/passkeys/authentication/options', payload: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await send('malformed JSON', { method: 'POST', url: '/api/v1/passkeys/authentication/options', payload: '{', headers: { 'content-type': 'application/json' } });
    await send('too large', { method: 'POST', url: '/api/v1/passkeys/authentication/options', payload: JSON.stringify({ username: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' } });
    await send('bad URL', { method: 'GET', url: '/api/v1/passkeys/%zz' });
    await send('foreign origin', { method: 'POST', url: '/api/v1/passkeys/authentication/options', payload: {}, headers: { 'content-type': 'application/json', origin: 'https://evil.example' } });
    // Sign-out clears the cookie with the same attributes.
    const signedOut = await send('sign-out', { method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin } });
    expect(signedOut.statusCode).toBe(204);
    const cleared = [signedOut.headers['set-cookie']].flat()[0] ?? '';
    expect(cleared).toMatch(https ? /^__Host-keybound_session=;/ : /^keybound_session=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/);
    // The session cookie lives no longer than the session.
    const maxAge = Number(/Max-Age=(\d+)/.exec([signedIn.headers['set-cookie']].flat()[0]!)?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(t.config.sessionLimits[2].maxMs / 1000);

    const problems = answers.flatMap((a) => headerProblems(a, https));
    expect(problems).toEqual([]);
    tally.notes.push(`${answers.length} answers checked over ${routes.length} GET routes`);
    record(task, tally.figures());
  });
});
