/**
 * Offboarding reaches every instance at once (issue 12 "Must show"; DESIGN.md principle 6): two
 * `keybound serve` processes on one PostgreSQL. A person signs in through A, an application gets a
 * refresh token and an opaque access token (authorization on A, token on B), then the operator runs
 * `keybound accounts offboard`. The first request to each instance after the command returns is
 * refused: the Keybound session, the refresh token, and the opaque access token at userinfo. No
 * waiting and no retry: every instance reads the same rows.
 *
 * Introspection is not where an opaque access token is checked here: Keybound lets only resource
 * servers introspect, for tokens of their own API, and those tokens are JWTs (src/oidc/configuration.ts
 * `introspectionAllowed`), so no client could see this opaque token as active even before. Userinfo
 * is the protected resource an opaque access token is for; it reads the token through the same
 * adapter check (`grantAlive`) introspection would.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, startServer, type ServerProcess } from '../helpers/server.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { enrolOver, inviteMany } from './support/ceremonies.ts';
import { Client } from './support/client.ts';

const REDIRECT = 'https://app.example.test/callback';
const BOUND = { signal: () => AbortSignal.timeout(5_000) };

/** `name=value` pairs from Set-Cookie headers, kept across redirects. */
class Jar {
  private readonly cookies = new Map<string, string>();
  constructor(initial: string) {
    this.add(initial);
  }
  add(pair: string): void {
    const [name, ...value] = pair.split(';')[0]!.split('=');
    if (!name) return;
    const v = value.join('=');
    if (v === '') this.cookies.delete(name.trim());
    else this.cookies.set(name.trim(), v);
  }
  take(response: Response): void {
    for (const c of response.headers.getSetCookie()) this.add(c);
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** Follows an authorization request on `server`, signed in with `cookie`, to the code. */
async function authorizationCode(server: ServerProcess, clientId: string, cookie: string): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 's',
  });
  const jar = new Jar(cookie);
  let url = `${server.baseUrl}/oidc/auth?${params}`;
  for (let hop = 0; hop < 12; hop++) {
    const response = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual', signal: BOUND.signal() });
    jar.take(response);
    await response.arrayBuffer();
    const location = response.headers.get('location');
    if (!location) throw new Error(`stopped at ${url} with ${response.status}`);
    const next = new URL(location, url);
    if (next.href.startsWith(REDIRECT)) return { code: next.searchParams.get('code')!, verifier };
    url = next.href;
  }
  throw new Error('too many redirects');
}

async function token(server: ServerProcess, body: Record<string, string>): Promise<{ status: number; json: Record<string, string> }> {
  const response = await fetch(`${server.baseUrl}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
    signal: BOUND.signal(),
  });
  return { status: response.status, json: (await response.json()) as Record<string, string> };
}

const userinfo = async (server: ServerProcess, accessToken: string) =>
  (await fetch(`${server.baseUrl}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` }, signal: BOUND.signal() })).status;

describe('offboarding on two instances sharing PostgreSQL', () => {
  let database: TestDatabase;
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    database = await freshDatabase('postgres');
    const ports = [await freePort(), await freePort()];
    const env = { KEYBOUND_ORIGIN: ports.map((p) => `http://localhost:${p}`).join(',') };
    servers = await Promise.all(ports.map((port) => startServer({ databaseUrl: database.url, port, env, readyTimeoutMs: 45_000 })));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop({ keepDatabase: true })));
    await database?.drop();
  });

  it('the session, a refresh token and an opaque access token are refused on both instances right after `accounts offboard` returns', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const clientA = new Client(a.baseUrl, { origin: a.baseUrl });
    const clientB = new Client(b.baseUrl, { origin: b.baseUrl });
    const { client_id: clientId } = await a.cliJson<{ client_id: string }>(['clients', 'create', '--name', 'App', '--public', '--redirect-uri', REDIRECT, '--first-party', '--scope', 'openid', 'offline_access', '--json']);
    const [invitation] = await inviteMany(database.url, 'leaver', 1);
    const enrolled = await enrolOver(clientA, clientA, invitation!, new SoftAuthenticator({ origin: a.baseUrl }));
    if (!enrolled.ok) throw new Error(`${enrolled.answer.status} ${enrolled.answer.text}`);
    const { cookie } = enrolled.value;

    const { code, verifier } = await authorizationCode(a, clientId, cookie);
    const issued = await token(b, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId });
    expect(issued.status, JSON.stringify(issued.json)).toBe(200);
    // Rotated once through A: the refresh token in hand is live on both instances.
    const rotated = await token(a, { grant_type: 'refresh_token', refresh_token: issued.json.refresh_token!, client_id: clientId });
    expect(rotated.status).toBe(200);
    const refreshToken = rotated.json.refresh_token!;
    const accessToken = rotated.json.access_token!;
    expect(accessToken.split('.')).toHaveLength(1); // opaque, not a JWT
    for (const [server, client] of [[a, clientA], [b, clientB]] as const) {
      expect((await client.get('/api/v1/session', { cookie })).status).toBe(200);
      expect(await userinfo(server, accessToken)).toBe(200);
    }

    const offboarded = await a.cli(['accounts', 'offboard', invitation!.username, '--json']);
    expect(offboarded.code, offboarded.stderr).toBe(0);
    expect(JSON.parse(offboarded.stdout)).toMatchObject({ account: { status: 'offboarded' }, revoked: { sessions: 1, grants: 1, passkeys: 1 } });

    // The first request to each instance after the command returned.
    for (const [server, client] of [[b, clientB], [a, clientA]] as const) {
      const session = await client.get('/api/v1/session', { cookie });
      expect(session.status, server.baseUrl).toBe(401);
      const refresh = await token(server, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
      expect(refresh.status, server.baseUrl).toBe(400);
      expect(refresh.json.error).toBe('invalid_grant');
      expect(await userinfo(server, accessToken), server.baseUrl).toBe(401);
    }
  }, 60_000);
});
