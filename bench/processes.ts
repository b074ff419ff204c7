/**
 * The processes of a benchmark run: Keybound (`node bin/keybound.js serve`), the Better Auth peer
 * and the load generator, and what the kernel says about a process's CPU time and peak memory.
 */
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FromLoadgen, PhaseResult, ToLoadgen } from './protocol.ts';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/keybound.js', import.meta.url));
const PEER = fileURLToPath(new URL('./peers/better-auth/server.ts', import.meta.url));
const LOADGEN = fileURLToPath(new URL('./loadgen.ts', import.meta.url));
const FLOOR_HTTP = fileURLToPath(new URL('./floorHttp.ts', import.meta.url));
const FLOOR_LOCAL = fileURLToPath(new URL('./floorLocal.ts', import.meta.url));
const FLOOR_OIDC = fileURLToPath(new URL('./floorOidc.ts', import.meta.url));

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux for every mainstream architecture). */
const CLK_TCK = 100;

/** User and system CPU seconds the process has used, all threads, from /proc/<pid>/stat. */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

/** Peak resident set size in MB (VmHWM of /proc/<pid>/status). */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return kb ? Number(kb[1]) / 1024 : 0;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, 'localhost', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** The parent's environment without KEYBOUND_* settings, so a developer's shell cannot leak in. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KEYBOUND_') && !key.startsWith('BENCH_')) env[key] = value;
  return env;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ServerProcess {
  readonly pid: number;
  readonly baseUrl: string;
  output(): string;
  stop(): Promise<void>;
  /** Runs `keybound <args>` against the same database and settings (Keybound only); resolves to stdout. */
  cli(args: readonly string[]): Promise<string>;
}

/** How a process is run: under another program first (`wrap`, e.g. valgrind), and how long it may take to be ready. */
interface LaunchOptions {
  readonly wrap?: readonly string[] | undefined;
  readonly readyTimeoutMs?: number | undefined;
}

async function launch(args: string[], env: NodeJS.ProcessEnv, baseUrl: string, readyPath: string, options: LaunchOptions = {}): Promise<ServerProcess> {
  let output = '';
  const [command, ...prefix] = options.wrap && options.wrap.length > 0 ? [...options.wrap, process.execPath] : [process.execPath];
  const child = spawn(command!, [...prefix, ...args], { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-16_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    live.delete(child);
    resolve();
  }));
  const readyMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + readyMs;
  for (;;) {
    if (exited) throw new Error(`${args.join(' ')} exited before it was ready:\n${output}`);
    const ok = await fetch(`${baseUrl}${readyPath}`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} was not ready within ${readyMs / 1000} s:\n${output}`);
    }
    await sleep(100);
  }
  return {
    pid: child.pid!,
    baseUrl,
    output: () => output,
    cli: (cliArgs) =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, [BIN, ...cliArgs], { cwd: ROOT, env: { ...baseEnv(), ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
          error ? reject(new Error(`keybound ${cliArgs.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
        );
      }),
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** `node bin/keybound.js serve` on `databaseUrl`, with the ceremony rate limit lifted and warn-level logs. */
export async function startKeybound(input: {
  databaseUrl: string;
  dataKeys: string;
  cpuProfDir?: string | undefined;
  env?: Record<string, string>;
  /** Port to listen on (default: a free one); for instances that must know each other's origins before they start. */
  port?: number;
  /** Run under this program (`['valgrind', '--tool=callgrind', ...]`): bench/instructions.ts. */
  wrap?: readonly string[];
  /** Options for node itself (V8 flags such as `--single-threaded`). */
  nodeFlags?: readonly string[];
  readyTimeoutMs?: number;
  /** Another checkout of Keybound to run instead of this one (bench/paired.ts). */
  root?: string;
}): Promise<ServerProcess> {
  const port = input.port ?? (await freePort());
  const baseUrl = `http://localhost:${port}`;
  const profile = input.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${input.cpuProfDir}`] : [];
  return launch(
    [...(input.nodeFlags ?? []), ...profile, input.root ? join(input.root, 'bin', 'keybound.js') : BIN, 'serve'],
    {
      NODE_ENV: 'production',
      KEYBOUND_PORT: String(port),
      KEYBOUND_HOST: 'localhost',
      KEYBOUND_ORIGIN: baseUrl,
      KEYBOUND_RP_ID: 'localhost',
      KEYBOUND_DATABASE_URL: input.databaseUrl,
      KEYBOUND_DATA_KEYS: input.dataKeys,
      KEYBOUND_METRICS_PORT: '0',
      KEYBOUND_LOG_LEVEL: 'warn',
      KEYBOUND_RATE_LIMIT_CEREMONY: '0',
      // The start-up analysis of every account's ways in (docs/paths.md) is a one-off task, not a
      // cost of signing in: left on, it would run through the first measured phases.
      KEYBOUND_PATHS_REPORT_ON_START: 'false',
      ...input.env,
    },
    baseUrl,
    '/readyz',
    { wrap: input.wrap, readyTimeoutMs: input.readyTimeoutMs },
  );
}

/** The Better Auth peer (bench/peers/better-auth/server.ts) on an already seeded SQLite file. */
export async function startBetterAuth(input: { databasePath: string; cpuProfDir?: string | undefined }): Promise<ServerProcess> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const profile = input.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${input.cpuProfDir}`] : [];
  return launch(
    [...profile, '--import', 'tsx', PEER],
    { NODE_ENV: 'production', BENCH_PEER_DB: input.databasePath, BENCH_PEER_PORT: String(port), BENCH_PEER_ORIGIN: baseUrl },
    baseUrl,
    '/api/auth/ok',
  );
}

