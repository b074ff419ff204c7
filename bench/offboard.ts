/**
 * The `offboard` scenario (issue 12 "Must show"; DESIGN.md principle 6, "Revocation is immediate"):
 * two `keybound serve` processes on one PostgreSQL schema. Each account holds a Keybound session,
 * a refresh token and an opaque access token; after the offboard command returns, each instance is
 * polled until it refuses each of them (bench/offboardChecks.ts), and the time from the command's
 * return to each refusal is reported as p50, p99 and max, with the command's own duration.
 *
 * Two commands, two lines: the admin JSON API (`POST /api/v1/admin/accounts/{username}/offboard` on
 * instance A, from a fresh administrator's passkey session) for most accounts, and the CLI
 * (`keybound accounts offboard <username> --json`, a process of its own, about a second to start)
 * for a few. Both run the same service, src/services/lifecycle.ts `offboardAccount`.
 *
 * The opaque access token is checked at userinfo, not introspection: Keybound answers introspection
 * only to resource servers, for tokens of their own API, and those are JWTs
 * (src/oidc/configuration.ts `introspectionAllowed`); an opaque token is never active to anyone's
 * introspection, so introspection could not show it being refused.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import pg from 'pg';
import { generateDataKey } from '../src/crypto/dataKeys.ts';
import { freshDatabase } from './databases.ts';
import { HttpClient } from './http.ts';
import { CHECKS, spread, summarise, untilRefused, type CheckOutcome, type CheckSummary, type Holdings } from './offboardChecks.ts';
import { ADMIN_INDEX, prepareHoldings, prepareOperators, signIn, type Instance, type Prepared } from './offboardSetup.ts';
import type { ScenarioContext } from './optional.ts';
import { freePort, startKeybound, type ServerProcess } from './processes.ts';
import { seedKeybound } from './seed.ts';

/** Per check and instance: give up (and count a failure) after this long. */
const CAP_MS = 10_000;
const TARGET_P99_MS = 1_000;
/** Re-sign the administrator in well before KEYBOUND_FRESH_AUTH_MAX_AGE (300 s) ends its freshness. */
const ADMIN_RESIGN_MS = 120_000;

const ACCESS_TOKEN_CHECK =
  'userinfo (GET /oidc/me answers 401); not introspection: Keybound answers introspection only to resource servers, for JWT access tokens of their own API, so an opaque token is never active to introspection';

/** The PostgreSQL URL without user and password, for messages. */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the --postgres-url given';
  }
}

async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

type Command = 'admin-api' | 'cli';

/** The machine's 1, 5 and 15 minute load averages (other work on the machine shows here). */
const loadAverage = () => loadavg().map((n) => Math.round(n * 100) / 100);

interface Measured {
  readonly commandMs: number[];
  /** outcomes[instance][check] */
  readonly outcomes: Record<'a' | 'b', Record<(typeof CHECKS)[number], CheckOutcome[]>>;
}

function emptyMeasured(): Measured {
  const perCheck = () => ({ session: [], refreshToken: [], accessTokenUserinfo: [] }) as Record<(typeof CHECKS)[number], CheckOutcome[]>;
  return { commandMs: [], outcomes: { a: perCheck(), b: perCheck() } };
}

/** After the command returned at `since`: every check on every instance, all at once. */
async function pollAll(pollers: readonly { name: 'a' | 'b'; http: HttpClient }[], holdings: Holdings, clientId: string, since: number, into: Measured): Promise<void> {
  await Promise.all(
    pollers.flatMap(({ name, http }) =>
      CHECKS.map(async (check) => {
        into.outcomes[name][check].push(await untilRefused(http, { check, holdings, clientId, since, capMs: CAP_MS }));
      }),
    ),
  );
}

function line(command: Command, measured: Measured, extra: Record<string, unknown>) {
  const refusalMs: Record<string, Record<string, CheckSummary>> = {};
  let worstP99 = 0;
  let timeouts = 0;
  let accepted = 0;
  let unexpected = 0;
  for (const name of ['a', 'b'] as const) {
    refusalMs[name] = {};
    for (const check of CHECKS) {
      const s = summarise(measured.outcomes[name][check]);
      refusalMs[name]![check] = s;
      worstP99 = Math.max(worstP99, s.p99);
      timeouts += s.timeouts;
      accepted += s.acceptedAfterCommand;
      unexpected += s.unexpectedAnswers;
    }
  }
  return {
    scenario: 'offboard',
    target: 'keybound',
    command,
    commandDescription:
      command === 'admin-api'
        ? 'POST /api/v1/admin/accounts/{username}/offboard on instance A, fresh administrator passkey session; timed from the request sent to the answer received'
        : 'keybound accounts offboard <username> --json, one process per account; timed from spawn to exit',
    accounts: measured.commandMs.length,
    instances: 2,
    pollCapMs: CAP_MS,
    commandMs: spread(measured.commandMs),
    refusalMs,
    accessTokenCheck: ACCESS_TOKEN_CHECK,
    timeouts,
    acceptedAfterCommand: accepted,
    unexpectedAnswers: unexpected,
    targetP99Ms: TARGET_P99_MS,
    worstP99Ms: worstP99,
    // A timeout or a credential accepted after the command returned fails the target whatever the percentiles say.
    targetMet: worstP99 <= TARGET_P99_MS && timeouts === 0 && accepted === 0,
    ...extra,
  };
}

