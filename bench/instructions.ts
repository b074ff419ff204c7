/**
 * Instructions per passkey sign-in, counted by valgrind's callgrind in `keybound serve` (issue 14:
 * "CPU per passkey sign-in with the default policy and a city database, beside the same run
 * without"). Instruction counts are repeatable where CPU time on a shared machine is not (±25 %
 * between runs here), so the difference the risk engine makes can be seen.
 *
 *   npx tsx bench/instructions.ts [--small 300] [--large 1500] [--warmup 3000] [--accounts 500] [--networks 20000] [--runs 1]
 *                                 [--native 2000] [--native-repeats 5] [--callgrind 0] [--predictable 0]
 *                                 [--engine 10000,30000] [--oidc-first 0] [--only-without 0] [--perf-map]
 *
 * For each configuration (no city database; a city database of `--networks` networks that places
 * every sign-in) the server runs under `valgrind --tool=callgrind --instr-atstart=no` on a freshly
 * seeded SQLite database. `--warmup` sign-ins run uninstrumented (every account signs in, V8 tiers
 * the code up: after only 300 a sign-in still counted 6.1 M instructions, after 3,000 2.6 M), then
 * instrumentation is switched on (`callgrind_control -i on`) and counters zeroed, `--small`
 * sequential sign-ins are counted and dumped, then `--large` more, dumped. Instructions per sign-in
 * are (large batch − small batch) / (large − small): what a batch costs besides its sign-ins (the
 * dump, the switch) cancels out. Every thread of the server is counted (libuv's pool, V8's compiler
 * and GC threads when they run); the kernel's work is not (callgrind counts user-space instructions).
 *
 * V8 runs with `--single-threaded --predictable-gc-schedule` (`--predictable 0`: without): the
 * same work, but compilation and GC on the main thread and the heap's growth fixed, so when they
 * happen does not depend on thread timing (without them two runs of one configuration differed by
 * up to 13 %, with them by 2 to 10 %: a collection landing in one batch still shows).
 *
 * `--native N` (0: off) then runs the same sequential sign-ins against the server outside valgrind,
 * in `--native-repeats` windows of N after the warm-up, and reads the server's user CPU time from
 * /proc (system time apart: callgrind does not count the kernel's instructions either). Divided
 * into the instructions callgrind counted per sign-in without a city database, that is what this
 * machine executes per µs of this workload, to turn the instruction difference into µs. User CPU
 * time on a shared machine varies between windows; the spread is printed with the median.
 * `--callgrind 0` skips the callgrind runs (and the division).
 *
 * `--oidc-first 1` sends one OpenID Connect discovery request before the warm-up. oidc-provider runs
 * every request inside an AsyncLocalStorage; on Node.js 20 the first one turns on async_hooks'
 * promise hooks for the whole process, and from then on every promise (the sign-in's too) pays
 * for them. A server that also serves OpenID Connect runs its sign-ins that way.
 *
 * `--only-without 1` counts only the configuration without a city database. `--perf-map` starts node
 * with `--perf-basic-prof` (so /tmp/perf-<pid>.map names the JIT's code in the dumps) and keeps the
 * run folder with its callgrind dumps, whose path it prints.
 *
 * `--engine A,B` also counts the risk engine alone, in process: bench/risk.ts `--only without|with`
 * under callgrind with A and then B sign-ins; (count B − count A) / (B − A) is what `assessSignIn`
 * computes per sign-in besides its database read (user agent, city lookup, signals, rules), with
 * everything else of the process (start-up, building the city database, warm-up) cancelled out.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { generateDataKey } from '../src/crypto/dataKeys.ts';
import { buildCityDb, cityRecord } from '../test/helpers/mmdb.ts';
import { assertion, benchCredential, signingKey, type BenchCredential } from './authenticator.ts';
import { callgrindWrap, countBatches, countedNodeFlags, log, requireValgrind } from './callgrind.ts';
import { removeRunFolder, runFolder } from './databases.ts';
import { cookieFrom, HttpClient } from './http.ts';
import { cpuTimes, serveOneOidcRequest, startKeybound, type ServerProcess } from './processes.ts';
import { seedKeybound } from './seed.ts';

const run = promisify(execFile);
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const small = arg('small', 300);
const large = arg('large', 1500);
const warmup = arg('warmup', 3000);
const accounts = arg('accounts', 500);
const networks = arg('networks', 20_000);
const runs = arg('runs', 1);
const native = arg('native', 0);
const nativeRepeats = arg('native-repeats', 5);
const callgrind = arg('callgrind', 1) !== 0;
const engine = process.argv.includes('--engine') ? process.argv[process.argv.indexOf('--engine') + 1]!.split(',').map(Number) : [];
const oidcFirst = arg('oidc-first', 0) !== 0;
const onlyWithout = arg('only-without', 0) !== 0;
const perfMap = process.argv.includes('--perf-map');
const nodeFlags = countedNodeFlags({ perfMap, predictable: arg('predictable', 1) !== 0 });

requireValgrind();

// A browser's user agent: the risk engine reads its family on every sign-in, so the requests carry one.
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const folder = runFolder();

// A city database as bench/risk.ts builds it (`networks` /24 networks in a few hundred cities), plus
// loopback, where the bench's sign-ins come from, so every one of them is placed.
const entries: Record<string, ReturnType<typeof cityRecord>> = { '127.0.0.0/8': cityRecord('GB', 'London', 51.5, -0.13) };
for (let i = 0; i < networks; i++) {
  const n = Math.floor((i * 0x64ffff) / networks) + 0x010000;
  entries[`${n >> 16}.${(n >> 8) & 255}.${n & 255}.0/24`] = cityRecord(['GB', 'FR', 'US', 'DE', 'JP'][i % 5]!, `City ${i % 300}`, (i % 170) - 85, (i % 350) - 175);
}
const cityDb = join(folder, 'city.mmdb');
writeFileSync(cityDb, buildCityDb(entries));

const secret = randomBytes(32);
const dataKeys = generateDataKey('bench');
const credentials = Array.from({ length: accounts }, (_, i) => {
  const credential = benchCredential(secret, i);
  return { credential, key: signingKey(credential) };
});
let signCount = 0;

async function signIn(http: HttpClient, baseUrl: string, account: { credential: BenchCredential; key: ReturnType<typeof signingKey> }): Promise<void> {
  const origin = new URL(baseUrl).origin;
  const headers = { origin, 'user-agent': UA };
  const options = await http.send('POST', '/api/v1/passkeys/authentication/options', headers, '{}');
  if (options.status !== 200) throw new Error(`options: ${options.status} ${options.body}`);
  const { challenge } = JSON.parse(options.body) as { challenge: string };
  const response = assertion(account.credential, account.key, { challenge, origin, rpId: new URL(baseUrl).hostname, signCount: ++signCount });
  const verified = await http.send('POST', '/api/v1/passkeys/authentication/verify', headers, JSON.stringify({ response }));
  if (verified.status !== 200 || !cookieFrom(verified, 'keybound_session')) throw new Error(`verify: ${verified.status} ${verified.body}`);
}

async function signIns(server: ServerProcess, http: HttpClient, count: number, offset: number): Promise<void> {
  for (let i = 0; i < count; i++) await signIn(http, server.baseUrl, credentials[(offset + i) % accounts]!);
}

interface Counted {
  readonly label: string;
  readonly smallIr: number;
  readonly largeIr: number;
  readonly perSignIn: number;
  readonly placed: number;
  readonly signIns: number;
}

async function measure(label: string, env: Record<string, string>, runIndex: number): Promise<Counted> {
  const dir = join(folder, `${label.replace(/\W+/g, '-')}-${runIndex}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'keybound.db');
  await seedKeybound({ databaseUrl: `sqlite:${file}`, secret, count: accounts });
  log(`${label}: starting keybound serve under callgrind`);
  const server = await startKeybound({ databaseUrl: `sqlite:${file}`, dataKeys, env, nodeFlags, wrap: callgrindWrap(dir), readyTimeoutMs: 15 * 60_000 });
  try {
    log(`${label}: ${warmup} sign-ins uninstrumented (warm-up), then ${small} and ${large} counted`);
    const { smallIr, largeIr, perRequest: perSignIn } = await countBatches(
      server,
      dir,
      { warmup, small, large },
      (http, count, offset) => signIns(server, http, count, offset),
      oidcFirst ? () => serveOneOidcRequest(server) : undefined,
    );
    const db = new BetterSqlite3(file, { readonly: true });
    const rows = db.prepare(`select details from audit_events where type = 'sign_in' and outcome = 'success'`).all() as { details: string }[];
    db.close();
    const placed = rows.filter((r) => (JSON.parse(r.details) as { risk?: { place?: unknown } }).risk?.place).length;
    log(`${label}: ${smallIr.toLocaleString('en')} Ir for ${small}, ${largeIr.toLocaleString('en')} Ir for ${large}: ${Math.round(perSignIn).toLocaleString('en')} per sign-in; ${placed} of ${rows.length} sign-ins placed`);
    return { label, smallIr, largeIr, perSignIn, placed, signIns: rows.length };
  } finally {
    await server.stop();
  }
}

/** User CPU µs per sign-in of the server outside valgrind, in `nativeRepeats` windows of `native` sign-ins. */
async function nativeUserMicros(): Promise<number[]> {
  const dir = join(folder, 'native');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'keybound.db');
  await seedKeybound({ databaseUrl: `sqlite:${file}`, secret, count: accounts });
  const server = await startKeybound({ databaseUrl: `sqlite:${file}`, dataKeys, nodeFlags });
  const http = new HttpClient(server.baseUrl, 1);
  try {
    await signIns(server, http, warmup + 20, 0);
    const out: number[] = [];
    for (let r = 0; r < nativeRepeats; r++) {
      const before = cpuTimes(server.pid).user;
      await signIns(server, http, native, warmup + 20 + r * native);
      out.push(((cpuTimes(server.pid).user - before) * 1e6) / native);
      log(`native, no city database: ${out.at(-1)!.toFixed(0)} µs user CPU per sign-in (${native} sign-ins)`);
    }
    return out;
  } finally {
    http.close();
    await server.stop();
  }
}

