/**
 * The load generator: a process of its own (forked by bench/run.ts, which talks to it over IPC),
 * closed-loop virtual users on keep-alive connections, each with its own slice of the accounts so
 * no passkey is ever used by two requests at once (sign counters stay monotonic).
 *
 * Per phase: warm up, drain, tell the orchestrator ("warm"), wait for "go" (the orchestrator reads
 * the server's CPU counters in between), run for the duration, drain, report. Latency is measured
 * per operation from the first byte sent to the last byte received (a sign-in is two requests plus
 * the authenticator's signature, as in a browser).
 */
import { availableParallelism } from 'node:os';
import { tsWorker } from './workers.ts';
import { benchTotpSeed, benchUsername, totpCode, type BenchCredential } from './authenticator.ts';
import { flowFor, FlowError, totpSignIn, type BenchAccount, type Flow, type Target } from './flows.ts';
import { HttpClient } from './http.ts';
import { introspectionClient, tokenClient } from './oauth.ts';
import type { ToLoadgen, FromLoadgen, PhaseResult } from './protocol.ts';

const send = (message: FromLoadgen) => process.send!(message);

let accounts: BenchAccount[] = [];
let secret: Uint8Array = new Uint8Array(32);
/** Last TOTP time step used per account index. */
const totpSteps = new Map<number, number>();
let signCount = 0;
const nextSignCount = () => ++signCount;

/** Picks `sample` distinct account indexes of `total` at random (all of them when sample >= total). */
function pickIndexes(total: number, sample: number): number[] {
  if (sample >= total) {
    const all = Array.from({ length: total }, (_, i) => i);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all;
  }
  const picked = new Set<number>();
  while (picked.size < sample) picked.add(Math.floor(Math.random() * total));
  return [...picked];
}

async function prepare(runSecret: Uint8Array, total: number, sample: number): Promise<number> {
  secret = runSecret;
  const indexes = pickIndexes(total, sample);
  const threads = Math.max(1, Math.min(availableParallelism(), Math.ceil(indexes.length / 2_000)));
  const per = Math.ceil(indexes.length / threads);
  const prepared: BenchAccount[] = [];
  await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const worker = tsWorker(new URL('./keysWorker.ts', import.meta.url), { secret: runSecret, indexes: indexes.slice(t * per, (t + 1) * per) });
      worker.on('message', (chunk: { credential: BenchCredential; key: BenchAccount['key'] }[]) => prepared.push(...chunk));
      return new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', () => resolve());
      });
    }),
  );
  accounts = prepared;
  return prepared.length;
}

