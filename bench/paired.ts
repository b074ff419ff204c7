/**
 * Server CPU per passkey sign-in of this checkout against another one, measured side by side.
 *
 *   npx tsx bench/paired.ts --against ../keybound-old [--accounts 10000] [--warmup <accounts>] [--window 1000] [--pairs 10]
 *
 * `--against` is another checkout of Keybound with its dependencies installed (`git worktree add
 * --detach ../keybound-old <rev>`, then `npm ci` there, or a symlink to this checkout's
 * node_modules when the lockfiles match). Each checkout seeds its own SQLite database with its own
 * migrations and this bench's seeder (bench/seed.ts, loaded from that checkout), and runs its own
 * `keybound serve`. Both servers stay up; after `--warmup` sequential sign-ins on each (by default
 * one for every account, as `npm run bench` warms up; taken in turns of one window), windows of `--window` sequential sign-ins
 * alternate between them (A B, B A, ...) for `--pairs` pairs, and each window reads how long its
 * server's threads ran (user and system time).
 *
 * Why: on a shared machine the CPU time of one `npm run bench` phase moves by 10–25 % between runs
 * (other tenants, frequency, cache), which hides a few per cent. Windows a few seconds apart see the
 * same machine, so the ratio within a pair is steadier than the ratio of two runs minutes apart. The
 * figures printed are each side's median µs per sign-in and the median of the pairs' ratios (this
 * checkout ÷ the other), with their spread.
 *
 * Sign-ins are those of `npm run bench`'s passkey scenario at concurrency 1: options, then verify
 * with an ES256 assertion, one after another on one keep-alive connection, rotating over the
 * accounts. The loop runs in this process; its CPU is not counted.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateDataKey } from '../src/crypto/dataKeys.ts';
import { benchCredential, signingKey } from './authenticator.ts';
import { log } from './callgrind.ts';
import { removeRunFolder, runFolder } from './databases.ts';
import { keyboundFlow, type Flow } from './flows.ts';
import { HttpClient } from './http.ts';
import { ROOT, startKeybound, type ServerProcess } from './processes.ts';

const args = process.argv.slice(2);
const text = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const num = (name: string, fallback: number): number => {
  const value = Number(text(name) ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a whole number above 0`);
  return value;
};
const against = text('against');
if (!against || !existsSync(join(against, 'bin', 'keybound.js')) || !existsSync(join(against, 'node_modules'))) {
  throw new Error('--against takes another Keybound checkout with its node_modules (see the comment at the top of bench/paired.ts)');
}
const accounts = num('accounts', 10_000);
const warmup = num('warmup', accounts);
const window = num('window', 1000);
const pairs = num('pairs', 10);

const secret = randomBytes(32);
const dataKeys = generateDataKey('bench');
const credentials = Array.from({ length: accounts }, (_, i) => {
  const credential = benchCredential(secret, i);
  return { credential, key: signingKey(credential) };
});

interface Side {
  readonly name: string;
  readonly server: ServerProcess;
  readonly http: HttpClient;
  /** `npm run bench`'s own passkey sign-in (bench/flows.ts). */
  readonly flow: Flow;
  next: number;
  readonly micros: number[];
  /** Nanoseconds each thread (by name) ran in the measured windows. */
  readonly threads: Map<string, number>;
}

async function signIns(side: Side, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await side.flow.signIn(side.http, credentials[side.next++ % accounts]!);
}

async function start(name: string, root: string, folder: string): Promise<Side> {
  const file = join(folder, `${name}.db`);
  // The checkout's own seeder and migrations: each side gets the schema its own server expects.
  const seed = (await import(pathToFileURL(join(root, 'bench', 'seed.ts')).href)) as typeof import('./seed.ts');
  await seed.seedKeybound({ databaseUrl: `sqlite:${file}`, secret, count: accounts });
  const server = await startKeybound({ databaseUrl: `sqlite:${file}`, dataKeys, root });
  let signCount = 0;
  const flow = keyboundFlow({ origin: new URL(server.baseUrl).origin, rpId: new URL(server.baseUrl).hostname, nextSignCount: () => ++signCount });
  return { name, server, http: new HttpClient(server.baseUrl, 1), flow, next: 0, micros: [], threads: new Map() };
}

