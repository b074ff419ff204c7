/**
 * What the offboard scenario sets up before it measures: two Keybound processes on one PostgreSQL
 * schema, an administrator, a public first-party OpenID client, and for each account a Keybound
 * session, a refresh token and an opaque access token (authorization code + PKCE through instance
 * A, the code redeemed at B, the refresh token rotated once at A), each seen accepted on both
 * instances before anything is offboarded.
 */
import { benchCredential, benchUsername, signingKey } from './authenticator.ts';
import { keyboundFlow, type Flow, type FlowContext } from './flows.ts';
import { HttpClient } from './http.ts';
import type { Holdings } from './offboardChecks.ts';
import { authorizationCode, tokenRequest, userinfoStatus } from './oidcClient.ts';
import type { ServerProcess } from './processes.ts';

export const REDIRECT_URI = 'https://app.bench.invalid/callback';
/** Seeded account 0 is made the administrator; the people offboarded are 1..N. */
export const ADMIN_INDEX = 0;

export interface Instance {
  readonly name: 'a' | 'b';
  readonly server: ServerProcess;
  readonly http: HttpClient;
}

export interface Prepared {
  readonly clientId: string;
  readonly flow: Flow;
  readonly flowContext: FlowContext;
}

/** The administrator (seeded account 0, raised with `keybound accounts set-role`) and the OpenID client (`keybound clients create`). */
export async function prepareOperators(a: ServerProcess): Promise<Prepared> {
  await a.cli(['accounts', 'set-role', benchUsername(ADMIN_INDEX), 'admin']);
  const created = JSON.parse(
    await a.cli(['clients', 'create', '--name', 'Bench app', '--public', '--redirect-uri', REDIRECT_URI, '--first-party', '--scope', 'openid', 'offline_access', '--json']),
  ) as { client_id: string };
  let signCount = 0;
  const flowContext: FlowContext = { origin: a.baseUrl, rpId: 'localhost', nextSignCount: () => ++signCount };
  return { clientId: created.client_id, flow: keyboundFlow(flowContext), flowContext };
}

/** A passkey sign-in of seeded account `index` on `http` (instance A); the session cookie. */
export function signIn(prepared: Prepared, http: HttpClient, secret: Uint8Array, index: number): Promise<string> {
  const credential = benchCredential(secret, index);
  return prepared.flow.signIn(http, { credential, key: signingKey(credential) });
}

/** Signs account `index` in on A, gets its tokens through A and B, and checks all three work on both. */
async function holdingsOf(prepared: Prepared, instances: readonly [Instance, Instance], secret: Uint8Array, index: number): Promise<Holdings> {
  const [a, b] = instances;
  const username = benchUsername(index);
  const sessionCookie = await signIn(prepared, a.http, secret, index);
  const { code, verifier } = await authorizationCode(a.http, { baseUrl: a.server.baseUrl, clientId: prepared.clientId, redirectUri: REDIRECT_URI, sessionCookie, scope: 'openid' });
  const issued = await tokenRequest(b.http, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: prepared.clientId });
  if (issued.status !== 200 || !issued.json.refresh_token) throw new Error(`${username}: code at B answered ${issued.status} ${issued.json.error ?? ''}`);
  // Rotated once through A: the refresh token in hand has been used on both instances' grant.
  const rotated = await tokenRequest(a.http, { grant_type: 'refresh_token', refresh_token: issued.json.refresh_token, client_id: prepared.clientId });
  const { refresh_token: refreshToken, access_token: accessToken } = rotated.json;
  if (rotated.status !== 200 || !refreshToken || !accessToken) throw new Error(`${username}: refresh at A answered ${rotated.status} ${rotated.json.error ?? ''}`);
  if (accessToken.includes('.')) throw new Error(`${username}: the access token is a JWT, not opaque`);
  for (const { name, http } of instances) {
    const session = await http.send('GET', '/api/v1/session', { cookie: sessionCookie });
    if (session.status !== 200) throw new Error(`${username}: session on ${name} answered ${session.status} before offboarding`);
    const info = await userinfoStatus(http, accessToken);
    if (info !== 200) throw new Error(`${username}: userinfo on ${name} answered ${info} before offboarding`);
  }
  return { username, sessionCookie, refreshToken, accessToken };
}

/** Holdings of seeded accounts `from`..`to` (inclusive), `parallel` at a time, in index order. */
export async function prepareHoldings(
  prepared: Prepared,
  instances: readonly [Instance, Instance],
  secret: Uint8Array,
  range: { from: number; to: number; parallel: number },
): Promise<Holdings[]> {
  const out: Holdings[] = new Array(range.to - range.from + 1);
  let next = range.from;
  const worker = async () => {
    for (let index = next++; index <= range.to; index = next++) out[index - range.from] = await holdingsOf(prepared, instances, secret, index);
  };
  await Promise.all(Array.from({ length: range.parallel }, worker));
  return out;
}