export async function runOffboard({ options, emit, log }: ScenarioContext): Promise<void> {
  const note = options.db === 'postgres' ? {} : { dbNote: `--db ${options.db} was given; this scenario always runs on PostgreSQL (two processes on one database)` };
  if (!(await postgresReachable(options.postgresUrl))) {
    const why = `PostgreSQL not reachable at ${where(options.postgresUrl)} (--postgres-url)`;
    log(`offboard: skipped (${why})`);
    emit({ scenario: 'offboard', skipped: why, db: 'postgres' });
    return;
  }
  const apiCount = options.offboardAccounts;
  const cliCount = options.offboardCliAccounts;
  const secret = randomBytes(32);
  const dataKeys = generateDataKey('bench-offboard');
  const database = await freshDatabase({ db: 'postgres', postgresUrl: options.postgresUrl, label: 'offboard', pool: 8 });
  const servers: ServerProcess[] = [];
  const clients: HttpClient[] = [];
  try {
    log(`offboard: seeding ${1 + apiCount + cliCount} accounts on PostgreSQL (${where(options.postgresUrl)})`);
    await seedKeybound({ databaseUrl: database.url, secret, count: 1 + apiCount + cliCount });
    const ports = [await freePort(), await freePort()];
    // One issuer for both (the first origin), as behind one load balancer; authorization requests
    // on A are limited per address (all of them come from here), so that limit is lifted.
    const scenarioEnv = { KEYBOUND_ORIGIN: ports.map((p) => `http://localhost:${p}`).join(','), KEYBOUND_RATE_LIMIT_OIDC_AUTH: '0' };
    const env = { ...scenarioEnv, ...options.serverEnv };
    log('offboard: starting instances A and B');
    const started = await Promise.allSettled(ports.map((port) => startKeybound({ databaseUrl: database.url, dataKeys, port, env })));
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const instances = servers.map((server, i) => {
      const http = new HttpClient(server.baseUrl, 8, { timeoutMs: CAP_MS });
      clients.push(http);
      return { name: i === 0 ? 'a' : 'b', server, http };
    }) as unknown as [Instance, Instance];
    const [a] = instances;
    const prepared = await prepareOperators(a.server);
    const preparing = performance.now();
    const holdings = await prepareHoldings(prepared, instances, secret, { from: ADMIN_INDEX + 1, to: apiCount + cliCount, parallel: 4 });
    log(`offboard: ${holdings.length} accounts hold a session, a refresh token and an opaque access token (${((performance.now() - preparing) / 1000).toFixed(1)} s)`);
    // Separate connections for the polls, so no preparation or command request shares their sockets.
    const pollers = instances.map(({ name, server }) => {
      const http = new HttpClient(server.baseUrl, CHECKS.length, { timeoutMs: CAP_MS });
      clients.push(http);
      return { name, http };
    });

    log(`offboard: ${apiCount} accounts through the admin JSON API on A`);
    const api = emptyMeasured();
    const apiLoad = loadAverage();
    const admin = await adminSession(prepared, a.http, secret);
    for (const h of holdings.slice(0, apiCount)) {
      const cookie = await admin.cookie();
      const sent = performance.now();
      const answer = await a.http.send('POST', `/api/v1/admin/accounts/${h.username}/offboard`, { origin: a.server.baseUrl, cookie }, '{}');
      const since = performance.now();
      if (answer.status !== 200) throw new Error(`offboard ${h.username} through the API: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
      api.commandMs.push(since - sent);
      await pollAll(pollers, h, prepared.clientId, since, api);
    }
    emit(line('admin-api', api, { db: 'postgres', ...note, serverEnv: env, loadAverageAtStart: apiLoad, loadAverageAtEnd: loadAverage() }));

    log(`offboard: ${cliCount} accounts through \`keybound accounts offboard\``);
    const cli = emptyMeasured();
    const cliLoad = loadAverage();
    for (const h of holdings.slice(apiCount)) {
      const sent = performance.now();
      const out = await a.server.cli(['accounts', 'offboard', h.username, '--json']);
      const since = performance.now();
      const status = (JSON.parse(out) as { account?: { status?: string } }).account?.status;
      if (status !== 'offboarded') throw new Error(`offboard ${h.username} through the CLI: status ${status}`);
      cli.commandMs.push(since - sent);
      await pollAll(pollers, h, prepared.clientId, since, cli);
    }
    emit(line('cli', cli, { db: 'postgres', ...note, serverEnv: env, loadAverageAtStart: cliLoad, loadAverageAtEnd: loadAverage() }));
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) await s.stop();
    if (options.keep) log(`kept ${database.description}`);
    else await database.drop();
  }
}

/** The administrator's passkey session on A, signed in again before it stops being fresh. */
async function adminSession(prepared: Prepared, http: HttpClient, secret: Uint8Array): Promise<{ cookie(): Promise<string> }> {
  let cookie = await signIn(prepared, http, secret, ADMIN_INDEX);
  let at = performance.now();
  return {
    async cookie() {
      if (performance.now() - at > ADMIN_RESIGN_MS) {
        cookie = await signIn(prepared, http, secret, ADMIN_INDEX);
        at = performance.now();
      }
      return cookie;
    },
  };
}
