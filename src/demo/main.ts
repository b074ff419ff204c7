/**
 * `npm run demo`: the demo relying party on http://localhost:3000 (KEYBOUND_DEMO_PORT), signing in
 * through a Keybound server running with the same KEYBOUND_* settings. On first run it registers
 * itself as a public client in Keybound's database (as `keybound clients create` would).
 * docs/oidc.md walks through it.
 */
import { loadConfig } from '../config/load.ts';
import { createClient } from '../oidc/clients.ts';
import { createDeps, openStore } from '../runtime.ts';
import { buildDemo } from './app.ts';

const port = Number(process.env.KEYBOUND_DEMO_PORT ?? '3000');
const origin = `http://localhost:${port}`;
const config = loadConfig();
const issuer = process.env.KEYBOUND_DEMO_ISSUER ?? config.oidc.issuer;
const requirement = {
  acr: process.env.KEYBOUND_DEMO_ACR ?? 'urn:keybound:aal3',
  maxAgeS: Number(process.env.KEYBOUND_DEMO_MAX_AGE ?? '300'),
};

async function demoClientId(): Promise<string> {
  if (process.env.KEYBOUND_DEMO_CLIENT_ID) return process.env.KEYBOUND_DEMO_CLIENT_ID;
  const { db, store } = await openStore(config);
  try {
    const deps = await createDeps({ config, store });
    const name = `Keybound demo (${origin})`;
    const existing = (await store.oidcClients.list()).find((c) => c.name === name);
    if (existing) return existing.clientId;
    const created = await createClient(
      deps,
      { name, redirectUris: [`${origin}/callback`], postLogoutRedirectUris: [`${origin}/`], public: true, jwks: null, grantTypes: ['authorization_code', 'refresh_token'], requireDpop: false },
      async () => null,
    );
    if (!created.ok) throw new Error(created.message ?? created.code);
    return created.value.client.clientId;
  } finally {
    await db.close();
  }
}

const clientId = await demoClientId();
if (!config.oidc.resources.includes(`${origin}/api`)) {
  process.stderr.write(`Note: start Keybound with KEYBOUND_OIDC_RESOURCES=${origin}/api so it issues tokens for the demo API.\n`);
}
const app = await buildDemo({ issuer, clientId, origin, requirement, insecure: issuer.startsWith('http:') });
await app.listen({ port, host: 'localhost' });
process.stdout.write(`Keybound demo on ${origin} (client ${clientId}, issuer ${issuer})\n`);