/** Instructions callgrind counts in the whole of `node bench/risk.ts --only <which> --iterations <n>`. */
async function engineRun(which: 'with' | 'without', iterations: number): Promise<number> {
  const out = join(folder, `engine-${which}-${iterations}.callgrind`);
  await run('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, ...nodeFlags, '--import', 'tsx', 'bench/risk.ts', '--only', which, '--iterations', String(iterations), '--networks', String(networks)], { cwd: join(import.meta.dirname, '..'), maxBuffer: 64 * 1024 * 1024 });
  const total = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(out, 'utf8'));
  if (!total) throw new Error(`no totals in ${out}`);
  return Number(total[1]);
}

const results: Counted[] = [];
const engineCounts: { which: string; perSignIn: number }[] = [];
let nativeMicros: number[] = [];
try {
  if (callgrind) {
    for (let r = 0; r < runs; r++) {
      results.push(await measure('no city database', {}, r));
      if (!onlyWithout) results.push(await measure(`city database of ${networks} networks`, { KEYBOUND_GEOIP_DB: cityDb }, r));
    }
  }
  if (native > 0) nativeMicros = await nativeUserMicros();
  if (engine.length === 2) {
    const [a, b] = engine as [number, number];
    for (const which of ['without', 'with'] as const) {
      log(`engine alone, ${which} a city database: ${a} and ${b} sign-ins under callgrind`);
      const perSignIn = ((await engineRun(which, b)) - (await engineRun(which, a))) / (b - a);
      engineCounts.push({ which, perSignIn });
      log(`engine alone, ${which} a city database: ${Math.round(perSignIn).toLocaleString('en')} instructions per sign-in`);
    }
  }
} finally {
  if (perfMap) log(`callgrind dumps kept in ${folder}; JIT maps in /tmp/perf-<pid>.map`);
  else removeRunFolder();
}
for (const r of results) process.stdout.write(`${JSON.stringify({ ...r, small, large, warmup, accounts, nodeFlags, oidcFirst })}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const e of engineCounts) process.stdout.write(`${JSON.stringify({ label: `engine alone, ${e.which} a city database`, perSignIn: Math.round(e.perSignIn), iterations: engine })}\n`);
if (nativeMicros.length > 0) {
  process.stdout.write(`${JSON.stringify({ label: 'native user CPU µs per sign-in, no city database', windows: nativeMicros.map((x) => Math.round(x)), median: Math.round(median(nativeMicros)) })}\n`);
}
for (let r = 0; r < runs && callgrind && !onlyWithout; r++) {
  const [without, withDb] = [results[2 * r]!, results[2 * r + 1]!];
  const added = withDb.perSignIn - without.perSignIn;
  // Both batches together: what either configuration spends once after instrumentation starts is
  // not subtracted away inside one run, but the fixed costs (dumps, the switch) are the same in both.
  const addedBoth = (withDb.smallIr + withDb.largeIr - without.smallIr - without.largeIr) / (small + large);
  process.stderr.write(
    `run ${r + 1}: ${Math.round(without.perSignIn).toLocaleString('en')} instructions per passkey sign-in without a city database, ` +
      `${Math.round(withDb.perSignIn).toLocaleString('en')} with: the database adds ${Math.round(added).toLocaleString('en')} (${((100 * added) / without.perSignIn).toFixed(2)} % of a sign-in); ` +
      `over both batches, ${Math.round(addedBoth).toLocaleString('en')} per sign-in\n`,
  );
  if (nativeMicros.length > 0) {
    const perMicro = without.perSignIn / median(nativeMicros);
    const spread = nativeMicros.map((us) => without.perSignIn / us);
    process.stderr.write(
      `  at ${perMicro.toFixed(0)} instructions per µs of user CPU (windows: ${Math.min(...spread).toFixed(0)} to ${Math.max(...spread).toFixed(0)}), ` +
        `the database adds ${(added / perMicro).toFixed(1)} µs per sign-in (${(added / Math.max(...spread)).toFixed(1)} to ${(added / Math.min(...spread)).toFixed(1)})\n`,
    );
  }
}