/**
 * Nanoseconds the server's threads have run (user and system), from each thread's
 * /proc/<pid>/task/<tid>/schedstat: the scheduler's own count, where /proc/<pid>/stat's CPU times
 * tick at 100 Hz (10 ms, a few per cent of a window). A thread that ended in the window is missed;
 * a server's threads (main, libuv's pool, V8's helpers, the checkpoint worker) live as long as it.
 */
function runNanos(pid: number): Map<string, number> {
  const byThread = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const nanos = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      // The main thread as "main"; the others all call themselves "node" (V8's four helpers,
      // libuv's pool, the checkpoint worker), so each is named by its order of creation too:
      // "node+2" is the second thread the process started.
      const name = tid === String(pid) ? 'main' : `${readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()}+${Number(tid) - pid}`;
      byThread.set(name, (byThread.get(name) ?? 0) + nanos);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byThread;
}

async function measureWindow(side: Side): Promise<number> {
  const before = runNanos(side.server.pid);
  await signIns(side, window);
  const after = runNanos(side.server.pid);
  let total = 0;
  for (const [name, nanos] of after) {
    const delta = nanos - (before.get(name) ?? 0);
    total += delta;
    side.threads.set(name, (side.threads.get(name) ?? 0) + delta);
  }
  const micros = total / 1000 / window;
  side.micros.push(micros);
  return micros;
}

const perThread = (side: Side): Record<string, number> =>
  Object.fromEntries([...side.threads].filter(([, nanos]) => nanos > 0).map(([name, nanos]) => [name, Math.round(nanos / 100 / (window * pairs)) / 10]));

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const folder = runFolder();
const sides: Side[] = [];
try {
  const here = await start('this', ROOT, folder);
  sides.push(here);
  const other = await start('other', resolve(against), folder);
  sides.push(other);
  log(`warm-up: ${warmup} sign-ins on each, in turns of ${window}`);
  // In turns, as the windows run: a server that idled through the other's whole warm-up had its
  // young generation shrunk by V8 meanwhile (8 MB instead of 32 MB here), and then collected
  // garbage about three times as often in the windows (BENCHMARKS.md, eleventh look).
  for (let done = 0; done < warmup; done += window) {
    await signIns(here, Math.min(window, warmup - done));
    await signIns(other, Math.min(window, warmup - done));
  }
  const ratios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const [first, second] = p % 2 === 0 ? [here, other] : [other, here];
    await measureWindow(first);
    await measureWindow(second);
    ratios.push(here.micros.at(-1)! / other.micros.at(-1)!);
    log(`pair ${p + 1}: this ${here.micros.at(-1)!.toFixed(0)} µs, other ${other.micros.at(-1)!.toFixed(0)} µs a sign-in (${ratios.at(-1)!.toFixed(3)})`);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  const result = {
    against: resolve(against),
    accounts,
    warmup,
    window,
    pairs,
    thisMedianUs: Math.round(median(here.micros) * 10) / 10,
    otherMedianUs: Math.round(median(other.micros) * 10) / 10,
    medianRatio: Math.round(median(ratios) * 1000) / 1000,
    ratioRange: [Math.round(sorted[0]! * 1000) / 1000, Math.round(sorted.at(-1)! * 1000) / 1000],
    pairsBelowOne: ratios.filter((r) => r < 1).length,
    thisUs: here.micros.map((m) => Math.round(m)),
    otherUs: other.micros.map((m) => Math.round(m)),
    // µs a sign-in by thread, over all measured windows.
    thisThreads: perThread(here),
    otherThreads: perThread(other),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  for (const side of sides) {
    side.http.close();
    await side.server.stop();
  }
  removeRunFolder();
}
