/**
 * Keybound as a real child process (`node bin/keybound.js serve`), for browser and multi-process tests:
 * a free port, a fresh database, `/readyz` before returning, SIGTERM to stop, and the CLI against the
 * same database.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TEST_DATA_KEYS } from './constants.ts';
import { freshDatabase, type Backend, type TestDatabase } from './db.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/keybound.js', import.meta.url));
/** Keep the last this-many characters of the server's output for failure messages. */
const OUTPUT_LIMIT = 64_000;

export interface ServerOptions {
  /** Fresh database to create (and drop on stop): `sqlite` (default) or a new `postgres` schema. */
  readonly backend?: Backend;
  /** Use this database instead (e.g. a PostgreSQL URL, or the `databaseUrl` of an earlier server); never dropped. */
  readonly databaseUrl?: string;
  /**
   * Extra KEYBOUND_* settings; they win over the defaults (ceremony rate limit lifted, log level `warn`,
   * the tests' shared KEYBOUND_DATA_KEYS; set that to `''` for SQLite's key file beside the database).
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Fixed port; by default a free one is picked. */
  readonly port?: number;
  /** How long to wait for `/readyz` (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** Options for node itself, before the script (V8 flags such as `--log-maps`). */
  readonly nodeFlags?: readonly string[];
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ServerProcess {
  /** `http://localhost:<port>`, also the configured KEYBOUND_ORIGIN. */
  readonly baseUrl: string;
  readonly port: number;
  readonly databaseUrl: string;
  /** The KEYBOUND_* environment the server runs with (and the CLI gets). */
  readonly env: Readonly<Record<string, string>>;
  readonly child: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far (the tail, if long). */
  output(): string;
  /** Runs `keybound <args>` against the same database and settings. */
  cli(args: readonly string[], options?: { env?: Readonly<Record<string, string>>; timeoutMs?: number }): Promise<CliResult>;
  /** Runs `keybound <args>`, expects exit code 0 and parses stdout as JSON (pass `--json` yourself). */
  cliJson<T = unknown>(args: readonly string[]): Promise<T>;
  /** Sends SIGTERM and waits for the exit (SIGKILL after `timeoutMs`); drops a database it created unless `keepDatabase`. */
  stop(options?: { timeoutMs?: number; keepDatabase?: boolean }): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A TCP port nothing listens on right now (the OS picks it; a tiny race with other processes remains). */
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

/** The parent's environment without any KEYBOUND_* settings, so a developer's shell cannot leak in. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KEYBOUND_')) env[key] = value;
  return env;
}


/** Runs `keybound <args>` with exactly these KEYBOUND_* settings (no server needed). */
export function runCli(args: readonly string[], options: { env: Readonly<Record<string, string>>; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...baseEnv(), ...options.env }, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `keybound serve` on a fresh database and resolves once `/readyz` answers 200. */
export async function startServer(options: ServerOptions = {}): Promise<ServerProcess> {
  const database: TestDatabase | null = options.databaseUrl ? null : await freshDatabase(options.backend ?? 'sqlite');
  const databaseUrl = options.databaseUrl ?? database!.url;
  const port = options.port ?? (await freePort());
  const baseUrl = `http://localhost:${port}`;
  const env: Record<string, string> = {
    KEYBOUND_PORT: String(port),
    KEYBOUND_ORIGIN: baseUrl,
    KEYBOUND_RP_ID: 'localhost',
    KEYBOUND_DATABASE_URL: databaseUrl,
    KEYBOUND_LOG_LEVEL: 'warn',
    KEYBOUND_RATE_LIMIT_CEREMONY: '0',
    KEYBOUND_RATE_LIMIT_OIDC_AUTH: '0',
    KEYBOUND_DATA_KEYS: TEST_DATA_KEYS,
    // Servers run side by side here: no metrics listener on the one fixed port unless a test asks.
    KEYBOUND_METRICS_PORT: '0',
    ...options.env,
  };

  let output = '';
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), BIN, 'serve'], { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  // If the test process goes away without stopping us, do not leave a server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const dropDatabase = async () => {
    if (database) await database.drop().catch(() => undefined);
  };

  const stop: ServerProcess['stop'] = async ({ timeoutMs = 15_000, keepDatabase = false } = {}) => {
    process.off('exit', killOnExit);
    if (!hasExited) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const result = await exited;
    clearTimeout(timer);
    if (!keepDatabase) await dropDatabase();
    return result;
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (hasExited) {
      await stop();
      throw new Error(`keybound serve exited before it was ready:\n${output}`);
    }
    const ready = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`keybound serve was not ready within ${options.readyTimeoutMs ?? 30_000} ms:\n${output}`);
    }
    await sleep(100);
  }

  const cli: ServerProcess['cli'] = (args, cliOptions = {}) => runCli(args, { env: { ...env, ...cliOptions.env }, ...(cliOptions.timeoutMs ? { timeoutMs: cliOptions.timeoutMs } : {}) });

  return {
    baseUrl,
    port,
    databaseUrl,
    env,
    child,
    output: () => output,
    cli,
    cliJson: async <T>(args: readonly string[]) => {
      const result = await cli(args);
      if (result.code !== 0) throw new Error(`keybound ${args.join(' ')} exited with ${result.code}:\n${result.stderr}${result.stdout}`);
      return JSON.parse(result.stdout) as T;
    },
    stop,
  };
}
