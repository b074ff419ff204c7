/**
 * Issue 4, required test 5: one code, one session; and the per-authenticator limit holds under a
 * flood, counted (how many guesses were actually compared), on SQLite and PostgreSQL in process, and
 * on PostgreSQL with two server instances sharing the database.
 */
import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { openStore } from '../../src/runtime.ts';
import type { Store } from '../../src/store/index.ts';
import { enrol, startTestApp, TEST_DATA_KEYS, type TestApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/db.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';
import { SoftAuthenticator } from '../helpers/softAuthenticator.ts';
import { enrolTotp, MEMBER_CODES_ENV, TotpApp } from './support.ts';

const LIMIT = 100; // KEYBOUND_CODE_MAX_FAILURES default (NIST SP 800-63B-4 §3.2.2)
const GUESSES = 1000;
const PARALLEL_VALID = 50;
/** Delays per account and address lifted, so the per-authenticator limit alone stands in the way. */
const ENV = { ...MEMBER_CODES_ENV, KEYBOUND_CODE_FREE_FAILURES: '1000000' };

/** Guesses compared against `accountId`'s authenticators, from the audit trail (one event per compared failure). */
async function checkedFailures(store: Store, accountId: string): Promise<number> {
  let count = 0;
  for (let from = 1; ; ) {
    const batch = await store.audit.scan(from, 5000);
    if (batch.length === 0) return count;
    count += batch.filter((e) => e.accountId === accountId && e.type === 'sign_in' && e.reason === 'code_invalid' && e.details.checked === true).length;
    from = batch.at(-1)!.seq + 1;
  }
}

/**
 * Runs `count` tasks issued at once with at most `inFlight` running, as behind a load balancer's
 * connection pool: a flood of 1,000 on a 10-connection database pool would otherwise only measure
 * how long requests queue for a connection (and answer 503 past its wait).
 */
async function flood<T>(count: number, inFlight: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

const wrongCode = (right: string, i: number) => {
  const guess = String(i % 1_000_000).padStart(6, '0');
  return guess === right ? String((i + 1) % 1_000_000).padStart(6, '0') : guess;
};

describe.each(BACKENDS)('code concurrency in process on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ backend, env: ENV });
  });
  afterAll(async () => t?.close());

  const start = async (username: string) => (await t.post('/api/v1/codes/sign-in/start', { username, factor: 'totp' })).json().attemptId as string;
  const checks = async (result: string) => (await t.deps.metrics.codeChecks.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

  it(`${PARALLEL_VALID} parallel submissions of one valid code yield exactly one session`, async () => {
    const { cookie, account } = await enrol(t, 'racer');
    const app = await enrolTotp(t, cookie);
    const code = app.code(t.clock.now);
    const sessionsBefore = (await t.store.sessions.listActive(account.id, t.clock.now)).length;
    // Half on one attempt, half each on an attempt of its own: the attempt and the time step are both single-use.
    const shared = await start('racer');
    const attempts = [...Array.from({ length: PARALLEL_VALID / 2 }, () => shared), ...(await Promise.all(Array.from({ length: PARALLEL_VALID / 2 }, () => start('racer'))))];
    const responses = await flood(attempts.length, 8, (i) => t.post('/api/v1/codes/sign-in/verify', { attemptId: attempts[i]!, code }));
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(1);
    for (const r of responses.filter((r) => r.statusCode !== 200)) expect(r.json().error).toBe('code_used');
    expect((await t.store.sessions.listActive(account.id, t.clock.now)).length - sessionsBefore).toBe(1);
  });

  it(`${GUESSES} parallel wrong guesses never check more than ${LIMIT}`, async () => {
    const { cookie, account } = await enrol(t, 'target');
    const app = await enrolTotp(t, cookie);
    const right = app.code(t.clock.now);
    const attemptIds = await Promise.all(Array.from({ length: 10 }, () => start('target')));
    const mismatchBefore = await checks('mismatch');
    // 8 in flight, fewer than the 10 connections of the database pool: none waits for a connection, whose
    // 3 s limit a loaded machine once reached (a 503 that says nothing about counting, issue 18).
    const responses = await flood(GUESSES, 8, (i) => t.post('/api/v1/codes/sign-in/verify', { attemptId: attemptIds[i % 10], code: wrongCode(right, i) }));
    const counted = (await checks('mismatch')) - mismatchBefore;
    const audited = await checkedFailures(t.store, account.id);
    console.info(`[${backend}, in process] ${GUESSES} parallel wrong guesses: ${counted} checked (metric), ${audited} checked (audit), limit ${LIMIT}`);
    expect(counted).toBeLessThanOrEqual(LIMIT);
    expect(counted).toBe(LIMIT); // enough guesses came to use up the limit, and not one more
    expect(audited).toBe(counted);
    const byError = new Map<string, number>();
    for (const r of responses) byError.set(r.json().error, (byError.get(r.json().error) ?? 0) + 1);
    // Past the limit nothing is compared, and the answer is the same as for a wrong code (issue 10, finding 11).
    expect(byError.get('code_invalid')).toBe(GUESSES);
    expect(responses.every((r) => r.statusCode < 500)).toBe(true);
    expect(await t.store.authenticators.findBound(account.id, 'totp')).toMatchObject({ status: 'disabled', failures: LIMIT });
    const late = await t.post('/api/v1/codes/sign-in/verify', { attemptId: await start('target'), code: right });
    expect(late.json().error).toBe('code_invalid');
  });
});