/** The bare node:http server of bench/floorHttp.ts. */
export async function startFloorHttp(): Promise<ServerProcess> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  return launch(['--import', 'tsx', FLOOR_HTTP], { NODE_ENV: 'production', BENCH_FLOOR_PORT: String(port) }, baseUrl, '/');
}

/**
 * Has `server` answer one OpenID Connect request (discovery), as any server with relying parties
 * has served: oidc-provider's first request can change what every later one costs (BENCHMARKS.md,
 * "eighth look"). `--oidc-first` of bench/run.ts and bench/instructions.ts.
 */
export async function serveOneOidcRequest(server: { readonly baseUrl: string }): Promise<void> {
  const discovery = await fetch(`${server.baseUrl}/oidc/.well-known/openid-configuration`);
  await discovery.arrayBuffer();
  if (discovery.status !== 200) throw new Error(`--oidc-first: discovery answered ${discovery.status}`);
}

/**
 * oidc-provider alone with one static client (bench/floorOidc.ts): the token endpoint's floor.
 * `throughFastify`: served the way Keybound serves it, behind Fastify (bench/tokenInstructions.ts).
 */
export async function startFloorOidc(
  client: { clientId: string; publicJwk: Record<string, string>; resource: string },
  options: { throughFastify?: boolean; wrap?: readonly string[]; nodeFlags?: readonly string[]; readyTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  return launch(
    [...(options.nodeFlags ?? []), '--import', 'tsx', FLOOR_OIDC],
    { NODE_ENV: 'production', BENCH_FLOOR_PORT: String(port), BENCH_FLOOR_CLIENT: JSON.stringify(client), BENCH_FLOOR_FASTIFY: options.throughFastify ? '1' : '' },
    baseUrl,
    '/oidc/.well-known/openid-configuration',
    { wrap: options.wrap, readyTimeoutMs: options.readyTimeoutMs },
  );
}

export interface LocalFloor {
  readonly sqliteSignInUs: number;
  readonly ecdsaVerifyUs: number;
  readonly keyImportUs: number;
  readonly sha256Us: number;
}

/** Runs bench/floorLocal.ts in a process of its own (a fresh database in `folder`). */
export function measureLocalFloor(folder: string, options: { quick: boolean }): Promise<LocalFloor> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', FLOOR_LOCAL, folder, ...(options.quick ? ['--quick'] : [])], { cwd: ROOT, env: baseEnv(), maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`bench/floorLocal.ts: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as LocalFloor);
    });
  });
}

export interface LoadGenerator {
  readonly pid: number;
  init(input: { secret: string; accounts: number; sample: number }): Promise<number>;
  /** Warms up, calls `measure` around the measured window (it reads the server's counters), returns the result. */
  phase(input: Omit<Extract<ToLoadgen, { type: 'phase' }>, 'type' | 'id'>, around: { before(): void; after(): void }): Promise<PhaseResult>;
  stop(): void;
}

/** Forks bench/loadgen.ts (through tsx) with an IPC channel. */
export function startLoadGenerator(): LoadGenerator {
  const child = fork(LOADGEN, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], env: baseEnv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(child);
  let counter = 0;
  const waitFor = <T extends FromLoadgen['type']>(accept: (m: FromLoadgen) => m is Extract<FromLoadgen, { type: T }>, timeoutMs: number) =>
    new Promise<Extract<FromLoadgen, { type: T }>>((resolve, reject) => {
      const onMessage = (m: FromLoadgen) => {
        if (m.type === 'failed') {
          cleanup();
          reject(new Error(`load generator: ${m.error}`));
        } else if (accept(m)) {
          cleanup();
          resolve(m);
        }
      };
      const onExit = () => {
        cleanup();
        reject(new Error('load generator exited'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error('load generator timed out'));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const post = (m: ToLoadgen) => child.send(m);
  return {
    pid: child.pid!,
    async init(input) {
      const ready = waitFor<'ready'>((m): m is Extract<FromLoadgen, { type: 'ready' }> => m.type === 'ready', 600_000);
      post({ type: 'init', ...input });
      return (await ready).prepared;
    },
    async phase(input, around) {
      const id = `p${++counter}`;
      const warm = waitFor<'warm'>((m): m is Extract<FromLoadgen, { type: 'warm' }> => m.type === 'warm' && m.id === id, input.warmupMaxMs + 120_000);
      post({ type: 'phase', id, ...input });
      await warm;
      const result = waitFor<'result'>((m): m is Extract<FromLoadgen, { type: 'result' }> => m.type === 'result' && m.id === id, input.durationMs + 120_000);
      around.before();
      post({ type: 'go', id });
      const { result: figures } = await result;
      around.after();
      return figures;
    },
    stop() {
      if (child.connected) post({ type: 'exit' });
      live.delete(child);
    },
  };
}
