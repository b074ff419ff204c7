/**
 * Shared Signals test support: a push receiver on loopback (RFC 8935) that records every SET and
 * verifies it with jose against the server's JWKS, and a client allowed the `ssf` scope with its
 * client-credentials token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { expect } from 'vitest';
import { createClient, type ClientInput } from '../../src/oidc/clients.ts';
import type { TestApp } from '../helpers/app.ts';

export interface Received {
  readonly token: string;
  readonly contentType: string;
  readonly authorization: string | undefined;
}

/** A receiver's push endpoint: answers 202 (`ok`), 503 (`down`), or never (`hold`: recorded, not acknowledged), recording each POST it acknowledges (and, in `hold`, each it got). */
export class Receiver {
  readonly received: Received[] = [];
  mode: 'ok' | 'down' | 'hold' = 'ok';
  readonly held: Received[] = [];
  private readonly pending: ServerResponse[] = [];
  private readonly server: Server;
  private waiting: (() => void)[] = [];
  constructor() {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (this.mode === 'down') return res.writeHead(503).end();
        if (this.mode === 'hold') {
          this.held.push({ token: body, contentType: String(req.headers['content-type']), authorization: req.headers.authorization });
          for (const wake of this.waiting.splice(0)) wake();
          this.pending.push(res);
          return;
        }
        this.received.push({ token: body, contentType: String(req.headers['content-type']), authorization: req.headers.authorization });
        for (const wake of this.waiting.splice(0)) wake();
        res.writeHead(202).end();
      });
    });
  }
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
  }
  /** Resolves once at least `n` SETs have arrived (the test's own timeout bounds it). */
  async count(n: number): Promise<void> {
    while (this.received.length < n) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  /** Resolves once at least `n` SETs arrived in `hold` mode. */
  async heldCount(n: number): Promise<void> {
    while (this.held.length < n) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  async close(): Promise<void> {
    for (const res of this.pending) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Verifies a SET as a receiver must (RFC 8417 §2, SSF 1.0 §4.1) against the JWKS; returns its claims. */
export async function verifySet(jwks: { keys: unknown[] }, token: string, expected: { issuer: string; audience: string }): Promise<JWTPayload & { sub_id: Record<string, string>; events: Record<string, Record<string, unknown>>; txn: string }> {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as never), { issuer: expected.issuer, audience: expected.audience, typ: 'secevent+jwt' });
  expect(protectedHeader.typ).toBe('secevent+jwt');
  // SSF 1.0 §4.1.2, §4.1.7: no `sub`, no `exp`.
  expect(payload.sub).toBeUndefined();
  expect(payload.exp).toBeUndefined();
  expect(typeof payload.jti).toBe('string');
  expect(typeof payload.iat).toBe('number');
  const events = payload.events as Record<string, Record<string, unknown>>;
  // §4.2.1: one event per SET.
  expect(Object.keys(events)).toHaveLength(1);
  return payload as never;
}

/** A confidential client allowed `scopes` (client_credentials, shared secret: the app runs with KEYBOUND_OIDC_ALLOW_SHARED_SECRETS). */
export async function ssfClient(t: TestApp, scopes: string[] = ['ssf'], extra: Partial<ClientInput> = {}): Promise<{ clientId: string; secret: string }> {
  const created = await createClient(t.deps, { name: 'Receiver', redirectUris: [], postLogoutRedirectUris: [], public: false, jwks: null, grantTypes: ['client_credentials'], requireDpop: false, scopes, ...extra }, async () => null);
  if (!created.ok) throw new Error(created.message ?? created.code);
  return { clientId: created.value.client.clientId, secret: created.value.secret! };
}

/** A client-credentials access token (RFC 6749 §4.4) from the server's token endpoint. */
export async function clientToken(t: TestApp, client: { clientId: string; secret: string }, scope: string | null = 'ssf'): Promise<string> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/oidc/token',
    headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', ...(scope !== null ? { scope } : {}) }).toString(),
  });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { access_token: string }).access_token;
}

/** One call to the management API with a bearer token. */
export function ssf(t: TestApp, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, token: string | null, body?: unknown) {
  return t.app.inject({ method, url, headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
}

/** Runs the app's SSF dispatcher until nothing is due and nothing is under way. */
export async function settle(t: TestApp): Promise<void> {
  const dispatcher = t.app.ssfDispatcher!;
  for (let round = 0; round < 30; round++) {
    await dispatcher.runOnce();
    await dispatcher.idle();
    if ((await t.store.ssfOutbox.listDue(t.clock.now, 10)).length === 0) return;
  }
  throw new Error('the SSF outbox did not settle');
}
