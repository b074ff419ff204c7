/**
 * Migration 008 (issue 11): clients made before client policies existed get them written out, the
 * strict way the README states, on SQLite and PostgreSQL; and `clients update` loosens them again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { clientPolicy } from '../../src/oidc/clientPolicy.ts';
import { updateClientPolicy } from '../../src/oidc/clients.ts';
import { openStore } from '../../src/runtime.ts';
import { up } from '../../src/store/migrations/008_client_policy.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';

const API = 'https://api.example.test/';

describe.each(BACKENDS)('migration 008 on %s', (backend) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('writes an explicit, strict policy into existing clients and keeps what is there', async () => {
    t = await startTestApp({ backend, env: { KEYBOUND_OIDC_RESOURCES: API } });
    const legacy = (clientId: string, metadata: Record<string, unknown>) => ({ clientId, name: clientId, metadata: { client_id: clientId, ...metadata }, sharedSecret: false, createdAt: 1 });
    await t.store.oidcClients.create(legacy('web', { grant_types: ['authorization_code', 'refresh_token'] }));
    await t.store.oidcClients.create(legacy('service', { grant_types: ['client_credentials'] }));
    await t.store.oidcClients.create(legacy('chosen', { grant_types: ['authorization_code'], keybound_min_acr: 'urn:keybound:aal3', keybound_first_party: true }));
    const { db } = await openStore(t.config);
    try {
      await up(db.kysely as never, db.dialect);
    } finally {
      await db.close();
    }
    // A client made before `keybound_sensitive` existed reads as not sensitive (docs/risk.md).
    const policy = async (id: string) => clientPolicy((await t!.store.oidcClients.find(id))!.metadata);
    expect(await policy('web')).toEqual({ minAcr: 'urn:keybound:aal2:phr', firstParty: false, scopes: ['openid', 'profile', 'email', 'offline_access'], resources: [], sensitive: false });
    expect(await policy('service')).toEqual({ minAcr: 'urn:keybound:aal2:phr', firstParty: false, scopes: [], resources: [], sensitive: false });
    expect(await policy('chosen')).toMatchObject({ minAcr: 'urn:keybound:aal3', firstParty: true, scopes: ['openid', 'profile', 'email'] });
    // The administrator gives the service its API back.
    const updated = await updateClientPolicy(t.deps, 'service', { scopes: ['read'], resources: [API] });
    expect(updated.ok).toBe(true);
    expect(await policy('service')).toMatchObject({ scopes: ['read'], resources: [API] });
    expect((await updateClientPolicy(t.deps, 'service', { resources: ['https://elsewhere.example/'] })).ok).toBe(false);
    expect((await updateClientPolicy(t.deps, 'web', { minAcr: 'urn:keybound:aal9' })).ok).toBe(false);
  });
});
