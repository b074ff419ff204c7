/**
 * The cache hit of an API-key check in `keybound/resource` (src/resource/apiKeys.ts), measured in
 * this process, which plays the resource server: the first check of the key asks Keybound (RFC 7662
 * introspection); every later one, within the cache's lifetime, is the checksum, a SHA-256 of the
 * key and a map look-up here. Sequential (one check at a time: nothing waits on the network), for
 * the warm-up and then the measured duration, like a phase of the load generator.
 */
import type { JWK } from 'jose';
import { apiKeyChecker } from '../src/resource/apiKeys.ts';
import { round } from './figures.ts';
import type { BenchOptions } from './options.ts';
import type { ServerProcess } from './processes.ts';
import type { IntrospectionParams } from './protocol.ts';

const percentile = (sorted: Float64Array, p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);

export async function measureCachedApiKeyChecks(server: ServerProcess, params: IntrospectionParams, options: Pick<BenchOptions, 'warmupMs' | 'durationMs'>) {
  let introspections = 0;
  const check = apiKeyChecker(
    `${server.baseUrl}/oidc`,
    {
      clientId: params.clientId,
      privateKey: params.privateJwk as JWK,
      // Longer than the run: every check after the first is a hit.
      cacheTtlS: 3600,
      fetch: (url, init) => {
        introspections++;
        return fetch(url, init);
      },
    },
    Date.now,
  );
  const key = params.keys[0]!;
  const run = async (ms: number, latencies: number[] | null) => {
    const end = performance.now() + ms;
    let errors = 0;
    while (performance.now() < end) {
      const started = performance.now();
      if (!(await check(key)).ok) errors++;
      latencies?.push(performance.now() - started);
    }
    return errors;
  };
  const warmErrors = await run(options.warmupMs, null);
  if (warmErrors > 0 || introspections !== 1) throw new Error(`the cached check failed in warm-up: ${warmErrors} refusals, ${introspections} introspections`);
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  const errors = await run(options.durationMs, latencies);
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const sorted = Float64Array.from(latencies).sort();
  const ms = (p: number) => round(percentile(sorted, p), 4);
  return {
    concurrency: 1,
    keys: 1,
    checks: latencies.length,
    errors,
    durationS: round(elapsedMs / 1000, 2),
    checksPerSecond: round(latencies.length / (elapsedMs / 1000)),
    latencyMs: { p50: ms(50), p95: ms(95), p99: ms(99), max: ms(100) },
    /** CPU of the resource server's process (this one) per check. */
    cpuUsPerCheck: round((used.user + used.system) / latencies.length, 2),
    /** Requests the checks made to Keybound during the run (the first, in warm-up, is not counted). */
    introspections: introspections - 1,
  };
}
