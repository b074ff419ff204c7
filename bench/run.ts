/**
 * `npm run bench`: Keybound's sign-in throughput, latency and cost, side by side with Better Auth.
 *
 * Each scenario group gets a freshly seeded database and a fresh server process; a separate load
 * generator process drives it. Server CPU comes from the server's own /proc accounting, read just
 * before and just after each measured window; peak RSS from its VmHWM. One JSON line per scenario
 * on stdout; progress on stderr. BENCHMARKS.md explains the method and holds the latest table.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataKeyring, generateDataKey, parseDataKeys } from '../src/crypto/dataKeys.ts';
import { freshDatabase, peerDatabasePath, removeRunFolder, runFolder } from './databases.ts';
import { parseOptions, type BenchOptions } from './options.ts';
import { cpuTimes, measureLocalFloor, peakRssMb, ROOT, serveOneOidcRequest, startBetterAuth, startFloorHttp, startKeybound, startLoadGenerator, type LoadGenerator, type ServerProcess } from './processes.ts';
import type { ClientCredentialsParams, IntrospectionParams, PhaseResult, Workload } from './protocol.ts';
import { markdownTable, runMeta, type ScenarioLine } from './report.ts';
import { requestFigures, round, signInFigures, type Measured } from './figures.ts';
import { seedKeybound } from './seed.ts';
import { optionalScenarios } from './optional.ts';

const t0 = performance.now();
const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

const options: BenchOptions = (() => {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
})();
const meta = runMeta();
const secret = randomBytes(32);
const dataKeys = generateDataKey('bench');
const lines: ScenarioLine[] = [];

function emit(line: ScenarioLine): void {
  const { scenario, target, ...figures } = line;
  const full = { scenario, ...(target ? { target } : {}), ...meta, db: options.db, ...(Object.keys(options.serverEnv).length ? { serverEnv: options.serverEnv } : {}), ...(options.oidcFirst ? { oidcFirst: true } : {}), ...figures };
  lines.push(full as ScenarioLine);
  process.stdout.write(`${JSON.stringify(full)}\n`);
}

/** One measured phase against `server`: warm-up, then the window with the server's CPU read on both sides. */
async function measure(
  loadgen: LoadGenerator,
  server: ServerProcess,
  input: { target: 'keybound' | 'better-auth'; workload: Workload; concurrency: number; fullPassWarmup: boolean; warmupMaxMs?: number; clientCredentials?: ClientCredentialsParams; introspection?: IntrospectionParams },
): Promise<Measured> {
  let before = { user: 0, system: 0 };
  let after = { user: 0, system: 0 };
  const result = await loadgen.phase(
    {
      target: input.target,
      baseUrl: server.baseUrl,
      workload: input.workload,
      concurrency: input.concurrency,
      warmupMs: options.warmupMs,
      warmupMaxMs: input.warmupMaxMs ?? options.warmupMaxMs,
      fullPassWarmup: input.fullPassWarmup,
      durationMs: options.durationMs,
      ...(input.clientCredentials ? { clientCredentials: input.clientCredentials } : {}),
      ...(input.introspection ? { introspection: input.introspection } : {}),
    },
    { before: () => (before = cpuTimes(server.pid)), after: () => (after = cpuTimes(server.pid)) },
  );
  if (result.errors > 0) log(`  ${result.errors} errors, e.g. ${result.errorSamples[0]}`);
  if (result.ops === 0) throw new Error(`no operation succeeded against ${input.target}: ${result.errorSamples.join(' | ')}`);
  const user = after.user - before.user;
  const system = after.system - before.system;
  return { result, cpuSeconds: user + system, systemShare: user + system > 0 ? system / (user + system) : 0, peakRssMb: peakRssMb(server.pid) };
}

