import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { startMetricsListener } from '../../src/observability/metricsListener.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { buildApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createDeps, openStore } from '../../src/runtime.ts';
import { invite } from '../../src/services/invitations.ts';
import { freshDatabase } from '../helpers/db.ts';
import { enrol, ManualClock, ORIGIN, signIn, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';

describe('HTTP surface', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { KEYBOUND_RATE_LIMIT_CEREMONY: '5', KEYBOUND_RATE_LIMIT_WINDOW: '60' } });
  });
  afterAll(async () => t?.close());

  it('sends security headers and a strict CSP on every page', async () => {
    const { cookie, token } = await enrol(t, 'pages');
    const invited = await invite(t.deps, { username: 'page-viewer', createdBy: 'test' });
    if (!invited.ok) throw new Error();
    for (const [url, c] of [
      ['/login', undefined],
      [`/enrol/${invited.value.token}`, undefined],
      [`/enrol/${token}`, undefined],
      ['/account', cookie],
      ['/nowhere', undefined],
    ] as const) {
      const response = await t.get(url, c);
      expect(response.headers['content-type'], url).toMatch(/^text\/html/);
      expect(response.headers['content-security-policy'], url).toContain("frame-ancestors 'none'");
      expect(response.headers['content-security-policy'], url).toContain("script-src 'self'");
      expect(response.headers['content-security-policy'], url).not.toContain('unsafe-inline');
      expect(response.headers['x-frame-options'], url).toBe('DENY');
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
      expect(response.headers['cache-control'], url).toBe('no-store');
    }
    const api = await t.get('/api/v1/session', cookie);
    expect(api.headers['cache-control']).toBe('no-store');
    expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('redirects /account to sign-in without a session, and / to the right place', async () => {
    const account = await t.get('/account');
    expect(account.statusCode).toBe(303);
    expect(account.headers.location).toBe('/login?next=/account');
    expect((await t.get('/')).headers.location).toBe('/login');
  });

  it('serves the browser script, the login page with passkey autofill, and the OpenAPI document', async () => {
    const script = await t.get('/assets/keybound.js');
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.body).toContain('navigator.credentials');
    const login = await t.get('/login');
    expect(login.body).toContain('autocomplete="username webauthn"');
    const openapi = await t.get('/api/v1/openapi.json');
    expect(openapi.json().openapi).toBe('3.1.0');
    expect(Object.keys(openapi.json().paths)).toEqual(expect.arrayContaining(['/api/v1/passkeys/authentication/verify', '/api/v1/session']));
  });

  it('rate limits the ceremony endpoints per address, with retry_after', async () => {
    // An address of its own, so the other tests' ceremonies do not count against it.
    const from = (remoteAddress: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/passkeys/authentication/options', payload: {}, headers: { origin: ORIGIN }, remoteAddress });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await from('10.1.1.1');
      statuses.push(last.statusCode);
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(last!.json()).toMatchObject({ error: 'rate_limited', retry_after: expect.any(Number) });
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    expect((await from('10.9.9.9')).statusCode).toBe(200);
    t.clock.advance(60_000);
    expect((await from('10.1.1.1')).statusCode).toBe(200);
  });

  it('answers health, readiness and Prometheus metrics with sign-ins by method and result', async () => {
    expect((await t.get('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await t.get('/readyz')).json()).toEqual({ status: 'ready' });
    t.clock.advance(60_000);
    const { authenticator } = await enrol(t, 'metered');
    t.clock.advance(60_000);
    await signIn(t, authenticator);
    await signIn(t, authenticator, { flags: { uv: false } });
    // Metrics have a listener of their own (issue 10, finding 14).
    const listener = await startMetricsListener(t.deps.metrics, { port: 0, host: '127.0.0.1' });
    try {
      const address = listener.address() as AddressInfo;
      const metrics = await fetch(`http://127.0.0.1:${address.port}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      const body = await metrics.text();
      expect(body).toMatch(/keybound_sign_ins_total\{method="passkey",result="success"\} [1-9]/);
      expect(body).toMatch(/keybound_sign_ins_total\{method="passkey",result="passkey_user_not_verified"\} 1/);
      expect(body).toMatch(/keybound_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/api\/v1\/passkeys\/authentication\/verify"/);
    } finally {
      listener.close();
    }
  });

  it('answers unknown API paths and methods with JSON errors', async () => {
    const missing = await t.get('/api/v1/nothing');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('not_found');
    const wrongType = await t.app.inject({ method: 'POST', url: '/api/v1/passkeys/authentication/options', payload: 'username=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().error).toBe('unsupported_media_type');
    const providerBody = await t.app.inject({ method: 'POST', url: '/oidc/token', payload: `grant_type=client_credentials&pad=${'x'.repeat(20_000)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(providerBody.statusCode).toBe(413);
    expect(providerBody.json().error).toBe('request_too_large');
    const providerMethod = await t.app.inject({ method: 'PUT', url: '/oidc/token' });
    expect(providerMethod.statusCode).toBe(404);
    expect(providerMethod.json().error).toBe('not_found');
    const empty = await t.app.inject({ method: 'POST', url: '/api/v1/passkeys/authentication/options', headers: { 'content-type': 'application/json' } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toBe('invalid_request');
  });
});

describe('logs', () => {
  it('never contain enrolment tokens, session tokens or cookies', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const database = await freshDatabase('sqlite');
    const config = loadConfig({ KEYBOUND_DATABASE_URL: database.url, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, KEYBOUND_RATE_LIMIT_CEREMONY: '0' });
    const { db, store } = await openStore(config);
    const deps = await createDeps({ config, store, clock: new ManualClock().read, metrics: createMetrics({ processMetrics: false }) });
    const app = await buildApp(deps, { logLevel: 'trace', logStream: stream });
    try {
      const harness = {
        app,
        deps,
        store,
        config,
        post: (url: string, body: unknown, cookie?: string) => app.inject({ method: 'POST', url, payload: body as object, headers: { origin: ORIGIN, ...(cookie ? { cookie } : {}) } }),
        get: (url: string, cookie?: string) => app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} }),
      } as unknown as TestApp;
      const { cookie, token } = await enrol(harness, 'logged');
      await app.inject({ method: 'GET', url: `/enrol/${token}` });
      await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
      await app.inject({ method: 'GET', url: '/login?next=/account&secret=abc123' });
      const text = lines.join('');
      expect(text).toContain('incoming request');
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[1]);
      expect(text).not.toContain(cookie.split('=')[1]!.split('.')[1]);
      expect(text).not.toContain('abc123');
      expect(text).toContain('/enrol/[redacted]');
    } finally {
      await app.close();
      await db.close();
      await database.drop();
    }
  });
});
