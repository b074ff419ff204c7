/**
 * Scenarios for features that may not exist in every tree (TOTP sign-in, OAuth client
 * credentials, token exchange, API-key checks, offboarding). Each says what it needs; when the feature is missing the line says
 * `"skipped": "not implemented"` instead of giving a number.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFolder } from './databases.ts';
import { requestFigures, round, type Measured } from './figures.ts';
import { benchCredential, benchUsername, signingKey } from './authenticator.ts';
import { keyboundFlow } from './flows.ts';
import { HttpClient } from './http.ts';
import { clientKeyPair } from './oauth.ts';
import { authorizationCode, tokenRequest } from './oidcClient.ts';
import { runOffboard } from './offboard.ts';
import type { BenchOptions, ScenarioName } from './options.ts';
import { ROOT, startFloorOidc, type ServerProcess } from './processes.ts';
import type { ClientCredentialsParams, IntrospectionParams, Workload } from './protocol.ts';
import { measureCachedApiKeyChecks } from './resourceCache.ts';
import type { ScenarioLine } from './report.ts';

export interface ScenarioContext {
  readonly options: BenchOptions;
  readonly emit: (line: ScenarioLine) => void;
  readonly log: (line: string) => void;
  /** The secret the seeded accounts' passkeys are derived from (bench/authenticator.ts). */
  readonly secret: Uint8Array;
  readonly withKeybound: <T>(
    accounts: number,
    label: string,
    work: (server: ServerProcess, seedSeconds: number) => Promise<T>,
    setup?: { env?: Record<string, string>; totp?: boolean },
  ) => Promise<T>;
  readonly measure: (
    server: ServerProcess,
    input: { target: 'keybound'; workload: Workload; concurrency: number; fullPassWarmup: boolean; clientCredentials?: ClientCredentialsParams; introspection?: IntrospectionParams },
  ) => Promise<Measured>;
}

export interface OptionalScenario {
  readonly name: string;
  readonly option: ScenarioName;
  /** Why the scenario cannot run in this tree, or null when it can. */
  missing(): string | null;
  run(context: ScenarioContext): Promise<void>;
}

/** Whether any source file under src/ contains `text`. */
function sourceMentions(text: string): boolean {
  const walk = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && readFileSync(path, 'utf8').includes(text);
    });
  return existsSync(join(ROOT, 'src')) && walk(join(ROOT, 'src'));
}

const RESOURCE = 'https://api.bench.invalid/';

/** A key pair for a client registered as an operator would: its public key in a JWK Set file for `--jwks`. */
function clientKeys(server: ServerProcess, label: string): { privateJwk: Record<string, string>; jwksPath: string } {
  const { privateJwk, publicJwk } = clientKeyPair();
  const jwksPath = join(runFolder(), `${label}-${server.pid}.jwks.json`);
  writeFileSync(jwksPath, JSON.stringify({ keys: [publicJwk] }));
  return { privateJwk, jwksPath };
}

/** Seeded account 0 signs in with its passkey, as a person would; resolves to the session cookie. */
function signInAccountZero(server: ServerProcess, http: HttpClient, secret: Uint8Array): Promise<string> {
  let signCount = 0;
  const flow = keyboundFlow({ origin: server.baseUrl, rpId: 'localhost', nextSignCount: () => ++signCount });
  const credential = benchCredential(secret, 0);
  return flow.signIn(http, { credential, key: signingKey(credential) });
}

/** The line of a token scenario (client credentials, token exchange). */
function tokenLine(scenario: string, concurrency: number, dpop: boolean, m: Measured): ScenarioLine {
  const figures = requestFigures(m);
  return {
    scenario,
    target: 'keybound',
    concurrency,
    clientAuth: 'private_key_jwt',
    dpop,
    accessToken: 'jwt',
    tokens: figures.requests,
    errors: figures.errors,
    durationS: figures.durationS,
    tokensPerSecond: figures.requestsPerSecond,
    latencyMs: figures.latencyMs,
    serverCpuUsPerToken: figures.serverCpuUsPerRequest,
    tokensPerServerCoreSecond: round(1e6 / figures.serverCpuUsPerRequest),
    serverCpuCores: figures.serverCpuCores,
    serverSystemCpuShare: figures.serverSystemCpuShare,
    serverPeakRssMb: figures.serverPeakRssMb,
    clientCpuCores: figures.clientCpuCores,
  };
}

