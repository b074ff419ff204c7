/**
 * Client credentials in process (Fastify inject): SQL statements and CPU per token, without and with
 * DPoP, at concurrency 16. Assertions and proofs are signed before each phase, so the CPU measured is
 * the server's (plus inject's). `--without audit|replay` replaces the audit append or the replay
 * markers by no-ops, for measuring their share only (never a configuration).
 *
 *   npx tsx bench/clientCredentialsInProcess.ts [--db sqlite|postgres] [--tokens 1000] [--rounds 3] [--without audit,replay]
 */
import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { createClient } from '../src/oidc/clients.ts';
import { startTestApp } from '../test/helpers/app.ts';

const { values } = parseArgs({ options: { db: { type: 'string', default: 'sqlite' }, tokens: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' }, without: { type: 'string', default: '' } } });
const RESOURCE = 'https://api.bench.invalid/';
const tokens = Number(values.tokens);

// Every statement the database runs, `begin` and `commit` included.
let statements = 0;
const statement = Object.getPrototypeOf(new BetterSqlite3(':memory:').prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
for (const method of ['run', 'all', 'get']) {
  const original = statement[method]!;
  statement[method] = function (this: unknown, ...a: unknown[]) {
    statements++;
    return original.apply(this, a);
  };
}
const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
(pg.Client.prototype as { query: unknown }).query = function (this: unknown, ...a: unknown[]) {
  statements++;
  return query.apply(this, a);
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function jws(header: object, payload: object, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const t = await startTestApp({ backend: values.db as 'sqlite' | 'postgres', env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } });
const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = { ...(clientKey.publicKey.export({ format: 'jwk' }) as Record<string, string>), alg: 'ES256', use: 'sig' };
const created = await createClient(
  t.deps,
  { name: 'Bench service', redirectUris: [], postLogoutRedirectUris: [], public: false, jwks: { keys: [publicJwk] }, grantTypes: ['client_credentials'], requireDpop: false, scopes: ['read'], resources: [RESOURCE] },
  async () => null,
);
if (!created.ok) throw new Error(created.code);
const clientId = created.value.client.clientId;
const issuer = t.config.oidc.issuer;
const dpopKey = createPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey);
const { kty, crv, x, y } = dpopKey.export({ format: 'jwk' });

if (values.without.includes('audit')) (t.deps.store.audit as { append: unknown }).append = async () => ({});
if (values.without.includes('replay')) (t.deps.store.oidcPayloads as { insertOnce: unknown }).insertOnce = async () => true;

function request(dpop: boolean) {
  const now = Math.floor(Date.now() / 1000);
  const assertion = jws({ alg: 'ES256' }, { iss: clientId, sub: clientId, aud: issuer, jti: randomUUID(), iat: now, exp: now + 60 }, clientKey.privateKey);
  const payload = new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope: 'read', client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString();
  const proof = dpop ? { dpop: jws({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty, crv, x, y } }, { htm: 'POST', htu: `${issuer}/token`, iat: now, jti: randomUUID() }, dpopKey) } : {};
  return { payload, headers: { 'content-type': 'application/x-www-form-urlencoded', ...proof } };
}

async function phase(dpop: boolean, n: number) {
  const requests = Array.from({ length: n }, () => request(dpop));
  const before = statements;
  const cpu = process.cpuUsage();
  let next = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < requests.length) {
        const { payload, headers } = requests[next++]!;
        if ((await t.app.inject({ method: 'POST', url: '/oidc/token', headers, payload })).statusCode !== 200) errors++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { db: values.db, dpop, tokens: n, errors, without: values.without || null, statementsPerToken: Math.round(((statements - before) / n) * 100) / 100, cpuUsPerToken: Math.round((used.user + used.system) / n) };
}

await phase(false, 200);
await phase(true, 200);
for (let round = 0; round < Number(values.rounds); round++) {
  for (const dpop of [false, true]) console.log(JSON.stringify(await phase(dpop, tokens)));
}
await t.close();
