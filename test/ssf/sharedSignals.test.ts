/**
 * OpenID Shared Signals Framework 1.0 transmitter: metadata, stream management for clients allowed
 * `ssf` (authenticated by a client-credentials token), the https rule, and push delivery (RFC 8935)
 * of every CAEP and RISC event Keybound sends, each SET verified with jose against the JWKS by a
 * receiver on loopback. Both databases.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { changeRole } from '../../src/services/roles.ts';
import { offboardAccount, resumeAccount, suspendAccount } from '../../src/services/lifecycle.ts';
import { updateAccount } from '../../src/services/accountAdmin.ts';
import { CLI_ACTOR } from '../../src/services/adminAccess.ts';
import { deleteClient, updateClientPolicy } from '../../src/oidc/clients.ts';
import { pauseAfter } from '../../src/delivery/outbox.ts';
import { SSF_DISPATCH_DEFAULTS } from '../../src/ssf/dispatch.ts';
import { SSF_EVENTS, VERIFICATION_EVENT } from '../../src/ssf/events.ts';
import { enrol, ManualClock, ORIGIN, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { enrolTotp, MEMBER_CODES_ENV } from '../codes/support.ts';
import { clientToken, Receiver, settle, ssf, ssfClient, verifySet } from './support.ts';

const ENV = { KEYBOUND_OIDC_ALLOW_SHARED_SECRETS: 'true', ...MEMBER_CODES_ENV };
const PUSH = 'urn:ietf:rfc:8935';
const CONTEXT = { ip: '127.0.0.1', userAgent: 'test' };

describe.each(BACKENDS)('shared signals on %s', (backend) => {
  let t: TestApp | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
    t = undefined;
    receiver = undefined;
  });

  async function start() {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: ENV });
    receiver = new Receiver();
    const endpoint = await receiver.start();
    return { t, receiver, endpoint };
  }

  /** A client allowed `ssf` (and `more`), its token, and a stream pushing to the receiver. */
  async function stream(t: TestApp, endpoint: string, body: Record<string, unknown> = {}, more: string[] = []) {
    const client = await ssfClient(t, ['ssf', ...more]);
    const token = await clientToken(t, client);
    const created = await ssf(t, 'POST', '/ssf/stream', token, { delivery: { method: PUSH, endpoint_url: endpoint }, ...body });
    expect(created.statusCode, created.body).toBe(201);
    return { ...client, token, streamId: (created.json() as { stream_id: string }).stream_id };
  }

  /** Every SET the receiver got so far, verified; the receiver keeps them. */
  async function sets(t: TestApp, receiver: Receiver, audience: string) {
    const jwks = (await t.get('/oidc/jwks')).json() as { keys: unknown[] };
    return Promise.all(receiver.received.map((r) => verifySet(jwks, r.token, { issuer: t.config.oidc.issuer, audience })));
  }

  const typesOf = (all: Awaited<ReturnType<typeof sets>>) => all.map((s) => Object.keys(s.events)[0]);

  it('publishes transmitter metadata (SSF 1.0 §7.1) at the well-known path, with and without the issuer path', async () => {
    const { t } = await start();
    const bare = await t.get('/.well-known/ssf-configuration');
    expect(bare.statusCode).toBe(200);
    const withPath = await t.get('/.well-known/ssf-configuration/oidc');
    expect(withPath.json()).toEqual(bare.json());
    const m = bare.json() as Record<string, unknown>;
    expect(m).toMatchObject({
      spec_version: '1_0',
      issuer: t.config.oidc.issuer,
      jwks_uri: `${t.config.oidc.issuer}/jwks`,
      delivery_methods_supported: [PUSH],
      authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
      default_subjects: 'ALL',
    });
    for (const key of ['configuration_endpoint', 'status_endpoint', 'add_subject_endpoint', 'remove_subject_endpoint', 'verification_endpoint']) expect(typeof m[key]).toBe('string');
    // The JWKS it names is the provider's (SETs verify against it below).
    expect((await t.get(new URL(m.jwks_uri as string).pathname)).statusCode).toBe(200);
  });

  it('refuses a call without a token, with an unknown token, with a token lacking ssf, from a client no longer allowed ssf, and another client\'s stream', async () => {
    const { t, endpoint } = await start();
    const body = { delivery: { method: PUSH, endpoint_url: endpoint } };
    const none = await ssf(t, 'POST', '/ssf/stream', null, body);
    expect([none.statusCode, none.json().error, none.headers['www-authenticate']]).toEqual([401, 'ssf_token_required', 'Bearer']);
    const bogus = await ssf(t, 'GET', '/ssf/stream', 'not-a-token', undefined);
    expect([bogus.statusCode, bogus.json().error]).toEqual([401, 'ssf_token_invalid']);
    // A client allowed ssf whose token was asked for without it.
    const client = await ssfClient(t, ['ssf']);
    const noScope = await clientToken(t, client, null);
    const refused = await ssf(t, 'POST', '/ssf/stream', noScope, body);
    expect([refused.statusCode, refused.json().error]).toEqual([403, 'ssf_scope_required']);
    // A client not allowed ssf cannot even get such a token.
    const other = await ssfClient(t, ['profile']);
    const asked = await t.app.inject({ method: 'POST', url: '/oidc/token', headers: { authorization: `Basic ${Buffer.from(`${other.clientId}:${other.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials&scope=ssf' });
    expect(asked.json().error).toBe('invalid_scope');

    const a = await stream(t, endpoint);
    const b = await stream(t, endpoint);
    // B sees only its own stream, and A's is "not found" to it, whatever it tries.
    const listB = await ssf(t, 'GET', '/ssf/stream', b.token);
    expect((listB.json() as { stream_id: string }[]).map((s) => s.stream_id)).toEqual([b.streamId]);
    for (const [method, url, payload] of [
      ['GET', `/ssf/stream?stream_id=${a.streamId}`, undefined],
      ['PATCH', '/ssf/stream', { stream_id: a.streamId, description: 'x' }],
      ['DELETE', `/ssf/stream?stream_id=${a.streamId}`, undefined],
      ['GET', `/ssf/status?stream_id=${a.streamId}`, undefined],
      ['POST', '/ssf/status', { stream_id: a.streamId, status: 'disabled' }],
      ['POST', '/ssf/verify', { stream_id: a.streamId }],
      ['POST', '/ssf/subjects/add', { stream_id: a.streamId, subject: { format: 'iss_sub', iss: t.config.oidc.issuer, sub: 'x' } }],
    ] as const) {
      const r = await ssf(t, method, url, b.token, payload);
      expect([method, url, r.statusCode, r.json().error]).toEqual([method, url, 404, 'ssf_stream_not_found']);
    }
    expect((await ssf(t, 'GET', `/ssf/status?stream_id=${a.streamId}`, a.token)).json()).toMatchObject({ status: 'enabled' });
    // Narrowing the client's allowlist takes effect at once, for the token it already holds.
    expect((await updateClientPolicy(t.deps, a.clientId, { scopes: [] })).ok).toBe(true);
    const narrowed = await ssf(t, 'GET', '/ssf/stream', a.token);
    expect([narrowed.statusCode, narrowed.json().error]).toEqual([403, 'ssf_scope_required']);
  });

  it('creates, reads, lists, updates, replaces and deletes a stream (SSF 1.0 §8.1.1); push endpoints must be https but for loopback', async () => {
    const { t, endpoint } = await start();
    const client = await ssfClient(t);
    const token = await clientToken(t, client);
    const create = (endpoint_url: unknown) => ssf(t, 'POST', '/ssf/stream', token, { delivery: { method: PUSH, endpoint_url } });
    for (const bad of ['http://receiver.example.com/events', 'ftp://127.0.0.1/x', 'http://10.0.0.1/events', 'https://user:pw@receiver.example.com/e', 'https://receiver.example.com/e#f', 'not a url', 42]) {
      const r = await create(bad);
      expect([bad, r.statusCode, r.json().error]).toEqual([bad, 400, 'ssf_endpoint_not_https']);
    }
    for (const good of ['https://receiver.example.com/events', 'http://localhost:9/events', 'http://[::1]:9/events', 'http://127.0.0.2:9/events']) expect((await create(good)).statusCode).toBe(201);
    const poll = await ssf(t, 'POST', '/ssf/stream', token, {});
    expect([poll.statusCode, poll.json().error]).toEqual([400, 'ssf_delivery_unsupported']);

    const created = await ssf(t, 'POST', '/ssf/stream', token, { delivery: { method: PUSH, endpoint_url: endpoint, authorization_header: 'Bearer receiver-secret' }, events_requested: [SSF_EVENTS.sessionRevoked, 'urn:example:unknown'], description: 'Test stream' });
    expect(created.statusCode).toBe(201);
    const s = created.json() as Record<string, unknown>;
    expect(s).toMatchObject({ iss: t.config.oidc.issuer, aud: client.clientId, delivery: { method: PUSH, endpoint_url: endpoint }, events_requested: [SSF_EVENTS.sessionRevoked, 'urn:example:unknown'], events_delivered: [SSF_EVENTS.sessionRevoked], description: 'Test stream' });
    // The receiver's own authorization header is not read back.
    expect(JSON.stringify(s)).not.toContain('receiver-secret');
    const id = s.stream_id as string;
    expect((await ssf(t, 'GET', `/ssf/stream?stream_id=${id}`, token)).json()).toEqual(s);
    expect((await ssf(t, 'GET', '/ssf/stream', token)).json()).toHaveLength(5);
    const patched = await ssf(t, 'PATCH', '/ssf/stream', token, { stream_id: id, description: 'Renamed' });
    expect(patched.json()).toMatchObject({ description: 'Renamed', events_delivered: [SSF_EVENTS.sessionRevoked] });
    const wrongIss = await ssf(t, 'PATCH', '/ssf/stream', token, { stream_id: id, iss: 'https://elsewhere.example' });
    expect([wrongIss.statusCode, wrongIss.json().error]).toEqual([400, 'ssf_stream_invalid']);
    const replaced = await ssf(t, 'PUT', '/ssf/stream', token, { stream_id: id, delivery: { method: PUSH, endpoint_url: endpoint } });
    expect(replaced.json()).toMatchObject({ events_requested: [] });
    expect((replaced.json() as { events_delivered: string[] }).events_delivered).toHaveLength(8);
    expect(replaced.json().description).toBeUndefined();
    expect((await ssf(t, 'DELETE', `/ssf/stream?stream_id=${id}`, token)).statusCode).toBe(204);
    expect((await ssf(t, 'GET', `/ssf/stream?stream_id=${id}`, token)).statusCode).toBe(404);
    expect((await ssf(t, 'DELETE', `/ssf/stream?stream_id=${id}`, token)).statusCode).toBe(404);
    // Deleting the client deletes its streams; its token no longer works.
    expect((await deleteClient(t.deps, client.clientId)).ok).toBe(true);
    expect(await t.store.ssfStreams.listByClient(client.clientId)).toEqual([]);
    expect((await ssf(t, 'GET', '/ssf/stream', token)).json().error).toBe('ssf_token_invalid');
  });

  it('delivers every event type, each SET verified against the JWKS with typ, iss, aud, sub_id and events, from the action that causes it', async () => {
    const { t, receiver, endpoint } = await start();
    const s = await stream(t, endpoint, {}, ['profile']);
    const iss = t.config.oidc.issuer;
    const expectNext = async (type: string, check: (event: Record<string, unknown>) => void = () => undefined) => {
      const before = receiver.received.length;
      await settle(t);
      const all = await sets(t, receiver, s.clientId);
      expect(typesOf(all.slice(before)), `after the action for ${type}`).toEqual([type]);
      const set = all[all.length - 1]!;
      check(set.events[type]!);
      return set;
    };

    // Enrolment binds a passkey: credential-change create.
    const { cookie, account, authenticator } = await enrol(t, 'ana');
    const created = await expectNext(SSF_EVENTS.credentialChange, (e) => expect(e).toMatchObject({ change_type: 'create', credential_type: expect.stringMatching(/^fido2-/), initiating_entity: 'user' }));
    expect(created.sub_id).toEqual({ format: 'iss_sub', iss, sub: account.id });
    expect(receiver.received[0]!.contentType).toBe('application/secevent+jwt');

    // A code factor bound and removed.
    await enrolTotp(t, cookie);
    await expectNext(SSF_EVENTS.credentialChange, (e) => expect(e).toMatchObject({ credential_type: 'app', change_type: 'create' }));
    const factor = (await t.store.authenticators.findBound(account.id, 'totp'))!;
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/v1/factors/${factor.id}`, headers: { cookie, origin: ORIGIN } });
    expect(removed.statusCode, removed.body).toBe(204);
    await expectNext(SSF_EVENTS.credentialChange, (e) => expect(e).toMatchObject({ credential_type: 'app', change_type: 'delete' }));

    // A display name change: token-claims-change with `name` (the client is allowed `profile`); an
    // email change alone tells this client nothing (it is not allowed `email`).
    expect((await updateAccount(t.deps, { actor: CLI_ACTOR, username: 'ana', changes: { displayName: 'Ana B.' }, context: CONTEXT })).ok).toBe(true);
    await expectNext(SSF_EVENTS.tokenClaimsChange, (e) => expect(e.claims).toEqual({ name: 'Ana B.' }));
    expect((await updateAccount(t.deps, { actor: CLI_ACTOR, username: 'ana', changes: { email: 'ana@example.test' }, context: CONTEXT })).ok).toBe(true);
    await settle(t);
    expect(await t.store.ssfOutbox.listDue(t.clock.now + 1e9, 10)).toEqual([]);

    // A role whose sign-ins must reach a higher level: assurance-level-change (member AAL1 -> admin AAL2 here).
    expect((await changeRole(t.deps, { username: 'ana', role: 'admin' })).ok).toBe(true);
    await expectNext(SSF_EVENTS.assuranceLevelChange, (e) => expect(e).toMatchObject({ namespace: 'keybound-role-min-aal', previous_level: 'nist-aal1', current_level: 'nist-aal2', change_direction: 'increase' }));

    // Sign-out: session-revoked.
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } });
    expect(out.statusCode).toBe(204);
    await expectNext(SSF_EVENTS.sessionRevoked, (e) => expect(e).toMatchObject({ initiating_entity: 'user' }));

    // A cloned passkey (its counter went backwards): credential-compromise.
    expect((await signIn(t, authenticator)).statusCode).toBe(200);
    await settle(t);
    const before = receiver.received.length;
    const stored = (await t.store.passkeys.listByAccount(account.id))[0]!;
    expect((await signIn(t, authenticator, { signCount: stored.signCount })).json()).toMatchObject({ error: 'passkey_sign_count_regressed' });
    await settle(t);
    const compromise = (await sets(t, receiver, s.clientId)).slice(before);
    expect(typesOf(compromise)).toContain(SSF_EVENTS.credentialCompromise);
    expect(compromise.find((c) => c.events[SSF_EVENTS.credentialCompromise])!.events[SSF_EVENTS.credentialCompromise]).toMatchObject({ credential_type: expect.stringMatching(/^fido2-/) });

    // Suspend, resume, offboard: RISC account-disabled, account-enabled, then account-disabled and account-purged with one txn.
    const { account: ben } = await enrol(t, 'ben');
    await settle(t);
    const mark = receiver.received.length;
    expect((await suspendAccount(t.deps, { username: 'ben', actor: CLI_ACTOR, context: CONTEXT })).ok).toBe(true);
    await settle(t);
    // SETs go out concurrently: their order on arrival is not fixed (each has iat and event_timestamp).
    expect(typesOf((await sets(t, receiver, s.clientId)).slice(mark)).sort()).toEqual([SSF_EVENTS.accountDisabled, SSF_EVENTS.sessionRevoked].sort());
    const mark2 = receiver.received.length;
    expect((await resumeAccount(t.deps, { username: 'ben', actor: CLI_ACTOR, context: CONTEXT })).ok).toBe(true);
    await expectNext(SSF_EVENTS.accountEnabled);
    expect(receiver.received.length).toBe(mark2 + 1);
    const mark3 = receiver.received.length;
    expect((await offboardAccount(t.deps, { username: 'ben', actor: CLI_ACTOR, context: CONTEXT })).ok).toBe(true);
    await settle(t);
    const offboarded = (await sets(t, receiver, s.clientId)).slice(mark3);
    expect(typesOf(offboarded).sort()).toEqual([SSF_EVENTS.accountDisabled, SSF_EVENTS.accountPurged].sort());
    expect(offboarded[0]!.txn).toBe(offboarded[1]!.txn);
    expect(offboarded.every((o) => o.sub_id.sub === ben.id)).toBe(true);
    // Every SET has its own jti.
    const all = await sets(t, receiver, s.clientId);
    expect(new Set(all.map((a) => a.jti)).size).toBe(all.length);
  });

  it('sends a stream only the subjects it added (§8.1.3), only the events it requested, holds SETs while paused and drops them when disabled', async () => {
    const { t, receiver, endpoint } = await start();
    const s = await stream(t, endpoint, { events_requested: [SSF_EVENTS.sessionRevoked] });
    const ana = await enrol(t, 'ana');
    const ben = await enrol(t, 'ben');
    await settle(t);
    // Enrolments made credential-change events, which this stream did not ask for.
    expect(receiver.received).toHaveLength(0);
    const add = await ssf(t, 'POST', '/ssf/subjects/add', s.token, { stream_id: s.streamId, subject: { format: 'iss_sub', iss: t.config.oidc.issuer, sub: ben.account.id } });
    expect(add.statusCode).toBe(200);
    const badSubject = await ssf(t, 'POST', '/ssf/subjects/add', s.token, { stream_id: s.streamId, subject: { format: 'email', email: 'a@example.test' } });
    expect([badSubject.statusCode, badSubject.json().error]).toEqual([400, 'ssf_subject_unsupported']);
    const signOut = (cookie: string) => t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: ORIGIN } });
    await signOut(ana.cookie);
    await signOut(ben.cookie);
    await settle(t);
    const got = await sets(t, receiver, s.clientId);
    expect(got.map((g) => g.sub_id.sub)).toEqual([ben.account.id]);

    // Removing the only subject: every subject again.
    expect((await ssf(t, 'POST', '/ssf/subjects/remove', s.token, { stream_id: s.streamId, subject: { format: 'iss_sub', iss: t.config.oidc.issuer, sub: ben.account.id } })).statusCode).toBe(204);
    const paused = await ssf(t, 'POST', '/ssf/status', s.token, { stream_id: s.streamId, status: 'paused', reason: 'maintenance' });
    expect(paused.json()).toMatchObject({ stream_id: s.streamId, status: 'paused', reason: 'maintenance' });
    const c1 = await signIn(t, ana.authenticator);
    const c1cookie = String(c1.headers['set-cookie']).split(';')[0]!;
    await signOut(c1cookie);
    await settle(t);
    expect(receiver.received).toHaveLength(1);
    expect((await ssf(t, 'GET', `/ssf/status?stream_id=${s.streamId}`, s.token)).json()).toMatchObject({ status: 'paused', keybound_delivery: { pending: 1, delivered: 1, failed: 0 } });
    await ssf(t, 'POST', '/ssf/status', s.token, { stream_id: s.streamId, status: 'enabled' });
    await settle(t);
    expect(receiver.received).toHaveLength(2);
    expect((await sets(t, receiver, s.clientId))[1]!.sub_id.sub).toBe(ana.account.id);

    await ssf(t, 'POST', '/ssf/status', s.token, { stream_id: s.streamId, status: 'disabled' });
    const c2 = await signIn(t, ana.authenticator);
    await signOut(String(c2.headers['set-cookie']).split(';')[0]!);
    await ssf(t, 'POST', '/ssf/status', s.token, { stream_id: s.streamId, status: 'enabled' });
    await settle(t);
    expect(receiver.received).toHaveLength(2);
    const bad = await ssf(t, 'POST', '/ssf/status', s.token, { stream_id: s.streamId, status: 'on' });
    expect([bad.statusCode, bad.json().error]).toEqual([400, 'ssf_stream_invalid']);
  });

  it('sends a verification SET (§8.1.4) with the receiver\'s state, its authorization header, and retries a receiver that is down with growing pauses of at most 24 hours', async () => {
    const { t, receiver, endpoint } = await start();
    const client = await ssfClient(t);
    const token = await clientToken(t, client);
    const created = await ssf(t, 'POST', '/ssf/stream', token, { delivery: { method: PUSH, endpoint_url: endpoint, authorization_header: 'Bearer receiver-secret' } });
    const streamId = created.json().stream_id as string;
    receiver.mode = 'down';
    expect((await ssf(t, 'POST', '/ssf/verify', token, { stream_id: streamId, state: 'abc' })).statusCode).toBe(204);
    await t.app.ssfDispatcher!.runOnce();
    await t.app.ssfDispatcher!.idle();
    const status = (await ssf(t, 'GET', `/ssf/status?stream_id=${streamId}`, token)).json();
    expect(status).toMatchObject({ keybound_delivery: { pending: 1, delivered: 0, failed: 1, last_failure: 'http_503 (will retry)' } });
    // Not due again before its pause.
    expect(await t.store.ssfOutbox.listDue(t.clock.now, 10)).toEqual([]);
    receiver.mode = 'ok';
    t.clock.advance(SSF_DISPATCH_DEFAULTS.backoffMs[0]!);
    await settle(t);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.authorization).toBe('Bearer receiver-secret');
    // Sealed at rest.
    expect((await t.store.ssfStreams.findById(streamId))!.authorizationHeader).not.toContain('receiver-secret');
    const [set] = await sets(t, receiver, client.clientId);
    expect(set!.sub_id).toEqual({ format: 'opaque', id: streamId });
    expect(set!.events[VERIFICATION_EVENT]).toEqual({ state: 'abc' });
    expect((await ssf(t, 'GET', `/ssf/status?stream_id=${streamId}`, token)).json()).toMatchObject({ keybound_delivery: { pending: 0, delivered: 1 } });
    // Verification is refused (429) while 100 SETs wait for the stream.
    await ssf(t, 'POST', '/ssf/status', token, { stream_id: streamId, status: 'paused' });
    for (let i = 0; i < 100; i++) expect((await ssf(t, 'POST', '/ssf/verify', token, { stream_id: streamId })).statusCode).toBe(204);
    const limited = await ssf(t, 'POST', '/ssf/verify', token, { stream_id: streamId });
    expect([limited.statusCode, limited.json().error]).toEqual([429, 'rate_limited']);
    // The pauses grow and never pass a day.
    const pauses = Array.from({ length: SSF_DISPATCH_DEFAULTS.maxAttempts }, (_, i) => pauseAfter(SSF_DISPATCH_DEFAULTS.backoffMs, i + 1));
    expect(pauses).toEqual([...pauses].sort((a, b) => a - b));
    expect(Math.max(...pauses)).toBe(24 * 60 * 60 * 1000);
  });
});
