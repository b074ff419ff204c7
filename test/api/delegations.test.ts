/**
 * Delegation to agents (issue 15; docs/nhi.md "Delegation to agents", docs/oidc.md "Token
 * exchange"), in-process on SQLite and PostgreSQL: a person grants an agent workload a delegation
 * (fresh passkey sign-in, scopes within the agent's allowlist, capped expiry); the agent exchanges
 * the person's access token (RFC 8693) for a DPoP-bound JWT with `act`, the narrowed scopes, the
 * person's acr and auth_time and a lifetime of at most 300 s, which `keybound/resource` accepts;
 * without a live delegation, after revoking it, after the person signs out, or once they are
 * offboarded, the exchange is `invalid_grant`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/resource/index.ts';
import { CLI_ACTOR } from '../../src/services/adminAccess.ts';
import { offboardAccount } from '../../src/services/lifecycle.ts';
import { createWorkload, type WorkloadInput } from '../../src/services/nhi/workloads.ts';
import { enrol, ManualClock, ORIGIN, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { clientAuth, clientCredentials, form, machineKey, type MachineKey } from '../helpers/machines.ts';
import { authorize, INJECT_REDIRECT, registerTestClient, tokenRequest } from '../helpers/oidcInject.ts';

const RESOURCE = 'https://api.example.test/';
/** A second API the agents of some tests may also have tokens for. */
const OTHER_RESOURCE = 'https://other.example.test/';
const API_URL = 'https://api.example.test/reports';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const CONTEXT = { ip: '192.0.2.1', userAgent: 'test' };
const DAY_S = 86_400;