const clientCredentials: OptionalScenario = {
  name: 'client-credentials',
  option: 'client-credentials',
  missing: () => (sourceMentions("command('clients')") && sourceMentions('client_credentials') ? null : 'not implemented'),
  async run({ options, emit, log, withKeybound, measure }) {
    const concurrency = options.fixedConcurrency;
    await withKeybound(
      1,
      'client-credentials',
      async (server) => {
        const { privateJwk, jwksPath } = clientKeys(server, 'client');
        const created = JSON.parse(await server.cli(['clients', 'create', '--name', 'Bench service', '--jwks', jwksPath, '--grant-types', 'client_credentials', '--scope', 'read', '--resource', RESOURCE, '--json'])) as { client_id: string };
        for (const dpop of [false, true]) {
          log(`client credentials (private_key_jwt${dpop ? ', DPoP' : ''}), Keybound, concurrency ${concurrency}`);
          const m = await measure(server, { target: 'keybound', workload: 'client-credentials', concurrency, fullPassWarmup: false, clientCredentials: { clientId: created.client_id, privateJwk, resource: RESOURCE, dpop } });
          emit(tokenLine('client-credentials', concurrency, dpop, m));
        }
      },
      { env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } },
    );
    // The same requests against oidc-provider alone (bench/floorOidc.ts): what the provider costs
    // per token without Keybound's storage, audit trail, hooks and HTTP framework.
    const { privateJwk, publicJwk } = clientKeyPair();
    const floor = await startFloorOidc({ clientId: 'bench-floor', publicJwk, resource: RESOURCE });
    try {
      for (const dpop of [false, true]) {
        log(`client credentials (private_key_jwt${dpop ? ', DPoP' : ''}), oidc-provider alone, concurrency ${concurrency}`);
        const m = await measure(floor, { target: 'keybound', workload: 'client-credentials', concurrency, fullPassWarmup: false, clientCredentials: { clientId: 'bench-floor', privateJwk, resource: RESOURCE, dpop } });
        emit({ ...tokenLine('client-credentials', concurrency, dpop, m), target: 'oidc-provider-alone' });
      }
    } finally {
      await floor.stop();
    }
  },
};

const totp: OptionalScenario = {
  name: 'totp-sign-in',
  option: 'totp',
  missing: () => (sourceMentions('/api/v1/codes/sign-in') && existsSync(join(ROOT, 'src/services/codes/check.ts')) ? null : 'not implemented'),
  async run({ options, emit, log, withKeybound, measure }) {
    const concurrency = options.fixedConcurrency;
    await withKeybound(
      options.accounts,
      'totp',
      async (server) => {
        log(`TOTP sign-in, Keybound, concurrency ${concurrency}`);
        const m = await measure(server, { target: 'keybound', workload: 'totp', concurrency, fullPassWarmup: false });
        const f = requestFigures(m);
        emit({
          scenario: 'totp-sign-in',
          target: 'keybound',
          concurrency,
          accounts: options.accounts,
          signIns: f.requests,
          errors: f.errors,
          durationS: f.durationS,
          signInsPerSecond: f.requestsPerSecond,
          latencyMs: f.latencyMs,
          serverCpuUsPerSignIn: f.serverCpuUsPerRequest,
          serverCpuCores: f.serverCpuCores,
          serverSystemCpuShare: f.serverSystemCpuShare,
          serverPeakRssMb: f.serverPeakRssMb,
          clientCpuCores: f.clientCpuCores,
        });
      },
      // Behind a proxy that reports each person's own address (see bench/flows.ts totpSignIn). Code
      // factors are off by default (phishing-resistant by default): this scenario allows members TOTP.
      { env: { KEYBOUND_TRUST_PROXY: 'true', KEYBOUND_MEMBER_CODE_FACTORS: 'totp', KEYBOUND_MEMBER_MIN_AAL: '1' }, totp: true },
    );
  },
};

