/**
 * Issue 10, finding 8 ("one gate per route, declared") and the second half of finding 5 (a session
 * whose passkey is no longer usable is never fresh). The gates hang on each declared route, so the
 * spelling of the address cannot dodge them; OpenAPI is generated from the same table; freshness is
 * one service-level check that services call themselves.
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApiRoutes, requireDeclaredApiRoutes } from '../../src/http/registrar.ts';
import { API_ROUTES } from '../../src/http/routes/index.ts';
import { generateRecoveryCodes } from '../../src/services/codes/recoveryCodes.ts';
import { removePasskey } from '../../src/services/passkeys/management.ts';
import { resolveSession, type ActiveSession } from '../../src/services/sessions.ts';
import { enrol, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { registeredRoutes } from '../helpers/routes.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { MEMBER_CODES_ENV } from '../codes/support.ts';

const FOREIGN = 'https://evil.example';
const context = { ip: '127.0.0.1', userAgent: 'keybound-cli' };

describe('gates declared per route', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: MEMBER_CODES_ENV });
  });
  afterAll(async () => t?.close());

  /** The live session a cookie names, as the CLI or any service caller would hold it. */
  async function activeOf(cookie: string): Promise<ActiveSession> {
    const active = await resolveSession(t.deps, cookie.split('=')[1]);
    if (!active.ok) throw new Error(active.code);
    return active.value;
  }

  /** Adds a second passkey from a fresh session; returns it and its id. */
  async function addPasskey(cookie: string, nickname: string) {
    const added = new SoftAuthenticator();
    const options = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
    const verify = await t.post('/api/v1/passkeys/registration/verify', { response: added.create(options.json()), nickname }, cookie);
    expect(verify.statusCode, verify.body).toBe(201);
    return { authenticator: added, id: verify.json().passkey.id as string };
  }

  it('finding 8: a foreign Origin cannot reach a state-changing route through a percent-encoded path', async () => {
    const { cookie, account } = await enrol(t, 'victim');
    const made = await t.post('/api/v1/recovery-codes', {}, cookie);
    expect(made.statusCode, made.body).toBe(201);
    const codes = await t.store.authenticators.findBound(account.id, 'recovery_codes');
    // The router decodes the path (`%61` is `a`), so each of these reaches the real route.
    for (const url of ['/%61pi/v1/recovery-codes', '/api/v1/%72ecovery-codes', '/api/%761/recovery-codes']) {
      const forged = await t.app.inject({ method: 'POST', url, payload: {}, headers: { cookie, origin: FOREIGN, 'content-type': 'application/json' } });
      expect(forged.statusCode, `${url}: ${forged.body}`).toBe(403);
      expect(forged.json().error).toBe('origin_not_allowed');
    }
    // The victim's codes were not replaced...
    expect((await t.store.authenticators.findBound(account.id, 'recovery_codes'))?.id).toBe(codes!.id);
    const events = await t.store.audit.list({ accountId: account.id, limit: 100 });
    expect(events.filter((e) => e.type === 'recovery_codes.generated')).toHaveLength(1);
    // ...and signing them out the same way fails too.
    for (const url of ['/%61pi/v1/session', '/api/v1/%73ession']) {
      const forged = await t.app.inject({ method: 'DELETE', url, headers: { cookie, origin: FOREIGN } });
      expect(forged.statusCode, `${url}: ${forged.body}`).toBe(403);
      expect(forged.json().error).toBe('origin_not_allowed');
    }
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(200);
    // The same spelling from the right origin is simply the route.
    const own = await t.app.inject({ method: 'DELETE', url: '/%61pi/v1/session', headers: { cookie, origin: ORIGIN } });
    expect(own.statusCode).toBe(204);
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(401);
  });

  it('finding 8: a state-changing JSON route refuses a text/plain or form body with 415, before it runs', async () => {
    const { cookie, account } = await enrol(t, 'plain');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const refused = await t.app.inject({ method: 'POST', url: '/api/v1/recovery-codes', payload: '{}', headers: { cookie, origin: ORIGIN, 'content-type': type } });
      expect(refused.statusCode, `${type}: ${refused.body}`).toBe(415);
      expect(refused.json().error).toBe('unsupported_media_type');
    }
    expect(await t.store.authenticators.findBound(account.id, 'recovery_codes')).toBeUndefined();
    const signOut = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', payload: 'x', headers: { cookie, origin: ORIGIN, 'content-type': 'text/plain' } });
    expect(signOut.statusCode).toBe(415);
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(200);
    // JSON, with or without parameters, and a bodyless request are what the API takes.
    const json = await t.app.inject({ method: 'POST', url: '/api/v1/recovery-codes', payload: '{}', headers: { cookie, origin: ORIGIN, 'content-type': 'Application/JSON; charset=utf-8' } });
    expect(json.statusCode, json.body).toBe(201);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } })).statusCode).toBe(204);
  });

  it('finding 8: the OpenAPI document lists exactly the routes registered under /api/v1, each with its declared access', async () => {
    const registered = registeredRoutes(t.app.printRoutes({ commonPrefix: false }))
      .filter((r) => r.path.startsWith('/api/'))
      .flatMap((r) => r.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${r.path}`))
      .sort();
    const document = (await t.get('/api/v1/openapi.json')).json();
    const operations = Object.entries(document.paths as Record<string, Record<string, Record<string, unknown>>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, operation })),
    );
    expect(operations.map((o) => o.key).sort()).toEqual(registered);
    expect(registered.length).toBe(API_ROUTES.length);
    for (const r of API_ROUTES) {
      const { operation } = operations.find((o) => o.key === `${r.method} ${r.path}`)!;
      expect(operation['x-keybound-access'], r.path).toEqual(r.access);
      expect(operation.security, r.path).toEqual(r.access === 'anyone' ? undefined : [{ session: [] }]);
      expect(operation['x-keybound-origin'], r.path).toBe(r.method === 'GET' ? 'any' : 'allowed-origins');
      expect(operation.summary, r.path).toEqual(expect.any(String));
      expect((operation.responses as Record<string, unknown>)['4XX'], r.path).toEqual({ $ref: '#/components/responses/Error' });
    }
    expect(document.components.securitySchemes.session).toEqual({ type: 'apiKey', in: 'cookie', name: 'keybound_session' });
    expect(document.components.schemas.Error.properties.error.enum).toContain('fresh_auth_required');
    const fresh = operations.find((o) => o.key === 'POST /api/v1/sms')!.operation;
    expect(fresh['x-keybound-access']).toEqual({ fresh: true, minAal: 2 });
    expect(fresh.description).toMatch(/fresh session.*AAL2/);
  });

  it('finding 8: an API route registered by hand, outside the table, stops the server from starting', async () => {
    const app = Fastify();
    requireDeclaredApiRoutes(app);
    expect(() => app.post('/api/v1/backdoor', async () => ({}))).toThrow(/declared/);
    registerApiRoutes(app, t.deps, API_ROUTES);
    app.get('/healthz-like', async () => ({}));
    await app.ready();
    expect(app.hasRoute({ method: 'POST', url: '/api/v1/recovery-codes' })).toBe(true);
    await app.close();
  });

  it('finding 5: a session whose passkey was flagged is not fresh, however recent its sign-in', async () => {
    const { cookie, account } = await enrol(t, 'flagged');
    const options = await t.post('/api/v1/passkeys/registration/options', {}, cookie);
    expect(options.statusCode).toBe(200);
    const [passkey] = await t.store.passkeys.listByAccount(account.id);
    await t.store.passkeys.flag(passkey!.id, 'sign counter went backwards');
    for (const [path, body] of [['/api/v1/totp', {}], ['/api/v1/recovery-codes', {}], ['/api/v1/passkeys/registration/options', {}]] as const) {
      const refused = await t.post(path, body, cookie);
      expect(refused.statusCode, `${path}: ${refused.body}`).toBe(403);
      expect(refused.json().error).toBe('fresh_auth_required');
      expect(refused.json().message).toMatch(/no longer usable/);
    }
    // A ceremony begun before the flag cannot finish either.
    const late = await t.post('/api/v1/passkeys/registration/verify', { response: new SoftAuthenticator().create(options.json()) }, cookie);
    expect(late.json().error).toBe('fresh_auth_required');
    expect(await t.store.passkeys.listByAccount(account.id)).toHaveLength(1);
    expect(await t.store.authenticators.findBound(account.id, 'recovery_codes')).toBeUndefined();
  });

  it('finding 5: a session whose passkey was removed is not fresh, however recent its sign-in', async () => {
    const { cookie, account } = await enrol(t, 'removed');
    const second = await addPasskey(cookie, 'Second');
    const own = (await activeOf(cookie)).session.passkeyId!;
    const remove = await t.app.inject({ method: 'DELETE', url: `/api/v1/passkeys/${own}`, headers: { cookie, origin: ORIGIN } });
    expect(remove.statusCode, remove.body).toBe(204);
    // The session lives on (it asked), but vouches for no authenticator change.
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(200);
    const refused = await t.post('/api/v1/recovery-codes', {}, cookie);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('fresh_auth_required');
    const removeSecond = await t.app.inject({ method: 'DELETE', url: `/api/v1/passkeys/${second.id}`, headers: { cookie, origin: ORIGIN } });
    expect(removeSecond.json().error).toBe('fresh_auth_required');
    expect(await t.store.authenticators.findBound(account.id, 'recovery_codes')).toBeUndefined();
    // A sign-in with the passkey that is left is fresh again.
    const again = sessionCookie(await signIn(t, second.authenticator));
    expect((await t.post('/api/v1/recovery-codes', {}, again)).statusCode).toBe(201);
  });

  it('finding 8: a service called directly, as the CLI would, refuses a stale session itself', async () => {
    const { cookie, account } = await enrol(t, 'direct');
    const second = await addPasskey(cookie, 'Spare');
    t.clock.advance(t.config.freshAuthMaxAgeMs + 1000);
    const stale = await activeOf(cookie);
    const removed = await removePasskey(t.deps, stale, second.id, context);
    expect(removed).toMatchObject({ ok: false, code: 'fresh_auth_required' });
    expect(await t.store.passkeys.listByAccount(account.id)).toHaveLength(2);
    expect(await generateRecoveryCodes(t.deps, stale, context)).toMatchObject({ ok: false, code: 'fresh_auth_required' });
    // The same calls from a fresh session do their work.
    const fresh = await activeOf(sessionCookie(await signIn(t, second.authenticator)));
    expect((await generateRecoveryCodes(t.deps, fresh, context)).ok).toBe(true);
  });
});
