/**
 * OpenID Connect Back-Channel Logout 1.0: a client registered with a `backchannel_logout_uri` gets
 * one Logout Token when a Keybound session it holds a grant from ends (sign-out, ending another
 * session), verified here against the provider's JWKS; a client without the URI gets nothing; a
 * receiver that fails or hangs neither slows nor fails the sign-out, and is tried a bounded number
 * of times. The receiver is a real HTTP server on loopback; both databases.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/oidc/clients.ts';
import { DISPATCH_DEFAULTS, LOGOUT_EVENT, type LogoutDispatcher } from '../../src/oidc/backchannel.ts';
import { buildProvider } from '../../src/oidc/provider.ts';
import { enrol, ManualClock, ORIGIN, sessionCookie, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { authorize, CookieJar, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';

type Mode = 'ok' | 'reset' | 'hang';

/** A relying party's back-channel logout endpoint on loopback, recording every POST. */
class Receiver {
  readonly bodies: { contentType: string; body: string }[] = [];
  private readonly server: Server;
  private readonly held: ServerResponse[] = [];
  private waiting: (() => void)[] = [];
  constructor(private readonly mode: Mode) {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.bodies.push({ contentType: String(req.headers['content-type']), body });
        for (const wake of this.waiting.splice(0)) wake();
        if (this.mode === 'ok') res.writeHead(200, { 'cache-control': 'no-store' }).end();
        else if (this.mode === 'reset') req.socket.destroy();
        else this.held.push(res);
      });
    });
  }
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/backchannel-logout`;
  }
  /** Resolves once at least `n` requests have arrived (the test's own timeout bounds it). */
  async received(n: number): Promise<void> {
    while (this.bodies.length < n) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  tokens(): string[] {
    return this.bodies.map((b) => new URLSearchParams(b.body).get('logout_token') ?? '');
  }
  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const sessionIdOf = (cookie: string) => cookie.split('=')[1]!.split('.')[0]!;
const dispatcherOf = (t: TestApp): LogoutDispatcher => t.app.backchannelLogouts!;

/** Runs the app's dispatcher until nothing is due and nothing is under way. */
async function settle(t: TestApp): Promise<void> {
  const dispatcher = dispatcherOf(t);
  for (let round = 0; round < 20; round++) {
    await dispatcher.runOnce();
    await dispatcher.idle();
    if ((await t.store.oidcLogoutOutbox.listDue(t.clock.now, 10)).length === 0) return;
  }
  throw new Error('the outbox did not settle');
}

const metric = async (t: TestApp, result: string) => (await t.deps.metrics.backchannelLogouts.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

describe.each(BACKENDS)('back-channel logout on %s', (backend) => {
  let t: TestApp | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
    t = undefined;
    receiver = undefined;
  });

  /** An app, a receiver, and a client registered with its URI (through oidc-provider's own metadata validation). */
  async function start(mode: Mode, options: { sessionRequired?: boolean } = {}) {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()) });
    receiver = new Receiver(mode);
    const uri = await receiver.start();
    const { provider } = await buildProvider(t.deps, { info: () => undefined, error: () => undefined });
    const created = await createClient(
      t.deps,
      { name: 'Logout app', redirectUris: [INJECT_REDIRECT], postLogoutRedirectUris: [], public: true, jwks: null, grantTypes: ['authorization_code', 'refresh_token'], requireDpop: false, firstParty: true, scopes: ['openid', 'offline_access'], backchannelLogoutUri: uri, backchannelLogoutSessionRequired: options.sessionRequired ?? true },
      async (metadata) => {
        try {
          await provider.Client.validate(metadata as never);
          return null;
        } catch (error) {
          return (error as { error_description?: string }).error_description ?? String(error);
        }
      },
    );
    if (!created.ok) throw new Error(`${created.code}: ${created.message}`);
    return { t, receiver, clientId: created.value.client.clientId };
  }

  /** A full sign-in for the client from the browser holding `cookie`: code, then tokens. Returns the ID token's claims. */
  async function signInTo(t: TestApp, clientId: string, cookie: string) {
    const { code, verifier } = await authorize(t, clientId, cookie);
    const tokens = await tokenRequest(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId });
    expect(tokens.statusCode, tokens.body).toBe(200);
    return decodeJwt((tokens.json() as { id_token: string }).id_token);
  }

  /** Verifies a logout token against the provider's JWKS as a relying party would (§2.6). */
  async function verifyLogoutToken(t: TestApp, token: string, clientId: string) {
    const jwks = createLocalJWKSet((await t.get('/oidc/jwks')).json());
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: t.config.oidc.issuer, audience: clientId, typ: 'logout+jwt', currentDate: new Date(t.clock.now) });
    return { payload, protectedHeader };
  }

  it('sign-out sends the client exactly one logout token, verifiable against the JWKS, with the claims §2.4 requires; a client without the URI gets nothing', async () => {
    const { t, receiver, clientId } = await start('ok');
    const plainClient = await registerTestClient(t);
    const { cookie, account } = await enrol(t, 'leaves');
    const idToken = await signInTo(t, clientId, cookie);
    await signInTo(t, plainClient, cookie);
    expect(typeof idToken.sid).toBe('string');

    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } });
    expect(out.statusCode).toBe(204);
    // Nothing is sent inside the sign-out: the token waits in the outbox for the dispatcher.
    expect(receiver.bodies).toHaveLength(0);
    await settle(t);

    expect(receiver.bodies).toHaveLength(1);
    expect(receiver.bodies[0]!.contentType).toBe('application/x-www-form-urlencoded');
    const { payload, protectedHeader } = await verifyLogoutToken(t, receiver.tokens()[0]!, clientId);
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(protectedHeader.alg).toBe(decodeProtectedHeader(receiver.tokens()[0]!).alg);
    expect(payload.iss).toBe(t.config.oidc.issuer);
    expect(payload.aud).toBe(clientId);
    expect(payload.sub).toBe(account.id);
    expect(payload.sub).toBe(idToken.sub);
    expect(payload.sid).toBe(idToken.sid);
    expect(payload.events).toEqual({ [LOGOUT_EVENT]: {} });
    expect(typeof payload.jti).toBe('string');
    expect(payload).not.toHaveProperty('nonce');
    expect(payload.exp! - payload.iat!).toBeGreaterThan(0);
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(DISPATCH_DEFAULTS.tokenTtlS);

    // One token queued for two grants (the other client has no URI), delivered and audited; no token in the trail.
    const revoked = await t.store.audit.list({ type: 'session.revoked', limit: 5 });
    expect(revoked[0]!.details).toMatchObject({ session: sessionIdOf(cookie), grantsEnded: 2, backchannelLogouts: 1 });
    const delivered = await t.store.audit.list({ type: 'oidc.backchannel_logout', limit: 5 });
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ outcome: 'success', accountId: account.id, details: { clientId, attempts: 1, sid: true } });
    expect(JSON.stringify(delivered[0])).not.toContain(receiver.tokens()[0]!.split('.')[1]!);
    expect(await metric(t, 'delivered')).toBe(1);
    expect(await t.store.oidcLogoutOutbox.listDue(t.clock.now + 86_400_000, 10)).toEqual([]);
  });

  it('ending another session (DELETE /api/v1/sessions) sends one token naming that session, none for the one that stays', async () => {
    const { t, receiver, clientId } = await start('ok');
    const { cookie, authenticator, account } = await enrol(t, 'two-devices');
    const laptop = sessionCookie(await signIn(t, authenticator));
    const onLaptop = await signInTo(t, clientId, laptop);
    const here = await signInTo(t, clientId, cookie);
    expect(onLaptop.sid).not.toBe(here.sid);

    const others = await t.app.inject({ method: 'DELETE', url: '/api/v1/sessions', headers: { cookie, origin: ORIGIN } });
    expect(others.statusCode, others.body).toBe(200);
    expect(others.json()).toEqual({ ended: 1 });
    await settle(t);

    expect(receiver.bodies).toHaveLength(1);
    const { payload } = await verifyLogoutToken(t, receiver.tokens()[0]!, clientId);
    expect(payload).toMatchObject({ sub: account.id, sid: onLaptop.sid, aud: clientId });
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(200);
  });

  it('an RP-initiated logout (end_session, logout=yes) sends one token, not one from the provider and one from Keybound', async () => {
    const { t, receiver, clientId } = await start('ok');
    const { cookie } = await enrol(t, 'rp-logout');
    // The sign-in, keeping the browser's provider cookies (its provider session) for the logout.
    const jar = new CookieJar(cookie);
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: INJECT_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's' });
    let url = `/oidc/auth?${params}`;
    for (let hop = 0; hop < 12 && !url.startsWith(INJECT_REDIRECT); hop++) {
      const response = await t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
      jar.take(response);
      const next = new URL(String(response.headers.location), 'http://localhost:8080');
      url = next.href.startsWith(INJECT_REDIRECT) ? next.href : `${next.pathname}${next.search}`;
    }
    const code = new URL(url).searchParams.get('code')!;
    const tokens = await tokenRequest(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: clientId });
    expect(tokens.statusCode, tokens.body).toBe(200);
    const idToken = (tokens.json() as { id_token: string }).id_token;
    const ask = await t.app.inject({ method: 'GET', url: `/oidc/session/end?${new URLSearchParams({ id_token_hint: idToken, client_id: clientId })}`, headers: { cookie: jar.header() } });
    expect(ask.statusCode, ask.body.slice(0, 300)).toBe(200);
    jar.take(ask);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(ask.body)?.[1];
    expect(xsrf).toBeDefined();
    const confirm = await t.app.inject({
      method: 'POST',
      url: '/oidc/session/end/confirm',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }).toString(),
    });
    expect(confirm.statusCode, confirm.body.slice(0, 300)).toBe(303);
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(401);
    await settle(t);
    expect(receiver.bodies).toHaveLength(1);
    const { payload } = await verifyLogoutToken(t, receiver.tokens()[0]!, clientId);
    expect(payload.sid).toBe(decodeJwt(idToken).sid);
    // The provider's own sender (which end_session calls) sends nothing: Keybound's outbox is the one
    // sender. (Left on, it would try, and here be refused by its own guard against loopback addresses.)
    const { provider } = await buildProvider(t.deps, { info: () => undefined, error: () => undefined });
    const client = (await provider.Client.find(clientId)) as { backchannelLogout(sub: string, sid: string): Promise<unknown> } | undefined;
    const sent = await client!.backchannelLogout(String(payload.sub), String(payload.sid));
    expect(sent).toBeUndefined();
    expect(receiver.bodies).toHaveLength(1);
  });

  it('without backchannel_logout_session_required the token names the person (sub) and carries no sid', async () => {
    const { t, receiver, clientId } = await start('ok', { sessionRequired: false });
    const { cookie, account } = await enrol(t, 'sub-only');
    const idToken = await signInTo(t, clientId, cookie);
    expect(idToken).not.toHaveProperty('sid');
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } })).statusCode).toBe(204);
    await settle(t);
    const { payload } = await verifyLogoutToken(t, receiver.tokens()[0]!, clientId);
    expect(payload.sub).toBe(account.id);
    expect(payload).not.toHaveProperty('sid');
  });

  it('a receiver that drops every connection: the sign-out answers 204 and delivery is tried a bounded number of times, then given up', async () => {
    const { t, receiver, clientId } = await start('reset');
    const { cookie, account } = await enrol(t, 'dead-receiver');
    await signInTo(t, clientId, cookie);
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } });
    expect(out.statusCode).toBe(204);
    expect(receiver.bodies).toHaveLength(0);

    // Each failure waits its pause (on the app's clock) before the next attempt.
    const { maxAttempts, backoffMs } = DISPATCH_DEFAULTS;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      await settle(t);
      expect(receiver.bodies).toHaveLength(attempt);
      t.clock.advance(backoffMs[Math.min(attempt - 1, backoffMs.length - 1)]!);
    }
    // Given up: a day later nothing more is sent.
    t.clock.advance(86_400_000);
    await settle(t);
    expect(receiver.bodies).toHaveLength(maxAttempts);
    expect(await t.store.oidcLogoutOutbox.listDue(t.clock.now, 10)).toEqual([]);
    expect(await metric(t, 'retry')).toBe(maxAttempts - 1);
    expect(await metric(t, 'failed')).toBe(1);
    const audited = await t.store.audit.list({ type: 'oidc.backchannel_logout', limit: 5 });
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ outcome: 'failure', reason: 'unreachable', accountId: account.id, details: { clientId, attempts: maxAttempts } });
  });

  it('a receiver that never answers holds no sign-out; its attempt is cut short when the server stops and stays queued', async () => {
    const { t, receiver, clientId } = await start('hang');
    const { cookie } = await enrol(t, 'hanging-receiver');
    await signInTo(t, clientId, cookie);
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } });
    expect(out.statusCode).toBe(204);
    // The app's own poller may take the row first; either way one attempt is under way.
    await dispatcherOf(t).runOnce();
    await receiver.received(1);
    // A second sign-out of another session meanwhile is not held up by the delivery under way.
    const { cookie: other } = await enrol(t, 'meanwhile');
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: other, origin: ORIGIN } })).statusCode).toBe(204);
    await dispatcherOf(t).close();
    const queued = await t.store.oidcLogoutOutbox.listDue(t.clock.now, 10);
    expect(queued).toHaveLength(1);
    expect(queued[0]!.attempts).toBe(1);
  });
});