interface Run {
  stop: boolean;
  ops: number;
  errors: number;
  errorSamples: string[];
  latencies: number[];
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One operation of a virtual user; resolves to false when it was set-up work that does not count. */
type Operation = () => Promise<boolean>;

/**
 * The operations of `concurrency` virtual users for a workload. Virtual user u owns accounts u,
 * u+c, u+2c, ... and keeps its session cookie and its token client between phases' warm-up and
 * measurement.
 */
function operations(
  message: Extract<ToLoadgen, { type: 'phase' }>,
  flow: Flow,
  http: HttpClient,
  wrapped: boolean[],
): Operation[] {
  const { workload, concurrency } = message;
  return Array.from({ length: concurrency }, (_, u): Operation => {
    const mine = Math.max(1, Math.ceil((accounts.length - u) / concurrency));
    let cursor = 0;
    const next = () => {
      const account = accounts[(u + concurrency * (cursor % mine)) % accounts.length]!;
      cursor++;
      if (cursor % mine === 0) wrapped[u] = true;
      return account;
    };
    switch (workload) {
      case 'passkey':
        return async () => {
          await flow.signIn(http, next());
          return true;
        };
      case 'session': {
        let cookie: string | null = null;
        return async () => {
          if (!cookie) {
            cookie = await flow.signIn(http, next());
            return false;
          }
          await flow.sessionCheck(http, cookie);
          return true;
        };
      }
      case 'client-credentials': {
        if (!message.clientCredentials) throw new Error('client-credentials needs its parameters');
        const client = tokenClient(message.baseUrl, message.clientCredentials);
        return async () => {
          await client.token(http);
          return true;
        };
      }
      case 'api-key': {
        const params = message.introspection;
        if (!params || params.keys.length === 0) throw new Error('api-key needs its parameters and at least one key');
        const client = introspectionClient(message.baseUrl, params, params.keys[u % params.keys.length]!);
        return async () => {
          await client.check(http);
          return true;
        };
      }
      case 'raw-http': {
        // The size of a verify request: the HTTP floor for a sign-in step (bench/floorHttp.ts).
        const body = JSON.stringify({ response: { id: 'x'.repeat(43), rawId: 'x'.repeat(43), type: 'public-key', response: { clientDataJSON: 'x'.repeat(180), authenticatorData: 'x'.repeat(50), signature: 'x'.repeat(96), userHandle: 'x'.repeat(43) }, clientExtensionResults: {} } });
        return async () => {
          const response = await http.send('POST', '/', { origin: new URL(message.baseUrl).origin }, body);
          if (response.status !== 200) throw new FlowError('raw http', response);
          return true;
        };
      }
      case 'totp': {
        // RFC 6238 §5.2: a time step is accepted once per authenticator, and Keybound accepts now's
        // step and the one before, never a later one (OWASP ASVS 5.0 6.5.5). Use the previous step
        // while it is unused and not about to expire, else now's, else move on to another account.
        const ctx = { origin: new URL(message.baseUrl).origin, rpId: '', nextSignCount };
        return async () => {
          for (let tries = 0; tries < mine; tries++) {
            const { credential } = next();
            const current = Math.floor(Date.now() / 30_000);
            const last = totpSteps.get(credential.index) ?? -1;
            const previousSafe = last < current - 1 && Date.now() % 30_000 < 25_000;
            const step = previousSafe ? current - 1 : last < current ? current : null;
            if (step === null) continue;
            totpSteps.set(credential.index, step);
            const i = credential.index;
            await totpSignIn(http, ctx, {
              username: benchUsername(i),
              code: totpCode(benchTotpSeed(secret, i), step),
              address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
            });
            return true;
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
          return false;
        };
      }
    }
  });
}

/** Runs the virtual users until `run.stop`; resolves when all have finished their last operation. */
async function drive(users: Operation[], run: Run): Promise<void> {
  const user = async (operation: Operation) => {
    while (!run.stop) {
      const started = performance.now();
      try {
        if (await operation()) {
          run.latencies.push(performance.now() - started);
          run.ops++;
        }
      } catch (error) {
        run.errors++;
        if (run.errorSamples.length < 5) run.errorSamples.push(error instanceof FlowError ? error.message : String(error));
        if (run.errors > 200 && run.errors > run.ops) run.stop = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  await Promise.all(users.map(user));
}

let pendingGo: (() => void) | null = null;

async function phase(message: Extract<ToLoadgen, { type: 'phase' }>): Promise<void> {
  const { id, target, baseUrl, workload, concurrency, warmupMs, warmupMaxMs, fullPassWarmup, durationMs } = message;
  const url = new URL(baseUrl);
  const flow = flowFor(target as Target, { origin: url.origin, rpId: url.hostname, nextSignCount });
  const http = new HttpClient(baseUrl, concurrency);
  const wrapped = Array.from({ length: concurrency }, () => false);
  const users = operations(message, flow, http, wrapped);

  // Warm-up: at least warmupMs; with fullPassWarmup, until every account was used once (at most warmupMaxMs).
  const warm: Run = { stop: false, ops: 0, errors: 0, errorSamples: [], latencies: [] };
  const warmStart = performance.now();
  const timer = setInterval(() => {
    const elapsed = performance.now() - warmStart;
    if (elapsed >= warmupMs && (!fullPassWarmup || workload !== 'passkey' || wrapped.every(Boolean) || elapsed >= warmupMaxMs)) warm.stop = true;
  }, 20);
  await drive(users, warm);
  clearInterval(timer);
  if (warm.errors > 0 && warm.ops === 0) {
    http.close();
    send({ type: 'failed', id, error: `warm-up failed: ${warm.errorSamples.join(' | ')}` });
    return;
  }

  await new Promise<void>((resolve) => {
    pendingGo = resolve;
    send({ type: 'warm', id, warmupOps: warm.ops, warmupMs: performance.now() - warmStart });
  });

  const run: Run = { stop: false, ops: 0, errors: 0, errorSamples: [], latencies: [] };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const stopTimer = setTimeout(() => (run.stop = true), durationMs);
  await drive(users, run);
  clearTimeout(stopTimer);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  http.close();

  const sorted = Float64Array.from(run.latencies).sort();
  const result: PhaseResult = {
    ops: run.ops,
    errors: run.errors,
    errorSamples: run.errorSamples,
    elapsedMs,
    latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 },
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
  send({ type: 'result', id, result });
}

process.on('message', (message: ToLoadgen) => {
  switch (message.type) {
    case 'init':
      void prepare(Buffer.from(message.secret, 'hex'), message.accounts, message.sample).then(
        (prepared) => send({ type: 'ready', prepared }),
        (error: unknown) => send({ type: 'failed', id: 'init', error: String(error) }),
      );
      break;
    case 'phase':
      void phase(message).catch((error: unknown) => send({ type: 'failed', id: message.id, error: String((error as Error).stack ?? error) }));
      break;
    case 'go':
      pendingGo?.();
      pendingGo = null;
      break;
    case 'exit':
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