/** Two instances on one PostgreSQL: how soon each refuses an offboarded account's session and tokens (bench/offboard.ts). */
const offboard: OptionalScenario = {
  name: 'offboard',
  option: 'offboard',
  missing: () => (sourceMentions('export function offboardAccount') && sourceMentions('/api/v1/admin/accounts/:username/') ? null : 'not implemented'),
  run: runOffboard,
};

/**
 * RFC 8693 token exchange (docs/oidc.md "Token exchange"): an agent workload (`workloads create
 * --kind agent`, so DPoP always) exchanges one person's access token, under that person's
 * delegation, for a token naming it in `act`. Setup as a person and an operator would: seeded
 * account 0 signs in with its passkey, gets a JWT access token for the API from a first-party app
 * (authorization code + PKCE) and grants the agent a delegation (`POST /api/v1/delegations`). Each
 * exchange checks the subject token's signature, the person's sign-in session and grant, and the
 * delegation in the database, so it costs more than client credentials. The person's token lives
 * an hour in this run (KEYBOUND_OIDC_ACCESS_TOKEN_TTL) so that it outlasts the phases.
 */
const tokenExchange: OptionalScenario = {
  name: 'token-exchange',
  option: 'token-exchange',
  missing: () => (sourceMentions('urn:ietf:params:oauth:grant-type:token-exchange') && sourceMentions("path: '/api/v1/delegations'") ? null : 'not implemented'),
  async run({ options, emit, log, secret, withKeybound, measure }) {
    const concurrency = options.fixedConcurrency;
    await withKeybound(
      1,
      'token-exchange',
      async (server) => {
        const redirectUri = 'https://app.bench.invalid/callback';
        const app = JSON.parse(await server.cli(['clients', 'create', '--name', 'Bench app', '--public', '--redirect-uri', redirectUri, '--first-party', '--scope', 'openid', 'read', '--resource', RESOURCE, '--json'])) as { client_id: string };
        const { privateJwk, jwksPath } = clientKeys(server, 'agent');
        const agent = JSON.parse(await server.cli(['workloads', 'create', '--name', 'Bench agent', '--owner', benchUsername(0), '--kind', 'agent', '--jwks', jwksPath, '--audience', RESOURCE, '--scope', 'read', '--json'])) as { client_id: string };
        const http = new HttpClient(server.baseUrl, 4);
        try {
          const cookie = await signInAccountZero(server, http, secret);
          const delegated = await http.send('POST', '/api/v1/delegations', { origin: server.baseUrl, cookie }, JSON.stringify({ clientId: agent.client_id, scopes: ['read'], expiresIn: 86_400 }));
          if (delegated.status !== 201) throw new Error(`delegation answered ${delegated.status}: ${delegated.body}`);
          const { code, verifier } = await authorizationCode(http, { baseUrl: server.baseUrl, clientId: app.client_id, redirectUri, sessionCookie: cookie, scope: 'openid read', resource: RESOURCE });
          const issued = await tokenRequest(http, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: app.client_id, resource: RESOURCE });
          const subjectToken = issued.json.access_token;
          if (issued.status !== 200 || !subjectToken) throw new Error(`the person's token request answered ${issued.status} ${issued.json.error ?? ''}`);
          log(`token exchange (agent, private_key_jwt, DPoP), Keybound, concurrency ${concurrency}`);
          const m = await measure(server, { target: 'keybound', workload: 'client-credentials', concurrency, fullPassWarmup: false, clientCredentials: { clientId: agent.client_id, privateJwk, resource: RESOURCE, dpop: true, subjectToken } });
          emit(tokenLine('token-exchange', concurrency, true, m));
        } finally {
          http.close();
        }
      },
      { env: { KEYBOUND_OIDC_RESOURCES: RESOURCE, KEYBOUND_OIDC_ACCESS_TOKEN_TTL: '3600' } },
    );
  },
};

