import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../../src/config/load.ts';
import { buildApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createDeps, openStore } from '../../src/runtime.ts';
import type { Deps } from '../../src/services/deps.ts';
import { invite } from '../../src/services/invitations.ts';
import type { Role } from '../../src/core/model.ts';
import type { Store } from '../../src/store/index.ts';
import { freshDatabase, type Backend, type TestDatabase } from './db.ts';
import { SoftAuthenticator } from './softAuthenticator.ts';

import { ORIGIN, TEST_DATA_KEYS } from './constants.ts';

export { ORIGIN, TEST_DATA_KEYS };

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public now = Date.UTC(2026, 10, 29, 12, 0, 0)) {}
  readonly read = () => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly deps: Deps;
  readonly store: Store;
  readonly config: Config;
  readonly clock: ManualClock;
  readonly database: TestDatabase;
  /** The settings the app was started with (what `secondInstance` starts from). */
  readonly env: Readonly<Record<string, string>>;
  /** POSTs JSON from the allowed origin, with an optional cookie. */
  post(url: string, body: unknown, cookie?: string): Promise<LightMyRequestResponse>;
  get(url: string, cookie?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** The in-process app on a fresh database; rate limits lifted unless `env` sets them. */
/**
 * In-process servers log errors only: the fuzz and refusal suites would otherwise print thousands of
 * warn-level security events. `KEYBOUND_TEST_LOG_LEVEL=warn npm test` shows them when hunting a failure.
 */
const TEST_LOG_LEVEL = process.env.KEYBOUND_TEST_LOG_LEVEL ?? 'error';

export async function startTestApp(options: { backend?: Backend; env?: Record<string, string>; clock?: ManualClock } = {}): Promise<TestApp> {
  const database = await freshDatabase(options.backend ?? 'sqlite');
  const env = { KEYBOUND_DATABASE_URL: database.url, KEYBOUND_RATE_LIMIT_CEREMONY: '0', KEYBOUND_RATE_LIMIT_OIDC_AUTH: '0', KEYBOUND_DATA_KEYS: TEST_DATA_KEYS, KEYBOUND_LOG_LEVEL: TEST_LOG_LEVEL, ...options.env };
  const config = loadConfig(env);
  const { db, store } = await openStore(config);
  const clock = options.clock ?? new ManualClock();
  const deps = await createDeps({ config, store, clock: clock.read, metrics: createMetrics({ processMetrics: false }) });
  const app = await buildApp(deps);
  await app.ready();
  return {
    app,
    deps,
    store,
    config,
    clock,
    database,
    env,
    ...requestsTo(app),
    close: async () => {
      await app.close();
      await db.close();
      await database.drop();
    },
  };
}

/** JSON POST (from the allowed origin) and GET against `app`, with a session cookie when given. */
function requestsTo(app: TestApp['app']): Pick<TestApp, 'post' | 'get'> {
  return {
    post: (url, body, cookie) =>
      app.inject({ method: 'POST', url, payload: body as object, headers: { origin: ORIGIN, 'content-type': 'application/json', ...(cookie ? { cookie } : {}) } }),
    get: (url, cookie) => app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} }),
  };
}

/** The `name=value` of the session cookie a response set. */
export function sessionCookie(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name.endsWith('keybound_session'));
  if (!cookie) throw new Error(`no session cookie in response ${response.statusCode}: ${response.body}`);
  return `${cookie.name}=${cookie.value}`;
}

/** Invites `username` and enrols a new passkey from `authenticator`; returns the session cookie. */
export async function enrol(t: TestApp, username: string, authenticator = new SoftAuthenticator(), role: Role = 'member') {
  const invited = await invite(t.deps, { username, role, createdBy: 'test' });
  if (!invited.ok) throw new Error(invited.code);
  const options = await t.post('/api/v1/passkeys/registration/options', { enrolmentToken: invited.value.token });
  if (options.statusCode !== 200) throw new Error(options.body);
  const verify = await t.post('/api/v1/passkeys/registration/verify', { response: authenticator.create(options.json()), nickname: 'Test key' });
  if (verify.statusCode !== 201) throw new Error(verify.body);
  return { cookie: sessionCookie(verify), account: invited.value.account, authenticator, token: invited.value.token, body: verify.json() };
}

/** One full usernameless sign-in; returns the verify response. */
export async function signIn(t: TestApp, authenticator: SoftAuthenticator, tamper = {}) {
  const options = await t.post('/api/v1/passkeys/authentication/options', {});
  return t.post('/api/v1/passkeys/authentication/verify', { response: authenticator.get(options.json(), tamper) });
}

/**
 * Another instance of the same installation, built in this process the way `serve` builds one: A's
 * database, clock and settings (with `env` over them), its own provider, pool and process-local
 * state (caches, the provider's clients). Its `post` and `get` go to it. Closing it leaves the
 * database alone. Prefer PostgreSQL: two SQLite handles in one thread can block each other.
 */
export async function secondInstance(a: TestApp, env: Record<string, string> = {}): Promise<TestApp> {
  const merged = { ...a.env, ...env };
  const config = loadConfig(merged);
  const { db, store } = await openStore(config);
  const deps = await createDeps({ config, store, clock: a.clock.read, metrics: createMetrics({ processMetrics: false }) });
  const app = await buildApp(deps);
  await app.ready();
  return {
    ...a,
    app,
    deps,
    store,
    config,
    env: merged,
    ...requestsTo(app),
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}
