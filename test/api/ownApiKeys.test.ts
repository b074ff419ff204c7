/**
 * A person's own API keys (issue 15, docs/nhi.md "Your own keys"), over HTTP on SQLite and
 * PostgreSQL: only scopes of KEYBOUND_API_KEY_SELF_SCOPES (none: no self-service keys), the key shown
 * once, a fresh passkey sign-in to make or rotate one, someone else's key not found, revocation
 * and rotation taking effect at the next check, each change audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkApiKey } from '../../src/services/nhi/apiKeys.ts';
import { enrol, ManualClock, ORIGIN, startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';

const RESOURCE = 'https://api.example.test/';

describe.each(BACKENDS)('own API keys on %s', (backend) => {
  let t: TestApp;
  let olive: string;
  let sam: string;
  const del = (url: string, cookie: string) => t.app.inject({ method: 'DELETE', url, headers: { cookie, origin: ORIGIN } });

  beforeAll(async () => {
    t = await startTestApp({ backend, clock: new ManualClock(Date.now()), env: { KEYBOUND_OIDC_RESOURCES: RESOURCE, KEYBOUND_API_KEY_SELF_SCOPES: 'read' } });
    olive = (await enrol(t, 'olive')).cookie;
    sam = (await enrol(t, 'sam')).cookie;
  }, 60_000);
  afterAll(async () => t?.close());

  it('makes a key with an allowed scope, shown once; lists it without the key; refuses other scopes', async () => {
    const made = await t.post('/api/v1/account/api-keys', { name: 'Laptop script', scopes: ['read'], expiresIn: 86_400 }, olive);
    expect(made.statusCode, made.body).toBe(201);
    const { id, key, expiresAt } = made.json() as { id: string; key: string; expiresAt: string };
    expect(key).toMatch(/^kb_live_/);
    expect(Date.parse(expiresAt) - t.clock.now).toBe(86_400_000);
    expect((await checkApiKey(t.deps, key)).ok).toBe(true);
    const listed = await t.get('/api/v1/account/api-keys', olive);
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toMatchObject({ selfScopes: ['read'], apiKeys: [{ id, name: 'Laptop script', scopes: ['read'], status: 'active' }] });
    expect(listed.body).not.toContain(key);
    // Someone else sees none of it.
    expect((await t.get('/api/v1/account/api-keys', sam)).json().apiKeys).toEqual([]);
    const write = await t.post('/api/v1/account/api-keys', { name: 'Writer', scopes: ['write'] }, olive);
    expect(write.statusCode).toBe(400);
    expect(write.json().error).toBe('api_key_invalid');
    expect((await t.post('/api/v1/account/api-keys', { name: 'x', scopes: ['read'], expiresIn: 91 * 86_400 }, olive)).json().error).toBe('api_key_invalid');
    const [event] = await t.store.audit.list({ type: 'api_key.created', limit: 1 });
    expect(event?.details).toMatchObject({ id, by: expect.stringMatching(/^self:/) });
    expect(JSON.stringify(event)).not.toContain(key);
  });

  it('revokes and rotates only one\'s own keys; the revoked key fails its next check', async () => {
    const made = (await t.post('/api/v1/account/api-keys', { name: 'CI', scopes: ['read'] }, olive)).json() as { id: string; key: string };
    expect((await del(`/api/v1/account/api-keys/${made.id}`, sam)).statusCode).toBe(404);
    expect((await t.post(`/api/v1/account/api-keys/${made.id}/rotate`, {}, sam)).statusCode).toBe(404);
    const rotated = await t.post(`/api/v1/account/api-keys/${made.id}/rotate`, { overlap: 0 }, olive);
    expect(rotated.statusCode, rotated.body).toBe(201);
    const next = rotated.json() as { id: string; key: string; replaces: string };
    expect(next.replaces).toBe(made.id);
    expect((await checkApiKey(t.deps, made.key)).ok).toBe(false);
    expect((await checkApiKey(t.deps, next.key)).ok).toBe(true);
    expect((await del(`/api/v1/account/api-keys/${next.id}`, olive)).statusCode).toBe(204);
    expect((await checkApiKey(t.deps, next.key)).ok).toBe(false);
    const listed = (await t.get('/api/v1/account/api-keys', olive)).json().apiKeys as { id: string; status: string }[];
    expect(listed.find((k) => k.id === next.id)?.status).toBe('revoked');
    const [event] = await t.store.audit.list({ type: 'api_key.revoked', limit: 1 });
    expect(event?.details).toMatchObject({ id: next.id, reason: 'revoked by its owner' });
  });

  it('making or rotating a key needs a fresh passkey sign-in; revoking does not', async () => {
    const made = (await t.post('/api/v1/account/api-keys', { name: 'Old session', scopes: ['read'] }, olive)).json() as { id: string };
    t.clock.advance(t.config.freshAuthMaxAgeMs + 1000);
    const stale = await t.post('/api/v1/account/api-keys', { name: 'Later', scopes: ['read'] }, olive);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('fresh_auth_required');
    expect((await t.post(`/api/v1/account/api-keys/${made.id}/rotate`, {}, olive)).json().error).toBe('fresh_auth_required');
    expect((await del(`/api/v1/account/api-keys/${made.id}`, olive)).statusCode).toBe(204);
  });
});

describe('own API keys with KEYBOUND_API_KEY_SELF_SCOPES empty (the default)', () => {
  it('refuses to make one, and says who can', async () => {
    const t = await startTestApp({ env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } });
    try {
      const { cookie } = await enrol(t, 'olive');
      const refused = await t.post('/api/v1/account/api-keys', { name: 'x', scopes: ['read'] }, cookie);
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ error: 'api_key_invalid', message: expect.stringContaining('administrator') });
    } finally {
      await t.close();
    }
  });
});