/** The agent's DPoP key (RFC 9449): proofs for the token endpoint and, with `ath`, for the API. */
interface DpopKey {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}
const dpopKey = async (): Promise<DpopKey> => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: (await exportJWK(publicKey)) as JWK };
};
const proof = (key: DpopKey, htm: string, htu: string, accessToken?: string) =>
  new SignJWT({ htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .sign(key.privateKey);

describe.each(BACKENDS)('delegation and token exchange on %s', (backend) => {
  let t: TestApp;
  let appId: string;
  let agentKey: MachineKey;
  let agentId: string;
  let dpop: DpopKey;

  const makeAgent = async (overrides: Partial<WorkloadInput> = {}) => {
    const made = await createWorkload(t.deps, { name: 'Travel agent', owner: 'olive', kind: 'agent', jwks: agentKey.jwks, audiences: [RESOURCE], scopes: ['read', 'write'], by: 'test', ...overrides }, async () => null);
    if (!made.ok) throw new Error(`${made.code}: ${made.message}`);
    return made.value.client_id;
  };
  /** The person's access token for the API, from their app (authorization code with PKCE). */
  const personToken = async (cookie: string, scope = 'openid read admin') => {
    const { code, verifier } = await authorize(t, appId, cookie, { resource: RESOURCE, scope });
    const answer = await tokenRequest(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: INJECT_REDIRECT, client_id: appId, resource: RESOURCE });
    expect(answer.statusCode, answer.body).toBe(200);
    return (answer.json() as { access_token: string }).access_token;
  };
  const exchange = async (subject: string, options: { client?: string; key?: MachineKey; dpop?: boolean | string; extra?: Record<string, string> } = {}) => {
    const body = { grant_type: EXCHANGE, subject_token: subject, subject_token_type: ACCESS_TOKEN, ...options.extra, ...(await clientAuth(t, options.client ?? agentId, (options.key ?? agentKey).privateKey)) };
    if (options.dpop === false) return form(t, '/oidc/token', body, {});
    return form(t, '/oidc/token', body, { dpop: typeof options.dpop === 'string' ? options.dpop : await proof(dpop, 'POST', `${t.config.oidc.issuer}/token`) });
  };
  const delegate = (cookie: string, body: Record<string, unknown>) => t.post('/api/v1/delegations', body, cookie);
  const del = (url: string, cookie: string) => t.app.inject({ method: 'DELETE', url, headers: { origin: ORIGIN, cookie } });

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_RESOURCES: `${RESOURCE},${OTHER_RESOURCE}`, KEYBOUND_OIDC_RESOURCE_SCOPES: 'read,write,admin' } });
    await enrol(t, 'olive');
    appId = await registerTestClient(t);
    agentKey = await machineKey();
    agentId = await makeAgent();
    dpop = await dpopKey();
  }, 60_000);
  afterAll(async () => t?.close());

  it('a person grants a delegation from a fresh session: only to an agent, only scopes it is allowed, only for a capped time; lists and revokes it', async () => {
    const { cookie } = await enrol(t, 'dana');
    const service = (await createWorkload(t.deps, { name: 'Batch', owner: 'olive', kind: 'service', jwks: agentKey.jwks, audiences: [RESOURCE], scopes: ['read'], by: 'test' }, async () => null));
    if (!service.ok) throw new Error(service.code);
    const refused = async (body: Record<string, unknown>, status = 400, code = 'delegation_invalid') => {
      const answer = await delegate(cookie, body);
      expect(answer.statusCode, answer.body).toBe(status);
      expect(answer.json().error).toBe(code);
    };
    await refused({ clientId: service.value.client_id, scopes: ['read'], expiresIn: DAY_S });
    await refused({ clientId: 'no-such-agent', scopes: ['read'], expiresIn: DAY_S });
    await refused({ clientId: agentId, scopes: ['admin'], expiresIn: DAY_S });
    await refused({ clientId: agentId, scopes: ['read'], expiresIn: 90 * DAY_S + 1 });
    await refused({ clientId: agentId, scopes: ['read'], expiresIn: 30 });
    await refused({ clientId: agentId, scopes: [], expiresIn: DAY_S }, 400, 'invalid_request');
    await refused({ clientId: agentId, scopes: ['read'], expiresIn: DAY_S, extra: 1 }, 400, 'invalid_request');

    const granted = await delegate(cookie, { clientId: agentId, scopes: ['read'], expiresIn: 7 * DAY_S });
    expect(granted.statusCode, granted.body).toBe(201);
    const first = granted.json() as { id: string; expiresAt: string };
    expect(granted.json()).toMatchObject({ clientId: agentId, agentName: 'Travel agent', scopes: ['read'], status: 'active', lastUsedAt: null });
    expect(Date.parse(first.expiresAt)).toBe(t.clock.now + 7 * DAY_S * 1000);
    // A new grant to the same agent replaces the live one.
    const second = (await delegate(cookie, { clientId: agentId, scopes: ['read', 'write'], expiresIn: DAY_S })).json() as { id: string };
    const listed = (await t.get('/api/v1/delegations', cookie)).json().delegations as { id: string; status: string; revokedReason: string | null }[];
    expect(listed.map((d) => [d.id, d.status, d.revokedReason])).toEqual([
      [second.id, 'active', null],
      [first.id, 'revoked', 'replaced'],
    ]);
    // The account page shows it under "Agents acting for you", with a way to revoke it.
    const page = (await t.get('/account', cookie)).body;
    expect(page).toContain('Agents acting for you');
    expect(page).toContain(`data-delegation="${second.id}"`);
    // An administrator sees both on the console's account page, and the live one in the offboarding preview.
    const { cookie: admin } = await enrol(t, 'ada', undefined, 'admin');
    const consolePage = await t.get('/admin/accounts/dana', admin);
    expect(consolePage.statusCode).toBe(200);
    expect(consolePage.body).toContain('Agents acting for this person');
    for (const id of [first.id, second.id]) expect(consolePage.body).toContain(`data-delegation="${id}"`);
    expect(consolePage.body).toMatch(/<strong>1 delegation<\/strong> to agents/);

    // Someone else cannot revoke it; its holder can, once.
    const { cookie: other } = await enrol(t, 'eve');
    expect((await del(`/api/v1/delegations/${second.id}`, other)).statusCode).toBe(404);
    expect((await del(`/api/v1/delegations/${second.id}`, cookie)).statusCode).toBe(204);
    expect((await del(`/api/v1/delegations/${second.id}`, cookie)).statusCode).toBe(404);
    const trail = await t.store.audit.list({ typePrefix: 'delegation.', limit: 20 });
    expect(trail.filter((e) => e.details.clientId === agentId && [first.id, second.id].includes(e.details.id as string)).map((e) => e.type).reverse()).toEqual(['delegation.granted', 'delegation.granted', 'delegation.revoked']);
  });

  it('without a live delegation the exchange is invalid_grant; a bad or foreign subject token too', async () => {
    const { cookie } = await enrol(t, 'nora');
    const subject = await personToken(cookie);
    const none = await exchange(subject);
    expect(none.statusCode, none.body).toBe(400);
    expect(none.json().error).toBe('invalid_grant');
    expect((await delegate(cookie, { clientId: agentId, scopes: ['read'], expiresIn: DAY_S })).statusCode).toBe(201);
    for (const bad of ['not-a-token', `${subject.slice(0, -4)}AAAA`]) {
      const answer = await exchange(bad);
      expect(answer.json().error, bad).toBe('invalid_grant');
    }
    // A client-credentials token is the client's own: there is no person to act for.
    const own = (await clientCredentials(t, agentId, agentKey.privateKey, { resource: RESOURCE, scope: 'read', dpop: true })).json() as { access_token: string };
    expect((await exchange(own.access_token)).json().error).toBe('invalid_grant');
    // The agent proves possession of its key (DPoP), as it does for client credentials.
    const bare = await exchange(subject, { dpop: false });
    expect(bare.json().error).toBe('invalid_grant');
    // Missing or unsupported parameters are the request's fault.
    const wrongType = await exchange(subject, { extra: { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' } });
    expect(wrongType.json().error).toBe('invalid_request');
    const actor = await exchange(subject, { extra: { actor_token: 'x', actor_token_type: ACCESS_TOKEN } });
    expect(actor.json().error).toBe('invalid_request');
    // Another agent without the person's delegation gets nothing.
    const otherKey = await machineKey();
    const other = await makeAgent({ name: 'Other agent', jwks: otherKey.jwks });
    expect((await exchange(subject, { client: other, key: otherKey })).json().error).toBe('invalid_grant');
    // A service cannot use the grant at all.
    const service = await createWorkload(t.deps, { name: 'Svc', owner: 'olive', kind: 'service', jwks: otherKey.jwks, audiences: [RESOURCE], scopes: ['read'], by: 'test' }, async () => null);
    if (!service.ok) throw new Error(service.code);
    const refused = await exchange(subject, { client: service.value.client_id, key: otherKey });
    expect(refused.statusCode).toBe(400);
    expect(['invalid_request', 'unauthorized_client']).toContain(refused.json().error);
  });

  it('exchanges the person\'s token for one naming the agent (act), with the narrowed scopes, their acr and auth_time, for at most 300 s: keybound/resource accepts it', async () => {
    const { cookie } = await enrol(t, 'pat');
    const granted = (await delegate(cookie, { clientId: agentId, scopes: ['read', 'write'], expiresIn: DAY_S })).json() as { id: string };
    // Delegation: read write. Person's token: read admin. Agent allowed: read write. Intersection: read.
    const subject = await personToken(cookie, 'openid read admin');
    const person = decodeJwt(subject);
    const answer = await exchange(subject);
    expect(answer.statusCode, answer.body).toBe(200);
    const body = answer.json() as { access_token: string; issued_token_type: string; token_type: string; expires_in: number; scope: string };
    expect(body).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'DPoP', scope: 'read' });
    expect(body.expires_in).toBeLessThanOrEqual(300);
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ sub: person.sub, act: { sub: agentId }, client_id: agentId, aud: RESOURCE, scope: 'read', acr: person.acr, auth_time: person.auth_time, amr: person.amr });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    expect(claims.exp! - claims.iat!).toBe(body.expires_in);
    expect((claims.cnf as { jkt?: string }).jkt).toBeDefined();

    // The resource server verifies it with keybound/resource: the act claim and the scope it carries.
    const jwks = (await t.app.inject({ method: 'GET', url: '/oidc/jwks' })).json() as { keys: JWK[] };
    const verifier = createVerifier({ issuer: t.config.oidc.issuer, audience: RESOURCE, jwks: createLocalJWKSet(jwks) });
    const verified = await verifier.verify({ method: 'GET', url: API_URL, authorization: `DPoP ${body.access_token}`, dpop: await proof(dpop, 'GET', API_URL, body.access_token) }, { scopes: ['read'] });
    expect(verified.ok, JSON.stringify(verified)).toBe(true);
    if (verified.ok) expect(verified.token).toMatchObject({ sub: person.sub, act: { sub: agentId }, scope: 'read' });
    const write = await verifier.verify({ method: 'GET', url: API_URL, authorization: `DPoP ${body.access_token}`, dpop: await proof(dpop, 'GET', API_URL, body.access_token) }, { scopes: ['write'] });
    expect(write.ok ? null : write.error).toBe('insufficient_scope');

    // Asking for a scope outside the intersection is refused; asking for less narrows further.
    expect((await exchange(subject, { extra: { scope: 'write' } })).json().error).toBe('invalid_scope');
    expect((await exchange(subject, { extra: { scope: 'read' } })).json().scope).toBe('read');
    // An exchanged token is not exchanged again.
    expect((await exchange(body.access_token)).json().error).toBe('invalid_grant');
    const lastUse = async () => ((await t.get('/api/v1/delegations', cookie)).json().delegations as { id: string; lastUsedAt: string | null }[]).find((d) => d.id === granted.id)?.lastUsedAt;
    const firstUse = t.clock.now;
    expect(await lastUse()).toBe(new Date(firstUse).toISOString());
    // Last use is kept to the minute (core/nhi/lastUse.ts): an exchange within it writes nothing.
    t.clock.advance(30_000);
    expect((await exchange(subject, { extra: { scope: 'read' } })).statusCode).toBe(200);
    expect(await lastUse()).toBe(new Date(firstUse).toISOString());
    t.clock.advance(30_000);
    expect((await exchange(subject, { extra: { scope: 'read' } })).statusCode).toBe(200);
    expect(await lastUse()).toBe(new Date(t.clock.now).toISOString());
  });

  it('revoking the delegation stops the next exchange at once', async () => {
    const { cookie } = await enrol(t, 'rita');
    const granted = (await delegate(cookie, { clientId: agentId, scopes: ['read'], expiresIn: DAY_S })).json() as { id: string };
    const subject = await personToken(cookie);
    expect((await exchange(subject)).statusCode).toBe(200);
    expect((await del(`/api/v1/delegations/${granted.id}`, cookie)).statusCode).toBe(204);
    const after = await exchange(subject);
    expect(after.statusCode).toBe(400);
    expect(after.json().error).toBe('invalid_grant');
  });

  it('signing out (the session behind the person\'s token ends) stops the next exchange at once', async () => {
    const { cookie } = await enrol(t, 'sol');
    expect((await delegate(cookie, { clientId: agentId, scopes: ['read'], expiresIn: DAY_S })).statusCode).toBe(201);
    const subject = await personToken(cookie);
    expect((await exchange(subject)).statusCode).toBe(200);
    expect((await del('/api/v1/session', cookie)).statusCode).toBe(204);
    // The person's JWT itself is still unexpired; the sign-in behind it is gone.
    expect(decodeJwt(subject).exp! * 1000).toBeGreaterThan(Date.now());
    const after = await exchange(subject);
    expect(after.statusCode).toBe(400);
    expect(after.json().error).toBe('invalid_grant');
  });

  it('offboarding the person revokes their delegations in the same change: the next exchange is invalid_grant', async () => {
    const { cookie } = await enrol(t, 'otto');
    const granted = (await delegate(cookie, { clientId: agentId, scopes: ['read'], expiresIn: DAY_S })).json() as { id: string };
    const subject = await personToken(cookie);
    expect((await exchange(subject)).statusCode).toBe(200);
    const change = await offboardAccount(t.deps, { username: 'otto', actor: CLI_ACTOR, context: CONTEXT });
    expect(change.ok && change.value.revoked).toMatchObject({ delegations: 1 });
    expect(await t.store.delegations.find(granted.id)).toMatchObject({ revokedReason: 'owner_offboarded' });
    const trail = await t.store.audit.list({ typePrefix: 'nhi.owner_left', limit: 5 });
    expect(trail.some((e) => e.details.delegations === 1)).toBe(true);
    expect((await exchange(subject)).json().error).toBe('invalid_grant');
  });

  it('the exchanged token is for the API the person\'s token is for: another resource the agent is allowed is invalid_target', async () => {
    const wideKey = await machineKey();
    const wide = await makeAgent({ name: 'Wide agent', jwks: wideKey.jwks, audiences: [RESOURCE, OTHER_RESOURCE] });
    const { cookie } = await enrol(t, 'wren');
    expect((await delegate(cookie, { clientId: wide, scopes: ['read'], expiresIn: DAY_S })).statusCode).toBe(201);
    const subject = await personToken(cookie);
    expect(decodeJwt(subject).aud).toBe(RESOURCE);
    const same = await exchange(subject, { client: wide, key: wideKey });
    expect(same.statusCode, same.body).toBe(200);
    expect(decodeJwt(same.json().access_token).aud).toBe(RESOURCE);
    for (const extra of [{ resource: OTHER_RESOURCE }, { audience: OTHER_RESOURCE }, { resource: RESOURCE, audience: OTHER_RESOURCE }] as Record<string, string>[]) {
      const other = await exchange(subject, { client: wide, key: wideKey, extra });
      expect(other.statusCode, JSON.stringify(extra)).toBe(400);
      expect(other.json().error).toBe('invalid_target');
    }
  });

  it('RFC 8693 parameters: actor_token_type alone and an unknown requested_token_type are invalid_request', async () => {
    const { cookie } = await enrol(t, 'yuki');
    expect((await delegate(cookie, { clientId: agentId, scopes: ['read'], expiresIn: DAY_S })).statusCode).toBe(201);
    const subject = await personToken(cookie);
    // §2.1: actor_token_type "MUST NOT be included" without actor_token.
    const typeOnly = await exchange(subject, { extra: { actor_token_type: ACCESS_TOKEN } });
    expect(typeOnly.statusCode).toBe(400);
    expect(typeOnly.json().error).toBe('invalid_request');
    const wanted = await exchange(subject, { extra: { requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' } });
    expect(wanted.json().error).toBe('invalid_request');
    expect((await exchange(subject, { extra: { requested_token_type: ACCESS_TOKEN } })).statusCode).toBe(200);
  });

  it('a DPoP proof is used once; an agent allowed longer tokens still gets at most 300 s', async () => {
    const { cookie } = await enrol(t, 'zane');
    const longKey = await machineKey();
    const long = await makeAgent({ name: 'Long agent', jwks: longKey.jwks, ttlS: 900 });
    for (const client of [agentId, long]) expect((await delegate(cookie, { clientId: client, scopes: ['read'], expiresIn: DAY_S })).statusCode).toBe(201);
    const subject = await personToken(cookie);
    const once = await proof(dpop, 'POST', `${t.config.oidc.issuer}/token`);
    expect((await exchange(subject, { dpop: once })).statusCode).toBe(200);
    const replayed = await exchange(subject, { dpop: once });
    expect(replayed.statusCode).toBe(400);
    expect(replayed.json().error).toMatch(/^invalid_(grant|dpop_proof)$/);
    const capped = await exchange(subject, { client: long, key: longKey });
    expect(capped.statusCode, capped.body).toBe(200);
    const claims = decodeJwt(capped.json().access_token);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
  });

  it('a session that is not fresh cannot grant; an expired delegation is not live', async () => {
    const { cookie } = await enrol(t, 'vic');
    expect((await delegate(cookie, { clientId: agentId, scopes: ['read'], expiresIn: 120 })).statusCode).toBe(201);
    t.clock.advance(301_000);
    const stale = await delegate(cookie, { clientId: agentId, scopes: ['read'], expiresIn: DAY_S });
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('fresh_auth_required');
    const listed = (await t.get('/api/v1/delegations', cookie)).json().delegations as { status: string }[];
    expect(listed.map((d) => d.status)).toEqual(['expired']);
  });

  it('an expired subject token is invalid_grant, though the sign-in behind it is still live', async () => {
    // The provider stamps tokens with the real time; the exchange checks them against the server's clock.
    t.clock.now = Date.now();
    const { cookie } = await enrol(t, 'xena');
    expect((await delegate(cookie, { clientId: agentId, scopes: ['read'], expiresIn: DAY_S })).statusCode).toBe(201);
    const subject = await personToken(cookie);
    expect((await exchange(subject)).statusCode).toBe(200);
    t.clock.advance((decodeJwt(subject).exp! - decodeJwt(subject).iat! + 1) * 1000);
    expect((await t.get('/api/v1/session', cookie)).statusCode).toBe(200);
    const expired = await exchange(subject);
    expect(expired.statusCode).toBe(400);
    expect(expired.json().error).toBe('invalid_grant');
  });
});
