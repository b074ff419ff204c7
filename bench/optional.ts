/**
 * Scenarios for features that may not exist in every tree (TOTP sign-in, OAuth client
 * credentials, offboarding). Each says what it needs; when the feature is missing the line says
 * `"skipped": "not implemented"` instead of giving a number.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFolder } from './databases.ts';
import { requestFigures, round, type Measured } from './figures.ts';
import { clientKeyPair } from './oauth.ts';
import { runOffboard } from './offboard.ts';
import type { BenchOptions, ScenarioName } from './options.ts';
import { ROOT, type ServerProcess } from './processes.ts';
import type { ClientCredentialsParams, Workload } from './protocol.ts';
import type { ScenarioLine } from './report.ts';

export interface ScenarioContext {
  readonly options: BenchOptions;
  readonly emit: (line: ScenarioLine) => void;
  readonly log: (line: string) => void;
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

export const optionalScenarios: readonly OptionalScenario[] = [totp, clientCredentials, offboard];
