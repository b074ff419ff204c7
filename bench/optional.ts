/**
 * Scenarios for features that may not exist in every tree (TOTP sign-in, OAuth client
 * credentials, offboarding). Each says what it needs; when the feature is missing the line says
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
import { ROOT, type ServerProcess } from './processes.ts';
import type { ClientCredentialsParams, Workload } from './protocol.ts';
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
    input: { target: 'keybound'; workload: Workload; concurrency: number; fullPassWarmup: boolean; clientCredentials?: ClientCredentialsParams },
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
        // A service registered the way an operator would: its public key in a JWK Set file.
        const { privateJwk, publicJwk } = clientKeyPair();
        const jwks = join(runFolder(), `client-${server.pid}.jwks.json`);
        writeFileSync(jwks, JSON.stringify({ keys: [publicJwk] }));
        const created = JSON.parse(await server.cli(['clients', 'create', '--name', 'Bench service', '--jwks', jwks, '--grant-types', 'client_credentials', '--scope', 'read', '--resource', RESOURCE, '--json'])) as { client_id: string };
        for (const dpop of [false, true]) {
          log(`client credentials (private_key_jwt${dpop ? ', DPoP' : ''}), Keybound, concurrency ${concurrency}`);
          const m = await measure(server, {
            target: 'keybound',
            workload: 'client-credentials',
            concurrency,
            fullPassWarmup: false,
            clientCredentials: { clientId: created.client_id, privateJwk, resource: RESOURCE, dpop },
          });
          const figures = requestFigures(m);
          emit({
            scenario: 'client-credentials',
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
          });
        }
      },
      { env: { KEYBOUND_OIDC_RESOURCES: RESOURCE } },
    );
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
        const { privateJwk, publicJwk } = clientKeyPair();
        const jwks = join(runFolder(), `agent-${server.pid}.jwks.json`);
        writeFileSync(jwks, JSON.stringify({ keys: [publicJwk] }));
        const agent = JSON.parse(await server.cli(['workloads', 'create', '--name', 'Bench agent', '--owner', benchUsername(0), '--kind', 'agent', '--jwks', jwks, '--audience', RESOURCE, '--scope', 'read', '--json'])) as { client_id: string };
        const http = new HttpClient(server.baseUrl, 4);
        try {
          let signCount = 0;
          const flow = keyboundFlow({ origin: server.baseUrl, rpId: 'localhost', nextSignCount: () => ++signCount });
          const credential = benchCredential(secret, 0);
          const cookie = await flow.signIn(http, { credential, key: signingKey(credential) });
          const delegated = await http.send('POST', '/api/v1/delegations', { origin: server.baseUrl, cookie }, JSON.stringify({ clientId: agent.client_id, scopes: ['read'], expiresIn: 86_400 }));
          if (delegated.status !== 201) throw new Error(`delegation answered ${delegated.status}: ${delegated.body}`);
          const { code, verifier } = await authorizationCode(http, { baseUrl: server.baseUrl, clientId: app.client_id, redirectUri, sessionCookie: cookie, scope: 'openid read', resource: RESOURCE });
          const issued = await tokenRequest(http, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: app.client_id, resource: RESOURCE });
          const subjectToken = issued.json.access_token;
          if (issued.status !== 200 || !subjectToken) throw new Error(`the person's token request answered ${issued.status} ${issued.json.error ?? ''}`);
          log(`token exchange (agent, private_key_jwt, DPoP), Keybound, concurrency ${concurrency}`);
          const m = await measure(server, { target: 'keybound', workload: 'client-credentials', concurrency, fullPassWarmup: false, clientCredentials: { clientId: agent.client_id, privateJwk, resource: RESOURCE, dpop: true, subjectToken } });
          const figures = requestFigures(m);
          emit({
            scenario: 'token-exchange',
            target: 'keybound',
            concurrency,
            clientAuth: 'private_key_jwt',
            dpop: true,
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
          });
        } finally {
          http.close();
        }
      },
      { env: { KEYBOUND_OIDC_RESOURCES: RESOURCE, KEYBOUND_OIDC_ACCESS_TOKEN_TTL: '3600' } },
    );
  },
};

export const optionalScenarios: readonly OptionalScenario[] = [totp, clientCredentials, tokenExchange, offboard];