/** A Keybound server on a freshly seeded database, for the length of `work`. */
async function withKeybound<T>(
  accounts: number,
  label: string,
  work: (server: ServerProcess, seedSeconds: number) => Promise<T>,
  setup: { env?: Record<string, string>; totp?: boolean } = {},
): Promise<T> {
  const database = await freshDatabase({ db: options.db, postgresUrl: options.postgresUrl, label, pool: 16 });
  log(`seeding ${accounts.toLocaleString('en')} Keybound accounts${setup.totp ? ' with passkeys and TOTP' : ''} (${options.db})`);
  const seeded = await seedKeybound({ databaseUrl: database.url, secret, count: accounts, log: (l) => log(`  ${l}`), ...(setup.totp ? { sealTotpSeed: await totpSealer() } : {}) });
  log(`  seeded in ${seeded.seconds.toFixed(1)} s`);
  const server = await startKeybound({ databaseUrl: database.url, dataKeys, cpuProfDir: options.cpuProfDir, env: { ...setup.env, ...options.serverEnv } });
  try {
    if (options.oidcFirst) await serveOneOidcRequest(server);
    return await work(server, seeded.seconds);
  } finally {
    await server.stop();
    if (options.keep) log(`kept ${database.description}`);
    else await database.drop();
  }
}

/** Seals TOTP seeds as Keybound's enrolment does (loaded only when TOTP is benchmarked: the module exists only with the feature). */
async function totpSealer(): Promise<(seed: Uint8Array, authenticatorId: string) => string> {
  const { totpSealContext } = await import('../src/services/codes/check.ts');
  const keyring = new DataKeyring(parseDataKeys(dataKeys));
  return (seed, id) => keyring.seal(seed, totpSealContext(id));
}

async function withBetterAuth<T>(accounts: number, label: string, work: (server: ServerProcess) => Promise<T>): Promise<T> {
  const databasePath = peerDatabasePath(label);
  log(`seeding ${accounts.toLocaleString('en')} Better Auth users`);
  // Loaded only when the peer runs: Better Auth takes a while to import.
  const { seedBetterAuth } = await import('./peers/better-auth/seed.ts');
  const seeded = await seedBetterAuth({ databasePath, baseURL: 'http://localhost', rpID: 'localhost', secret, count: accounts });
  log(`  seeded in ${seeded.seconds.toFixed(1)} s`);
  const server = await startBetterAuth({ databasePath, cpuProfDir: options.cpuProfDir });
  try {
    return await work(server);
  } finally {
    await server.stop();
  }
}

/** The machine's floor for a sign-in: bare node:http, the sign-in's SQL straight on better-sqlite3, the cryptography. */
let floorUsPerSignIn: number | null = null;

async function floorScenario(loadgen: LoadGenerator): Promise<void> {
  log('machine floor: SQLite statements and cryptography of a sign-in, in one process');
  const dir = join(runFolder(), 'floor');
  mkdirSync(dir, { recursive: true });
  const local = await measureLocalFloor(dir, { quick: options.quick });
  log(`machine floor: bare node:http, concurrency ${options.fixedConcurrency}`);
  const server = await startFloorHttp();
  let http: Measured;
  try {
    http = await measure(loadgen, server, { target: 'keybound', workload: 'raw-http', concurrency: options.fixedConcurrency, fullPassWarmup: false });
  } finally {
    await server.stop();
  }
  const httpRequestUs = (http.cpuSeconds / http.result.ops) * 1e6;
  // Two requests (options, verify), the statements, one signature check, four SHA-256 (challenge,
  // client data, session secret, audit chain).
  floorUsPerSignIn = 2 * httpRequestUs + local.sqliteSignInUs + local.ecdsaVerifyUs + 4 * local.sha256Us;
  emit({
    scenario: 'machine-floor',
    concurrency: options.fixedConcurrency,
    httpRequestUs: round(httpRequestUs),
    sqliteSignInUs: round(local.sqliteSignInUs),
    ecdsaVerifyUs: round(local.ecdsaVerifyUs),
    keyImportUs: round(local.keyImportUs),
    sha256Us: round(local.sha256Us, 2),
    signInFloorUs: round(floorUsPerSignIn),
  });
}

