/**
 * Workloads (issue 15, docs/nhi.md), in-process on SQLite and PostgreSQL: an active owner is
 * required, the token lifetime is capped at 900 s, agents get DPoP-bound tokens only, disabled
 * workloads get `invalid_client`, transfer, key rotation with and without an overlap (the old key
 * refused once the injectable clock passes it), last use, and the offboarding cascade (owner
 * offboarded or suspended: the next client-credentials request fails; or the workloads move to
 * KEYBOUND_NHI_ON_OWNER_OFFBOARD's account).
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteClient } from '../../src/oidc/clients.ts';
import { CLI_ACTOR } from '../../src/services/adminAccess.ts';
import { invite } from '../../src/services/invitations.ts';
import { offboardAccount, revokeSessions, suspendAccount } from '../../src/services/lifecycle.ts';
import { checkApiKey, createApiKey } from '../../src/services/nhi/apiKeys.ts';
import { createWorkload, disableWorkload, enableWorkload, listWorkloads, rotateWorkloadKeys, showWorkload, transferWorkload, type WorkloadInput } from '../../src/services/nhi/workloads.ts';
import type { Deps } from '../../src/services/deps.ts';
import { enrol, ManualClock, secondInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { clientCredentials, machineKey, type MachineKey } from '../helpers/machines.ts';

const RESOURCE = 'https://api.example.test/';
const CONTEXT = { ip: '192.0.2.1', userAgent: 'test' };
const noValidation = async () => null;

describe.each(BACKENDS)('workloads on %s', (backend) => {
  let t: TestApp;
  let key: MachineKey;

  const create = async (overrides: Partial<WorkloadInput> = {}, deps: Deps = t.deps) => {
    const made = await createWorkload(deps, { name: 'Reports', owner: 'olive', kind: 'service', jwks: key.jwks, audiences: [RESOURCE], scopes: ['read'], by: 'test', ...overrides }, noValidation);
    if (!made.ok) throw new Error(`${made.code}: ${made.message}`);
    return made.value;
  };
  const token = (clientId: string, signer = key, options: { dpop?: boolean } = {}) => clientCredentials(t, clientId, signer.privateKey, { resource: RESOURCE, scope: 'read', ...options });

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } });
    for (const name of ['olive', 'heir', 'sam', 'tess']) await enrol(t, name);
    await invite(t.deps, { username: 'newbie', createdBy: 'test' });
    key = await machineKey();
  }, 60_000);
  afterAll(async () => t?.close());

  it('needs an owner that is an active account, a known kind, a lifetime of at most 900 s and public keys only', async () => {
    const attempt = (o: Partial<WorkloadInput>) => createWorkload(t.deps, { name: 'X', owner: 'olive', kind: 'service', jwks: key.jwks, audiences: [], scopes: [], by: 'test', ...o }, noValidation);
    expect(await attempt({ owner: 'nobody' })).toMatchObject({ ok: false, code: 'account_not_found' });
    expect(await attempt({ owner: 'newbie' })).toMatchObject({ ok: false, code: 'owner_not_active' });
    expect(await attempt({ ttlS: 901 })).toMatchObject({ ok: false, code: 'workload_invalid' });
    expect(await attempt({ ttlS: 0 })).toMatchObject({ ok: false, code: 'workload_invalid' });
    expect(await attempt({ kind: 'robot' })).toMatchObject({ ok: false, code: 'workload_invalid' });
    expect(await attempt({ jwks: { keys: [{ ...key.jwks.keys[0], d: 'secret' }] } })).toMatchObject({ ok: false, code: 'workload_invalid' });
    expect(await attempt({ audiences: ['https://elsewhere.test/'] })).toMatchObject({ ok: false, code: 'workload_invalid' });
    expect((await listWorkloads(t.deps)).ok && (await listWorkloads(t.deps, { owner: 'olive' }))).toEqual({ ok: true, value: [] });
    const made = await create();
    expect(made).toMatchObject({ owner: 'olive', kind: 'service', status: 'active', token_ttl: 300, dpop_required: false, scopes: ['read'], audiences: [RESOURCE], last_used_at: null });
  });

  it('issues tokens that live the workload\'s TTL, and records the last use', async () => {
    const w = await create({ ttlS: 120 });
    const answer = await token(w.client_id);
    expect(answer.statusCode, answer.body).toBe(200);
    const body = answer.json() as { access_token: string; expires_in: number };
    expect(body.expires_in).toBe(120);
    const claims = decodeJwt(body.access_token);
    expect(claims.exp! - claims.iat!).toBe(120);
    expect(claims).toMatchObject({ sub: w.client_id, aud: RESOURCE, scope: 'read' });
    const shown = await showWorkload(t.deps, w.client_id);
    expect(shown.ok && shown.value.last_used_at).toBe(new Date(t.clock.now).toISOString());
  });

  it('an agent gets DPoP-bound tokens only', async () => {
    const agent = await create({ name: 'Helper agent', kind: 'agent' });
    expect(agent.dpop_required).toBe(true);
    const bearer = await token(agent.client_id);
    expect(bearer.statusCode).toBe(400);
    // oidc-provider answers a missing proof for a dpop_bound_access_tokens client with invalid_grant
    // (its detail is not sent); the same request with a proof is granted.
    expect(bearer.json().error).toBe('invalid_grant');
    const bound = await token(agent.client_id, key, { dpop: true });
    expect(bound.statusCode, bound.body).toBe(200);
    expect(bound.json().token_type).toBe('DPoP');
    expect(decodeJwt(bound.json().access_token).cnf).toBeDefined();
  });

  it('a disabled workload gets invalid_client until it is enabled', async () => {
    const w = await create();
    expect((await token(w.client_id)).statusCode).toBe(200);
    expect(await disableWorkload(t.deps, { clientId: w.client_id, by: 'test', reason: 'leaked key' })).toMatchObject({ ok: true, value: { status: 'disabled', disabled_reason: 'leaked key' } });
    const refused = await token(w.client_id);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error).toBe('invalid_client');
    expect(await enableWorkload(t.deps, { clientId: w.client_id, by: 'test' })).toMatchObject({ ok: true, value: { status: 'active' } });
    expect((await token(w.client_id)).statusCode).toBe(200);
    const trail = await t.store.audit.list({ typePrefix: 'workload.', limit: 50 });
    expect(trail.filter((e) => e.details.clientId === w.client_id).map((e) => e.type).reverse()).toEqual(['workload.created', 'workload.disabled', 'workload.enabled']);
  });

  it('another instance that has served the workload refuses it at its next request after a disable or a rotation made elsewhere', async () => {
    // The provider keeps parsed clients per process (oidc/providerClients.ts); every request still reads the row.
    const other = await secondInstance(t);
    try {
      const w = await create();
      const there = (signer = key) => clientCredentials(other, w.client_id, signer.privateKey, { resource: RESOURCE, scope: 'read' });
      expect((await there()).statusCode).toBe(200);
      expect((await there()).statusCode).toBe(200);
      expect((await disableWorkload(t.deps, { clientId: w.client_id, by: 'test', reason: 'leaked key' })).ok).toBe(true);
      const refused = await there();
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error).toBe('invalid_client');
      expect((await enableWorkload(t.deps, { clientId: w.client_id, by: 'test' })).ok).toBe(true);
      expect((await there()).statusCode).toBe(200);
      const next = await machineKey();
      expect((await rotateWorkloadKeys(t.deps, { clientId: w.client_id, jwks: next.jwks, overlapMs: 0, by: 'test' })).ok).toBe(true);
      const old = await there(key);
      expect(old.statusCode).toBe(401);
      expect(old.json().error).toBe('invalid_client');
      expect((await there(next)).statusCode).toBe(200);
      // The owner suspended on the first instance: refused on the second at once.
      await enrol(t, 'quill');
      expect((await transferWorkload(t.deps, { clientId: w.client_id, to: 'quill', by: 'test' })).ok).toBe(true);
      expect((await there(next)).statusCode).toBe(200);
      expect((await suspendAccount(t.deps, { username: 'quill', actor: CLI_ACTOR, context: CONTEXT })).ok).toBe(true);
      expect((await there(next)).statusCode).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('transfers only to an active account', async () => {
    const w = await create();
    expect(await transferWorkload(t.deps, { clientId: w.client_id, to: 'newbie', by: 'test' })).toMatchObject({ ok: false, code: 'owner_not_active' });
    expect(await transferWorkload(t.deps, { clientId: w.client_id, to: 'nobody', by: 'test' })).toMatchObject({ ok: false, code: 'account_not_found' });
    expect(await transferWorkload(t.deps, { clientId: 'nope', to: 'heir', by: 'test' })).toMatchObject({ ok: false, code: 'workload_not_found' });
    expect(await transferWorkload(t.deps, { clientId: w.client_id, to: 'heir', by: 'test' })).toMatchObject({ ok: true, value: { owner: 'heir' } });
    // `clients delete` does not remove a workload behind its owner's back.
    expect(await deleteClient(t.deps, w.client_id)).toMatchObject({ ok: false, code: 'client_invalid' });
  });

  it('rotates keys: with an overlap both key sets work until it ends, then the old one is refused', async () => {
    const w = await create();
    const next = await machineKey();
    const rotated = await rotateWorkloadKeys(t.deps, { clientId: w.client_id, jwks: next.jwks, overlapMs: 3_600_000, by: 'test' });
    expect(rotated).toMatchObject({ ok: true, value: { keys: [next.jwks.keys[0]!.kid], previous_keys: [key.jwks.keys[0]!.kid] } });
    expect((await token(w.client_id, key)).statusCode).toBe(200);
    expect((await token(w.client_id, next)).statusCode).toBe(200);
    t.clock.advance(3_600_000 + 1000);
    const old = await token(w.client_id, key);
    expect(old.statusCode).toBe(401);
    expect(old.json().error).toBe('invalid_client');
    expect((await token(w.client_id, next)).statusCode).toBe(200);
    // Without an overlap the old key is refused at once.
    const third = await machineKey();
    expect((await rotateWorkloadKeys(t.deps, { clientId: w.client_id, jwks: third.jwks, overlapMs: 0, by: 'test' })).ok).toBe(true);
    expect((await token(w.client_id, next)).statusCode).toBe(401);
    expect((await token(w.client_id, third)).statusCode).toBe(200);
    expect(await rotateWorkloadKeys(t.deps, { clientId: w.client_id, jwks: { keys: [] }, overlapMs: 0, by: 'test' })).toMatchObject({ ok: false, code: 'workload_invalid' });
  });

  it('offboarding the owner disables their workloads and API keys in the same change: the next token request fails', async () => {
    const w = await create({ owner: 'sam', ttlS: 900 });
    const apiKey = await createApiKey(t.deps, { owner: 'sam', name: 'CI', scopes: ['read'], by: 'test' });
    if (!apiKey.ok) throw new Error(apiKey.code);
    expect((await token(w.client_id)).statusCode).toBe(200);
    // An administrator ending sessions is not the owner leaving: machines keep working.
    expect((await revokeSessions(t.deps, { target: { username: 'sam' }, actor: CLI_ACTOR, context: CONTEXT })).ok).toBe(true);
    expect((await token(w.client_id)).statusCode).toBe(200);

    const change = await offboardAccount(t.deps, { username: 'sam', actor: CLI_ACTOR, context: CONTEXT });
    expect(change.ok && change.value.revoked).toMatchObject({ workloads: 1, apiKeys: 1, machinesTransferredTo: null });
    // Its JWTs already issued live out the workload's 900 s, longer than the server's 300 s: the answer says so.
    expect(change.ok && change.value.selfContained.accessTokensValidUntil).toBe(t.clock.now + 900_000);
    const refused = await token(w.client_id);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error).toBe('invalid_client');
    expect(await checkApiKey(t.deps, apiKey.value.key)).toMatchObject({ ok: false, code: 'api_key_rejected' });
    expect(await showWorkload(t.deps, w.client_id)).toMatchObject({ ok: true, value: { status: 'disabled', disabled_reason: 'owner_offboarded' } });
    // It cannot come back while its owner is gone.
    expect(await enableWorkload(t.deps, { clientId: w.client_id, by: 'test' })).toMatchObject({ ok: false, code: 'owner_not_active' });
    const [event] = await t.store.audit.list({ type: 'nhi.owner_left', limit: 1 });
    expect(event?.details).toMatchObject({ action: 'disabled', workloads: [w.client_id], apiKeys: 1 });
  });

  it('with KEYBOUND_NHI_ON_OWNER_OFFBOARD=transfer:<username>, suspending the owner moves workloads and keys to that account, which keeps them working', async () => {
    const transfer: Deps = { ...t.deps, config: { ...t.config, nhi: { ...t.config.nhi, onOwnerOffboard: { action: 'transfer', username: 'heir' } } } };
    const w = await create({ owner: 'tess' });
    const apiKey = await createApiKey(t.deps, { owner: 'tess', name: 'CI', scopes: ['read'], by: 'test' });
    if (!apiKey.ok) throw new Error(apiKey.code);
    const change = await suspendAccount(transfer, { username: 'tess', actor: CLI_ACTOR, context: CONTEXT });
    expect(change.ok && change.value.revoked).toMatchObject({ workloads: 1, apiKeys: 1, machinesTransferredTo: 'heir' });
    expect(await showWorkload(t.deps, w.client_id)).toMatchObject({ ok: true, value: { owner: 'heir', status: 'active' } });
    expect((await token(w.client_id)).statusCode).toBe(200);
    expect(await checkApiKey(t.deps, apiKey.value.key)).toMatchObject({ ok: true, value: { ownerId: (await t.store.accounts.findByUsername('heir'))!.id } });
  });

  it('a transfer target that is not active: the machines are disabled instead', async () => {
    await enrol(t, 'uma');
    const toNewbie: Deps = { ...t.deps, config: { ...t.config, nhi: { ...t.config.nhi, onOwnerOffboard: { action: 'transfer', username: 'newbie' } } } };
    const w = await create({ owner: 'uma' });
    const change = await offboardAccount(toNewbie, { username: 'uma', actor: CLI_ACTOR, context: CONTEXT });
    expect(change.ok && change.value.revoked).toMatchObject({ workloads: 1, machinesTransferredTo: null });
    expect((await token(w.client_id)).statusCode).toBe(401);
  });
});