describe('code concurrency on PostgreSQL with two server instances', () => {
  let first: ServerProcess;
  let second: ServerProcess;
  let store: Store;
  let closeStore: () => Promise<void>;
  // Bounded sockets per instance: the requests are all issued at once and queue in the client. Fewer
  // in flight per instance (8) than connections in its pool (10): no request waits for a connection,
  // whose 3 s limit a loaded machine reached once (a 503, issue 18). 16 guesses still race at a time.
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  // A "socket hang up" was seen once here, in CI on a loaded machine. The agent drops an idle socket
  // when the server's Keep-Alive hint (5 s) runs out and Node's server a second later, so a reuse race
  // needs the client to stall for a second; to rule it out, idle sockets outlive these tests.
  // The main listener serves /metrics only with the operator's token (issue 10, finding 14).
  const METRICS_TOKEN = 'concurrency-test-metrics-token-0123456789';
  // Guesses queue on one authenticator's row; on a loaded machine a statement may wait longer than the
  // default 5 s and answer 503. What is measured here is how many are checked, not how fast.
  const serverEnv = { ...ENV, KEYBOUND_KEEP_ALIVE_TIMEOUT: '300', KEYBOUND_METRICS_TOKEN: METRICS_TOKEN, KEYBOUND_DATABASE_TIMEOUT: '60' };

  beforeAll(async () => {
    first = await startServer({ backend: 'postgres', env: serverEnv });
    second = await startServer({ databaseUrl: first.databaseUrl, env: serverEnv });
    const opened = await openStore(loadConfig({ KEYBOUND_DATABASE_URL: first.databaseUrl, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS }));
    store = opened.store;
    closeStore = () => opened.db.close();
  }, 90_000);
  afterAll(async () => {
    agent.destroy();
    await closeStore?.();
    await second?.stop();
    await first?.stop();
  });

  function post(server: ServerProcess, path: string, body: unknown, cookie?: string): Promise<{ status: number; json: Record<string, unknown>; cookie: string | null }> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        `${server.baseUrl}${path}`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', origin: server.baseUrl, ...(cookie ? { cookie } : {}) }, timeout: 60_000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const set = res.headers['set-cookie']?.find((c) => c.includes('keybound_session='));
            resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, cookie: set ? set.split(';')[0]! : null });
          });
        },
      );
      // Enough to tell a dropped connection from a server that died, should this fail again.
      req.on('error', (error) =>
        reject(
          new Error(
            `${path}: ${error.message} (${req.reusedSocket ? 'on a reused' : 'on a new'} connection; server exit code ${String(server.child.exitCode)}, signal ${String(server.child.signalCode)}); server output:\n${server.output().slice(-2_000)}`,
            { cause: error },
          ),
        ),
      );
      req.on('timeout', () => req.destroy(new Error(`${path} timed out`)));
      req.end(payload);
    });
  }

  /** Enrols a passkey on the first instance and binds TOTP on the second; returns the app and the account id. */
  async function enrolWithTotp(username: string): Promise<{ app: TotpApp; accountId: string }> {
    const invited = await first.cliJson<{ token: string; account: { id: string } }>(['invite', username, '--json']);
    const authenticator = new SoftAuthenticator({ origin: second.baseUrl });
    const options = await post(second, '/api/v1/passkeys/registration/options', { enrolmentToken: invited.token });
    const registered = await post(second, '/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json as never) });
    expect(registered.status).toBe(201);
    const begun = await post(second, '/api/v1/totp', {}, registered.cookie!);
    expect(begun.status).toBe(201);
    const app = new TotpApp(begun.json.otpauthUri as string);
    const confirmed = await post(first, '/api/v1/totp/confirm', { code: await app.previousCodeNow() }, registered.cookie!);
    expect(confirmed.status, JSON.stringify(confirmed.json)).toBe(200);
    return { app, accountId: invited.account.id };
  }

  const instance = (i: number) => (i % 2 === 0 ? first : second);
  const start = async (username: string, i: number) => (await post(instance(i), '/api/v1/codes/sign-in/start', { username, factor: 'totp' })).json.attemptId as string;

  async function mismatches(): Promise<number> {
    let total = 0;
    for (const server of [first, second]) {
      const text = await (await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      const line = text.split('\n').find((l) => l.startsWith('keybound_code_checks_total{') && l.includes('result="mismatch"'));
      total += line ? Number(line.split(' ').at(-1)) : 0;
    }
    return total;
  }

  it(`${PARALLEL_VALID} parallel submissions of one valid code across both instances yield exactly one session`, async () => {
    const { app, accountId } = await enrolWithTotp('pg-racer');
    // The step after the one confirmation used: the current one, valid now and for one step more.
    const code = app.code(Date.now());
    const attempts = await Promise.all(Array.from({ length: PARALLEL_VALID }, (_, i) => start('pg-racer', i)));
    const sessionsBefore = (await store.sessions.listActive(accountId, Date.now())).length;
    const responses = await Promise.all(attempts.map((attemptId, i) => post(instance(i + 1), '/api/v1/codes/sign-in/verify', { attemptId, code })));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) expect(r.json.error).toBe('code_used');
    expect((await store.sessions.listActive(accountId, Date.now())).length - sessionsBefore).toBe(1);
  }, 60_000);

  it(`${GUESSES} parallel wrong guesses across both instances never check more than ${LIMIT}`, async () => {
    const { app, accountId } = await enrolWithTotp('pg-target');
    const right = app.code(Date.now());
    const attemptIds = await Promise.all(Array.from({ length: 10 }, (_, i) => start('pg-target', i)));
    const before = await mismatches();
    const responses = await Promise.all(
      Array.from({ length: GUESSES }, (_, i) => post(instance(i), '/api/v1/codes/sign-in/verify', { attemptId: attemptIds[i % 10], code: wrongCode(right, i) })),
    );
    const counted = (await mismatches()) - before;
    const audited = await checkedFailures(store, accountId);
    const perInstance = [0, 1].map((n) => responses.filter((r, i) => i % 2 === n && r.json.error === 'code_invalid').length);
    console.info(`[postgres, two instances] ${GUESSES} parallel wrong guesses: ${counted} checked (metrics of both), ${audited} checked (audit), ${perInstance.join(' + ')} per instance, limit ${LIMIT}`);
    expect(counted).toBeLessThanOrEqual(LIMIT);
    expect(counted).toBe(LIMIT);
    expect(audited).toBe(counted);
    expect(responses.filter((r) => r.status !== 400).map((r) => `${r.status} ${JSON.stringify(r.json)}`)).toEqual([]);
    expect(responses.filter((r) => r.json.error === 'code_invalid')).toHaveLength(GUESSES);
    expect(await store.authenticators.findBound(accountId, 'totp')).toMatchObject({ status: 'disabled', failures: LIMIT });
    const late = await post(first, '/api/v1/codes/sign-in/verify', { attemptId: await start('pg-target', 0), code: right });
    expect(late.json.error).toBe('code_invalid');
  }, 120_000);
});