/**
 * Passkey sign-in at each concurrency, then the session check, on one server per target (the
 * session check's peak RSS therefore includes the sign-in phases before it).
 */
async function signInScenarios(loadgen: LoadGenerator): Promise<void> {
  const passkey = options.scenarios.has('passkey');
  const session = options.scenarios.has('session');
  const keybound = new Map<number, ReturnType<typeof signInFigures>>();
  const group = async (target: 'keybound' | 'better-auth', server: ServerProcess) => {
    const name = target === 'keybound' ? 'Keybound' : 'Better Auth';
    if (passkey) {
      for (const [i, concurrency] of options.concurrency.entries()) {
        log(`passkey sign-in, ${name}, concurrency ${concurrency}`);
        // Keybound's first phase warms up until every account has signed in once, so that its
        // per-credential key cache holds every key (the steady state of a long-lived server with
        // fewer accounts than the cache holds; the scale scenario covers the other case). Better
        // Auth keeps no such cache.
        const m = await measure(loadgen, server, { target, workload: 'passkey', concurrency, fullPassWarmup: target === 'keybound' && i === 0 });
        const figures = signInFigures(m);
        const overFloor = floorUsPerSignIn ? { serverCpuOverFloor: round(figures.serverCpuUsPerSignIn / floorUsPerSignIn, 2) } : {};
        emit({ scenario: 'passkey-sign-in', target, concurrency, accounts: options.accounts, ...figures, ...overFloor });
        if (target === 'keybound') keybound.set(concurrency, figures);
        const ours = keybound.get(concurrency);
        if (target === 'better-auth' && ours) {
          emit({
            scenario: 'passkey-sign-in-ratio',
            concurrency,
            accounts: options.accounts,
            signInsPerSecondRatio: round(ours.signInsPerSecond / figures.signInsPerSecond, 2),
            cpuPerSignInRatio: round(figures.serverCpuUsPerSignIn / ours.serverCpuUsPerSignIn, 2),
            keyboundSignInsPerSecond: ours.signInsPerSecond,
            betterAuthSignInsPerSecond: figures.signInsPerSecond,
            keyboundCpuUsPerSignIn: ours.serverCpuUsPerSignIn,
            betterAuthCpuUsPerSignIn: figures.serverCpuUsPerSignIn,
          });
        }
      }
    }
    if (session) {
      const concurrency = options.fixedConcurrency;
      log(`session check, ${name}, concurrency ${concurrency}`);
      const m = await measure(loadgen, server, { target, workload: 'session', concurrency, fullPassWarmup: false });
      emit({ scenario: 'session-check', target, concurrency, accounts: options.accounts, ...requestFigures(m) });
    }
  };
  await withKeybound(options.accounts, 'sign-in', (server) => group('keybound', server));
  if (options.peer) await withBetterAuth(options.accounts, 'peer', (server) => group('better-auth', server));
}

async function scaleScenario(loadgen: LoadGenerator): Promise<void> {
  const concurrency = options.fixedConcurrency;
  const runs: { accounts: number; figures: ReturnType<typeof signInFigures> }[] = [];
  for (const [accounts, sample] of [
    [options.accounts, options.accounts],
    [options.scaleAccounts, options.scaleSample],
  ] as const) {
    if (runs.length > 0) {
      log(`preparing ${sample.toLocaleString('en')} of ${accounts.toLocaleString('en')} authenticators in the load generator`);
      await loadgen.init({ secret: secret.toString('hex'), accounts, sample });
    }
    await withKeybound(accounts, `scale-${accounts}`, async (server, seedSeconds) => {
      log(`scale: passkey sign-in with ${accounts.toLocaleString('en')} accounts, concurrency ${concurrency}`);
      // Warm-up until every sampled account has signed in once: the server then is in the steady
      // state of a long-lived one. With 10,000 accounts every key is in its 50,000-key cache; with
      // the large run's 60,000 sampled accounts the cache is full and misses on every sign-in
      // (the worst case for time and memory), so its peak RSS is that of a full cache.
      const m = await measure(loadgen, server, {
        target: 'keybound',
        workload: 'passkey',
        concurrency,
        fullPassWarmup: true,
        warmupMaxMs: options.quick ? options.warmupMaxMs : 300_000,
      });
      const figures = signInFigures(m);
      runs.push({ accounts, figures });
      emit({ scenario: 'passkey-sign-in-scale', target: 'keybound', concurrency, accounts, seedSeconds: round(seedSeconds), sampledAccounts: sample, ...figures });
    });
  }
  const [small, large] = runs;
  if (small && large) {
    emit({
      scenario: 'passkey-sign-in-scale-ratio',
      target: 'keybound',
      concurrency,
      smallAccounts: small.accounts,
      largeAccounts: large.accounts,
      p99Ratio: round(large.figures.latencyMs.p99 / small.figures.latencyMs.p99, 2),
      p50Ratio: round(large.figures.latencyMs.p50 / small.figures.latencyMs.p50, 2),
      cpuPerSignInRatio: round(large.figures.serverCpuUsPerSignIn / small.figures.serverCpuUsPerSignIn, 2),
      largePeakRssMb: large.figures.serverPeakRssMb,
    });
  }
}

