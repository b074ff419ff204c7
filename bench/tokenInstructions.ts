/**
 * Instructions per client-credentials token (`private_key_jwt`, JWT access token), counted by
 * valgrind's callgrind, for Keybound and for oidc-provider alone (bench/floorOidc.ts), the latter
 * on bare node:http and behind Fastify the way Keybound mounts it. Issue 15's target is CPU time per
 * token; CPU time here spreads ±20–40 % between runs, instruction counts by a few per cent, so
 * this is where what Keybound adds to the provider, and what Fastify adds, can be seen.
 *
 *   npx tsx bench/tokenInstructions.ts [--targets keybound,provider,provider-fastify] [--dpop]
 *                                      [--warmup 3000] [--small 300] [--large 1500] [--perf-map]
 *
 * The method is bench/instructions.ts's: each target runs under `valgrind --tool=callgrind
 * --instr-atstart=no` with V8 `--single-threaded --predictable-gc-schedule`; `--warmup` tokens run
 * uninstrumented, then `--small` and `--large` sequential tokens are counted and dumped, and
 * instructions per token are (large − small) / (large − small tokens), so what a batch costs besides
 * its tokens cancels out. The kernel's work is not counted.
 *
 * `--perf-map` also starts node with `--perf-basic-prof`, so /tmp/perf-<pid>.map names the JIT's
 * code: callgrind reports JavaScript frames as bare addresses, which that map turns into functions.
 * The callgrind dumps are kept (their folder is printed) to be read with `callgrind_annotate`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { generateDataKey } from '../src/crypto/dataKeys.ts';
import { runFolder } from './databases.ts';
import { HttpClient } from './http.ts';
import { clientKeyPair, tokenClient } from './oauth.ts';
import { startFloorOidc, startKeybound, type ServerProcess } from './processes.ts';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: 'keybound,provider,provider-fastify' },
    dpop: { type: 'boolean', default: false },
    warmup: { type: 'string', default: '3000' },
    small: { type: 'string', default: '300' },
    large: { type: 'string', default: '1500' },
    'perf-map': { type: 'boolean', default: false },
  },
});
const [warmup, small, large] = [Number(values.warmup), Number(values.small), Number(values.large)];
const RESOURCE = 'https://api.bench.invalid/';
const run = promisify(execFile);
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  process.stderr.write('valgrind is not installed (apt-get install valgrind): it counts the instructions this benchmark reports.\n');
  process.exit(2);
}

const folder = runFolder();
const nodeFlags = ['--single-threaded', '--predictable-gc-schedule', ...(values['perf-map'] ? ['--perf-basic-prof'] : [])];

async function start(target: string, dir: string, publicJwk: Record<string, string>): Promise<{ server: ServerProcess; clientId: string }> {
  const wrap = ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(dir, 'callgrind.out')}`];
  if (target === 'keybound') {
    const server = await startKeybound({ databaseUrl: `sqlite:${join(dir, 'keybound.db')}`, dataKeys: generateDataKey('bench'), env: { KEYBOUND_OIDC_RESOURCES: RESOURCE }, wrap, nodeFlags, readyTimeoutMs: 15 * 60_000 });
    const jwksPath = join(dir, 'client.jwks.json');
    writeFileSync(jwksPath, JSON.stringify({ keys: [publicJwk] }));
    const created = JSON.parse(await server.cli(['clients', 'create', '--name', 'Bench service', '--jwks', jwksPath, '--grant-types', 'client_credentials', '--scope', 'read', '--resource', RESOURCE, '--json'])) as { client_id: string };
    return { server, clientId: created.client_id };
  }
  if (target !== 'provider' && target !== 'provider-fastify') throw new Error(`unknown target ${target} (keybound, provider, provider-fastify)`);
  const server = await startFloorOidc({ clientId: 'bench-floor', publicJwk, resource: RESOURCE }, { throughFastify: target === 'provider-fastify', wrap, nodeFlags, readyTimeoutMs: 15 * 60_000 });
  return { server, clientId: 'bench-floor' };
}

/** Total instructions (Ir) of the one dump `control` adds to `dir`. */
async function dump(dir: string, label: string, control: (args: string[]) => Promise<void>): Promise<number> {
  const before = new Set(readdirSync(dir));
  await control([`--dump=${label}`]);
  const fresh = readdirSync(dir).filter((f) => f.startsWith('callgrind.out') && !before.has(f));
  if (fresh.length !== 1) throw new Error(`expected one new callgrind dump in ${dir}, found ${fresh.join(', ') || 'none'}`);
  const total = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(join(dir, fresh[0]!), 'utf8'));
  if (!total) throw new Error(`no totals in ${fresh[0]}`);
  return Number(total[1]);
}

async function measure(target: string): Promise<{ target: string; dpop: boolean; perToken: number; pid: number; dir: string }> {
  const dir = join(folder, `${target}${values.dpop ? '-dpop' : ''}`);
  mkdirSync(dir, { recursive: true });
  const { privateJwk, publicJwk } = clientKeyPair();
  log(`${target}: starting under callgrind`);
  const { server, clientId } = await start(target, dir, publicJwk);
  const client = tokenClient(server.baseUrl, { clientId, privateJwk, resource: RESOURCE, dpop: values.dpop });
  // A new connection after each callgrind_control, as bench/instructions.ts does: the server can
  // close an idle keep-alive socket while a dump is written.
  let http = new HttpClient(server.baseUrl, 1);
  const control = async (args: string[]) => {
    http.close();
    await run('callgrind_control', [...args, String(server.pid)]);
    http = new HttpClient(server.baseUrl, 1);
  };
  const tokens = async (n: number) => {
    for (let i = 0; i < n; i++) await client.token(http);
  };
  try {
    log(`${target}: ${warmup} tokens uninstrumented (warm-up)`);
    await tokens(warmup);
    await control(['-i', 'on']);
    await tokens(20); // the first instrumented requests re-translate the JIT's code
    await control(['-z']);
    await tokens(small);
    const smallIr = await dump(dir, 'small', control);
    await tokens(large);
    const largeIr = await dump(dir, 'large', control);
    const perToken = (largeIr - smallIr) / (large - small);
    log(`${target}: ${Math.round(perToken).toLocaleString('en')} instructions per token`);
    return { target, dpop: values.dpop, perToken: Math.round(perToken), pid: server.pid, dir };
  } finally {
    http.close();
    await server.stop();
  }
}

for (const target of values.targets.split(',')) process.stdout.write(`${JSON.stringify({ ...(await measure(target)), warmup, small, large, nodeFlags })}\n`);
log(`callgrind dumps kept in ${folder}${values['perf-map'] ? '; JIT maps in /tmp/perf-<pid>.map' : ''}`);
