/**
 * Counting a server's instructions per request with valgrind's callgrind, for bench/instructions.ts
 * (passkey sign-ins) and bench/tokenInstructions.ts (client-credentials tokens). The server runs
 * under `valgrind --tool=callgrind --instr-atstart=no` (`callgrindWrap`); `countBatches` drives it
 * and works out instructions per request so that what a batch costs besides its requests (the dump,
 * the switch) cancels out.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HttpClient } from './http.ts';
import type { ServerProcess } from './processes.ts';

const run = promisify(execFile);

/**
 * V8 options for repeatable counts: compilation and GC on the main thread and the heap's growth
 * fixed, so when they happen does not depend on thread timing.
 */
const PREDICTABLE_V8: readonly string[] = ['--single-threaded', '--predictable-gc-schedule'];

/**
 * Node's options for a counted server: `PREDICTABLE_V8` unless `predictable` is false, and with
 * `perfMap` `--perf-basic-prof`, so /tmp/perf-<pid>.map names the compiled JavaScript that the dumps
 * show as bare addresses (bench/callgrindProfile.ts reads both).
 */
export const countedNodeFlags = (options: { perfMap: boolean; predictable?: boolean }): string[] => [
  ...(options.predictable === false ? [] : PREDICTABLE_V8),
  ...(options.perfMap ? ['--perf-basic-prof'] : []),
];

/** Progress on stderr, with the time. */
export const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

/** Exits with a sentence when valgrind is missing. */
export function requireValgrind(): void {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    process.stderr.write('valgrind is not installed (apt-get install valgrind): it counts the instructions this benchmark reports.\n');
    process.exit(2);
  }
}

/** What to run a server under so that its dumps land in `dir`, instrumentation off until switched on. */
export function callgrindWrap(dir: string): string[] {
  return ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(dir, 'callgrind.out')}`];
}

export interface Batches {
  /** Requests made uninstrumented first, so that V8 has tiered the code up. */
  readonly warmup: number;
  readonly small: number;
  readonly large: number;
}

export interface Counted {
  readonly smallIr: number;
  readonly largeIr: number;
  /** (large batch − small batch) ÷ (large − small). */
  readonly perRequest: number;
}

/**
 * `warmup` requests uninstrumented, instrumentation on, 20 more (the first instrumented requests
 * re-translate the JIT's code), counters zeroed, then `small` requests counted and dumped, and
 * `large` counted and dumped. `requests(http, count, offset)` makes `count` sequential requests,
 * `offset` of them having been made before. `before` runs once, before the warm-up.
 */
export async function countBatches(
  server: ServerProcess,
  dir: string,
  sizes: Batches,
  requests: (http: HttpClient, count: number, offset: number) => Promise<void>,
  before?: (http: HttpClient) => Promise<void>,
): Promise<Counted> {
  // A new connection after each callgrind_control: while a dump is written the server can close the
  // idle keep-alive socket just as the next request is sent on it. Each counted batch opens one.
  let http = new HttpClient(server.baseUrl, 1);
  const control = async (args: string[]) => {
    http.close();
    await run('callgrind_control', [...args, String(server.pid)]);
    http = new HttpClient(server.baseUrl, 1);
  };
  const dump = async (label: string) => {
    const seen = new Set(readdirSync(dir));
    await control([`--dump=${label}`]);
    const fresh = readdirSync(dir).filter((f) => f.startsWith('callgrind.out') && !seen.has(f));
    if (fresh.length !== 1) throw new Error(`expected one new callgrind dump in ${dir}, found ${fresh.join(', ') || 'none'}`);
    const total = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(join(dir, fresh[0]!), 'utf8'));
    if (!total) throw new Error(`no totals in ${fresh[0]}`);
    return Number(total[1]);
  };
  const { warmup, small, large } = sizes;
  try {
    await before?.(http);
    await requests(http, warmup, 0);
    await control(['-i', 'on']);
    await requests(http, 20, warmup);
    await control(['-z']);
    await requests(http, small, warmup + 20);
    const smallIr = await dump('small');
    await requests(http, large, warmup + 20 + small);
    const largeIr = await dump('large');
    return { smallIr, largeIr, perRequest: (largeIr - smallIr) / (large - small) };
  } finally {
    http.close();
  }
}