function updateBenchmarksFile(): void {
  const file = join(ROOT, 'BENCHMARKS.md');
  const settings = `${options.db}, ${options.accounts.toLocaleString('en')} accounts, ${options.durationMs / 1000} s per phase after ${options.warmupMs / 1000} s warm-up${Object.keys(options.serverEnv).length ? `, Keybound with ${Object.entries(options.serverEnv).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}${options.oidcFirst ? ', each Keybound server after one OpenID Connect request' : ''}`;
  const table = markdownTable(lines, meta, settings);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = '# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\n';
  }
  const start = text.indexOf('<!-- results:start -->');
  const end = text.indexOf('<!-- results:end -->');
  if (start < 0 || end < start) throw new Error('BENCHMARKS.md has no <!-- results:start --> ... <!-- results:end --> section');
  writeFileSync(file, `${text.slice(0, start)}<!-- results:start -->\n${table}\n${text.slice(end)}`);
  log('BENCHMARKS.md updated');
}

async function main(): Promise<void> {
  const started = performance.now();
  log(`${meta.machine.cpu}, ${meta.machine.cores} cores, Node.js ${meta.node}, commit ${meta.commit.slice(0, 10)}${meta.dirty ? ' (dirty)' : ''}; temp folder ${runFolder()}`);
  const loadgen = startLoadGenerator();
  try {
    const needsAccounts = ['passkey', 'session', 'totp', 'client-credentials', 'token-exchange', 'scale'].some((s) => options.scenarios.has(s as never));
    if (needsAccounts) {
      log(`preparing ${options.accounts.toLocaleString('en')} authenticators in the load generator`);
      await loadgen.init({ secret: secret.toString('hex'), accounts: options.accounts, sample: options.accounts });
    }
    if (options.scenarios.has('floor')) await floorScenario(loadgen);
    if (options.scenarios.has('passkey') || options.scenarios.has('session')) await signInScenarios(loadgen);
    for (const scenario of optionalScenarios) {
      if (!options.scenarios.has(scenario.option)) continue;
      const missing = scenario.missing();
      if (missing) {
        log(`${scenario.name}: skipped (${missing})`);
        emit({ scenario: scenario.name, skipped: missing });
        continue;
      }
      await scenario.run({ options, emit, log, secret, withKeybound, measure: (server, input) => measure(loadgen, server, input) });
    }
    if (options.scenarios.has('scale')) await scaleScenario(loadgen);
  } finally {
    loadgen.stop();
  }
  process.stderr.write(`\n${markdownTable(lines, meta, `${options.db}, ${options.accounts} accounts`)}\n\n`);
  if (options.updateBenchmarks) updateBenchmarksFile();
  if (!options.keep) removeRunFolder();
  log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[bench] failed: ${(error as Error).stack ?? String(error)}\n`);
    if (!options.keep) removeRunFolder();
    process.exit(1);
  },
);
