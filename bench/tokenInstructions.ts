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
 * The method is bench/instructions.ts's (bench/callgrind.ts): each target runs under `valgrind
 * --tool=callgrind --instr-atstart=no` with V8 `--single-threaded --predictable-gc-schedule`; `--warmup` tokens run
 * uninstrumented, then `--small` and `--large` sequential tokens are counted and dumped, and
 * instructions per token are (large − small) / (large − small tokens), so what a batch costs besides
 * its tokens cancels out. The kernel's work is not counted.
 *
 * `--perf-map` also starts node with `--perf-basic-prof`, so /tmp/perf-<pid>.map names the JIT's
 * code: callgrind reports JavaScript frames as bare addresses, which that map turns into functions.
 * The callgrind dumps are kept (their folder is printed) to be read with `callgrind_annotate`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateDataKey } from '../src/crypto/dataKeys.ts';
import { callgrindWrap, countBatches, countedNodeFlags, log, requireValgrind } from './callgrind.ts';
import { runFolder } from './databases.ts';
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

requireValgrind();

const folder = runFolder();
const nodeFlags = countedNodeFlags({ perfMap: values['perf-map'] });

async function start(target: string, dir: string, publicJwk: Record<string, string>): Promise<{ server: ServerProcess; clientId: string }> {
  const wrap = callgrindWrap(dir);
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

async function measure(target: string): Promise<{ target: string; dpop: boolean; perToken: number; pid: number; dir: string }> {
  const dir = join(folder, `${target}${values.dpop ? '-dpop' : ''}`);
  mkdirSync(dir, { recursive: true });
  const { privateJwk, publicJwk } = clientKeyPair();
  log(`${target}: starting under callgrind`);
  const { server, clientId } = await start(target, dir, publicJwk);
  const client = tokenClient(server.baseUrl, { clientId, privateJwk, resource: RESOURCE, dpop: values.dpop });
  try {
    log(`${target}: ${warmup} tokens uninstrumented (warm-up), then ${small} and ${large} counted`);
    const { perRequest: perToken } = await countBatches(server, dir, { warmup, small, large }, async (http, count) => {
      for (let i = 0; i < count; i++) await client.token(http);
    });
    log(`${target}: ${Math.round(perToken).toLocaleString('en')} instructions per token`);
    return { target, dpop: values.dpop, perToken: Math.round(perToken), pid: server.pid, dir };
  } finally {
    await server.stop();
  }
}

for (const target of values.targets.split(',')) process.stdout.write(`${JSON.stringify({ ...(await measure(target)), warmup, small, large, nodeFlags })}\n`);
log(`callgrind dumps kept in ${folder}${values['perf-map'] ? '; JIT maps in /tmp/perf-<pid>.map' : ''}`);