/**
 * API-key checks (docs/nhi.md "API keys"): a resource server (`clients create --resource-server`,
 * `private_key_jwt`) asks Keybound about an API key by RFC 7662 introspection, as `keybound/resource`
 * does whenever its own short-lived cache has no answer. Keybound keeps no cache of its own: every
 * introspection authenticates the resource server (assertion signature, single-use `jti`), looks the
 * value up among the provider's tokens, then finds the key by its hash and records its last use.
 * So the `keybound` line is the cache-miss cost, each check reaching Keybound; one key per virtual
 * user (made by seeded account 0 on /account's API, as a person would). The `keybound/resource`
 * line is the cache hit: the same key checked again in the resource server's process, Keybound not
 * asked (bench/resourceCache.ts).
 */
const apiKey: OptionalScenario = {
  name: 'api-key',
  option: 'api-key',
  missing: () => (sourceMentions("token_type: 'api_key'") && sourceMentions("path: '/api/v1/account/api-keys'") ? null : 'not implemented'),
  async run({ options, emit, log, secret, withKeybound, measure }) {
    const concurrency = options.fixedConcurrency;
    await withKeybound(
      1,
      'api-key',
      async (server) => {
        const { privateJwk, jwksPath } = clientKeys(server, 'resource-server');
        const api = JSON.parse(await server.cli(['clients', 'create', '--name', 'Bench API', '--jwks', jwksPath, '--grant-types', 'client_credentials', '--resource-server', RESOURCE, '--json'])) as { client_id: string };
        const http = new HttpClient(server.baseUrl, 4);
        const keys: string[] = [];
        try {
          const cookie = await signInAccountZero(server, http, secret);
          for (let i = 0; i < concurrency; i++) {
            const made = await http.send('POST', '/api/v1/account/api-keys', { origin: server.baseUrl, cookie }, JSON.stringify({ name: `Bench integration ${i}`, scopes: ['read'], expiresIn: 86_400 }));
            if (made.status !== 201) throw new Error(`API key creation answered ${made.status}: ${made.body}`);
            keys.push((JSON.parse(made.body) as { key: string }).key);
          }
        } finally {
          http.close();
        }
        const introspection = { clientId: api.client_id, privateJwk, keys };
        log(`API-key check by introspection (resource server, private_key_jwt), Keybound, concurrency ${concurrency}`);
        const f = requestFigures(await measure(server, { target: 'keybound', workload: 'api-key', concurrency, fullPassWarmup: false, introspection }));
        emit({
          scenario: 'api-key',
          target: 'keybound',
          concurrency,
          check: 'introspection',
          cache: 'miss',
          keys: keys.length,
          checks: f.requests,
          errors: f.errors,
          durationS: f.durationS,
          checksPerSecond: f.requestsPerSecond,
          latencyMs: f.latencyMs,
          serverCpuUsPerCheck: f.serverCpuUsPerRequest,
          checksPerServerCoreSecond: round(1e6 / f.serverCpuUsPerRequest),
          serverCpuCores: f.serverCpuCores,
          serverSystemCpuShare: f.serverSystemCpuShare,
          serverPeakRssMb: f.serverPeakRssMb,
          clientCpuCores: f.clientCpuCores,
        });
        log('API-key check in keybound/resource, cache hit (in process, one key)');
        emit({ scenario: 'api-key-cached', target: 'keybound/resource', cache: 'hit', ...(await measureCachedApiKeyChecks(server, introspection, options)) });
      },
      { env: { KEYBOUND_OIDC_RESOURCES: RESOURCE, KEYBOUND_API_KEY_SELF_SCOPES: 'read' } },
    );
  },
};

export const optionalScenarios: readonly OptionalScenario[] = [totp, clientCredentials, tokenExchange, apiKey, offboard];
