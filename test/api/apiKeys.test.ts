/**
 * API keys (issue 15, docs/nhi.md), in-process on SQLite and PostgreSQL: an active owner, known
 * scopes and an expiry of at most KEYBOUND_API_KEY_MAX_TTL; the key shown once and only its hash
 * stored; `checkApiKey` (format and checksum, expiry, revocation, scopes, last use); rotation with
 * an overlap (injectable clock); RFC 7662 introspection of keys by resource servers only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '../../src/core/nhi/apiKeyFormat.ts';
import { hashSecret } from '../../src/core/tokens.ts';
import { createClient } from '../../src/oidc/clients.ts';
import { checkApiKey, createApiKey, listApiKeys, revokeApiKey, rotateApiKey, showApiKey } from '../../src/services/nhi/apiKeys.ts';
import { enrol, ManualClock, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { clientAuth, form, machineKey, type MachineKey } from '../helpers/machines.ts';

const RESOURCE = 'https://api.example.test/';
const DAY = 86_400_000;

describe.each(BACKENDS)('API keys on %s', (backend) => {
  let t: TestApp;

  const create = async (extra: { expiresInMs?: number; scopes?: string[] } = {}) => {
    const made = await createApiKey(t.deps, { owner: 'olive', name: 'CI deploy', scopes: extra.scopes ?? ['read'], expiresInMs: extra.expiresInMs ?? null, by: 'test' });
    if (!made.ok) throw new Error(`${made.code}: ${made.message}`);
    return made.value;
  };

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_RESOURCES: RESOURCE, KEYBOUND_API_KEY_ENV: 'test' } });
    await enrol(t, 'olive');
  }, 60_000);
  afterAll(async () => t?.close());

  it('needs an active owner, a name, known scopes and an expiry within KEYBOUND_API_KEY_MAX_TTL (default 90 days)', async () => {
    const attempt = (o: { owner?: string; scopes?: string[]; expiresInMs?: number | null; name?: string }) =>
      createApiKey(t.deps, { owner: o.owner ?? 'olive', name: o.name ?? 'x', scopes: o.scopes ?? ['read'], expiresInMs: o.expiresInMs ?? null, by: 'test' });
    expect(await attempt({ owner: 'nobody' })).toMatchObject({ ok: false, code: 'account_not_found' });
    expect(await attempt({ scopes: [] })).toMatchObject({ ok: false, code: 'api_key_invalid' });
    expect(await attempt({ scopes: ['admin'] })).toMatchObject({ ok: false, code: 'api_key_invalid' });
    expect(await attempt({ expiresInMs: 90 * DAY + 1000 })).toMatchObject({ ok: false, code: 'api_key_invalid' });
    expect(await attempt({ name: ' ' })).toMatchObject({ ok: false, code: 'api_key_invalid' });
    const made = await create();
    expect(made.key).toMatch(/^kb_test_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/);
    expect(Date.parse(made.expiresAt) - t.clock.now).toBe(90 * DAY);
  });

  it('shows the key once: the store keeps its hash, listings show neither', async () => {
    const made = await create();
    const row = await t.store.apiKeys.find(made.id);
    expect(row?.keyHash).toBe(hashSecret(made.key));
    const listed = JSON.stringify(await listApiKeys(t.deps, { owner: 'olive' }));
    expect(listed).toContain(made.id);
    expect(listed).not.toContain(made.key);
    expect(listed).not.toContain(row!.keyHash);
    const [event] = await t.store.audit.list({ type: 'api_key.created', limit: 1 });
    expect(JSON.stringify(event)).not.toContain(made.key);
  });

  it('checks a key: scopes, last use; a look-alike with a bad checksum and an unknown key with a good one are refused', async () => {
    const made = await create({ scopes: ['read', 'write'] });
    expect(await checkApiKey(t.deps, made.key, { require: ['read'] })).toMatchObject({ ok: true, value: { id: made.id, scopes: ['read', 'write'] } });
    expect((await showApiKey(t.deps, made.id)).ok && (await showApiKey(t.deps, made.id))).toMatchObject({ value: { last_used_at: new Date(t.clock.now).toISOString() } });
    const readOnly = await create();
    expect(await checkApiKey(t.deps, readOnly.key, { require: ['write'] })).toMatchObject({ ok: false, code: 'api_key_rejected' });
    const lookAlike = `${made.key.slice(0, -6)}${made.key.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
    expect(await checkApiKey(t.deps, lookAlike)).toMatchObject({ ok: false, code: 'api_key_rejected' });
    const body = `kb_test_${'Z'.repeat(30)}`;
    expect(await checkApiKey(t.deps, `${body}_${checksumOf(body)}`)).toMatchObject({ ok: false, code: 'api_key_rejected', message: 'API key rejected: unknown.' });
    expect(await checkApiKey(t.deps, 'not a key')).toMatchObject({ ok: false, code: 'api_key_rejected' });
  });

  it('keeps last use to the minute: a check within it writes nothing, the first after it does', async () => {
    const made = await create();
    const lastUse = async () => (await t.store.apiKeys.find(made.id))?.lastUsedAt;
    const first = t.clock.now;
    expect((await checkApiKey(t.deps, made.key)).ok).toBe(true);
    expect(await lastUse()).toBe(first);
    t.clock.advance(59_000);
    expect((await checkApiKey(t.deps, made.key)).ok).toBe(true);
    expect(await lastUse()).toBe(first);
    t.clock.advance(1_000);
    expect((await checkApiKey(t.deps, made.key)).ok).toBe(true);
    expect(await lastUse()).toBe(t.clock.now);
  });

  it('a key expires', async () => {
    const made = await create({ expiresInMs: 60_000 });
    expect((await checkApiKey(t.deps, made.key)).ok).toBe(true);
    t.clock.advance(60_000);
    expect(await checkApiKey(t.deps, made.key)).toMatchObject({ ok: false, message: 'API key rejected: expired.' });
    expect(await showApiKey(t.deps, made.id)).toMatchObject({ ok: true, value: { status: 'expired' } });
  });

  it('a revoked key is refused at once, and cannot be revoked twice', async () => {
    const made = await create();
    expect(await revokeApiKey(t.deps, { id: made.id, by: 'test', reason: 'found in a log' })).toMatchObject({ ok: true, value: { status: 'revoked', revoked_reason: 'found in a log' } });
    expect(await checkApiKey(t.deps, made.key)).toMatchObject({ ok: false, message: 'API key rejected: revoked.' });
    expect(await revokeApiKey(t.deps, { id: made.id, by: 'test' })).toMatchObject({ ok: false, code: 'api_key_invalid' });
    expect(await revokeApiKey(t.deps, { id: 'ak_nothing', by: 'test' })).toMatchObject({ ok: false, code: 'api_key_not_found' });
  });

  it('rotation: during the overlap both keys work, then only the successor; without an overlap the old one ends at once', async () => {
    const old = await create({ expiresInMs: 30 * DAY });
    const rotated = await rotateApiKey(t.deps, { id: old.id, overlapMs: 3_600_000, by: 'test' });
    if (!rotated.ok) throw new Error(rotated.code);
    expect(rotated.value).toMatchObject({ replaces: old.id, previousValidUntil: new Date(t.clock.now + 3_600_000).toISOString(), expiresAt: new Date(t.clock.now + 30 * DAY).toISOString() });
    expect((await checkApiKey(t.deps, old.key)).ok).toBe(true);
    expect((await checkApiKey(t.deps, rotated.value.key)).ok).toBe(true);
    expect(await rotateApiKey(t.deps, { id: old.id, overlapMs: 0, by: 'test' })).toMatchObject({ ok: false, code: 'api_key_invalid' });
    t.clock.advance(3_600_000);
    expect((await checkApiKey(t.deps, old.key)).ok).toBe(false);
    expect((await checkApiKey(t.deps, rotated.value.key)).ok).toBe(true);

    const again = await rotateApiKey(t.deps, { id: rotated.value.id, overlapMs: 0, by: 'test' });
    if (!again.ok) throw new Error(again.code);
    expect((await checkApiKey(t.deps, rotated.value.key)).ok).toBe(false);
    expect((await checkApiKey(t.deps, again.value.key)).ok).toBe(true);
    expect(await showApiKey(t.deps, rotated.value.id)).toMatchObject({ ok: true, value: { status: 'revoked', replaced_by: again.value.id } });
  });

  describe('RFC 7662 introspection', () => {
    let resourceServer: { clientId: string; key: MachineKey };
    let other: { clientId: string; key: MachineKey };

    beforeAll(async () => {
      const make = async (asResourceServer: boolean) => {
        const key = await machineKey();
        const made = await createClient(
          t.deps,
          { name: asResourceServer ? 'Reports API' : 'Some service', redirectUris: [], postLogoutRedirectUris: [], public: false, jwks: key.jwks, grantTypes: ['client_credentials'], requireDpop: false, resourceServer: asResourceServer ? RESOURCE : null },
          async () => null,
        );
        if (!made.ok) throw new Error(made.code);
        return { clientId: made.value.client.clientId, key };
      };
      resourceServer = await make(true);
      other = await make(false);
    });

    const introspect = async (caller: { clientId: string; key: MachineKey }, token: string) =>
      form(t, '/oidc/token/introspection', { token, ...(await clientAuth(t, caller.clientId, caller.key.privateKey)) });

    it('a resource server learns whether a key is active, its scopes, owner and expiry', async () => {
      const made = await create({ scopes: ['read', 'write'] });
      const answer = await introspect(resourceServer, made.key);
      expect(answer.statusCode, answer.body).toBe(200);
      const olive = await t.store.accounts.findByUsername('olive');
      expect(answer.json()).toEqual({
        active: true,
        token_type: 'api_key',
        scope: 'read write',
        sub: olive!.id,
        username: 'olive',
        iat: Math.floor(t.clock.now / 1000),
        exp: Math.floor(Date.parse(made.expiresAt) / 1000),
        iss: t.config.oidc.issuer,
        keybound_api_key_id: made.id,
      });
      await revokeApiKey(t.deps, { id: made.id, by: 'test' });
      expect((await introspect(resourceServer, made.key)).json()).toEqual({ active: false });
    });

    it('a client that is not a resource server, and a look-alike, get active: false', async () => {
      const made = await create();
      expect((await introspect(other, made.key)).json()).toEqual({ active: false });
      expect((await introspect(resourceServer, `${made.key.slice(0, -1)}${made.key.endsWith('A') ? 'B' : 'A'}`)).json()).toEqual({ active: false });
    });
  });
});
