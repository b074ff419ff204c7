import { randomBytes } from 'node:crypto';
import type { Config } from './config/load.ts';
import { ROLES } from './core/model.ts';
import type { RolePolicies } from './core/policy.ts';
import type { Clock, Random } from './core/tokens.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import type { Deps, ServiceLog } from './services/deps.ts';
import { isDatabaseUnavailable, openDatabase, type Db } from './store/db.ts';
import { createStore, type Store } from './store/index.ts';
import { currentVersion, LATEST_VERSION, migrate } from './store/migrate.ts';
import { PublicKeyCache } from './webauthn/cose.ts';
import { base64url } from './core/bytes.ts';
import type { DataKeyring } from './crypto/dataKeys.ts';
import { resolveDataKeys } from './crypto/keyFile.ts';
import { auditAnchorKey } from './core/audit/anchor.ts';
import { pooledRandom } from './crypto/random.ts';
import { createMailer, type Mailer } from './delivery/mail.ts';
import { createSmsProvider, type SmsProvider } from './delivery/sms.ts';
import { riskSetup, type RiskSetup } from './services/risk/setup.ts';

export const systemClock: Clock = () => Date.now();
export const systemRandom: Random = (length) => new Uint8Array(randomBytes(length));

export function rolePolicies(config: Config): RolePolicies {
  return Object.fromEntries(
    ROLES.map((role) => {
      const { allowSyncedPasskeys, codeFactors, minAal, recovery } = config.roles[role];
      return [role, { allowSyncedPasskeys, codeFactors, minAal, recovery }];
    }),
  ) as RolePolicies;
}

/** Wires the services over a store. Tests pass their own clock and randomness. */
export async function createDeps(input: { config: Config; store: Store; clock?: Clock; random?: Random; metrics?: Metrics; dataKeys?: DataKeyring; mailer?: Mailer | null; sms?: SmsProvider | null; log?: ServiceLog; risk?: RiskSetup }): Promise<Deps> {
  // Pooled: a sign-in draws three small random values, and each call into OpenSSL costs about as much as 4 KiB.
  const random = input.random ?? pooledRandom();
  const installSecret = await input.store.settings.getOrCreate('install.secret', base64url.encode(random(32)));
  return {
    store: input.store,
    config: input.config,
    policies: rolePolicies(input.config),
    risk: input.risk ?? riskSetup(input.config),
    clock: input.clock ?? systemClock,
    random,
    keys: new PublicKeyCache(input.config.passkeyKeyCache),
    metrics: input.metrics ?? createMetrics(),
    installSecret: base64url.decode(installSecret) ?? new Uint8Array(Buffer.from(installSecret)),
    dataKeys: input.dataKeys ?? resolveDataKeys(input.config).keyring,
    mailer: input.mailer !== undefined ? input.mailer : createMailer(input.config.mail),
    sms: input.sms !== undefined ? input.sms : createSmsProvider(input.config.sms, (line) => process.stdout.write(`${line}\n`)),
    log: input.log ?? jsonLineLog(input.config.logLevel, (line) => process.stdout.write(line)),
  };
}

const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** A warn-level log in pino's JSON line shape, for processes without Fastify's logger (the CLI, tests). */
export function jsonLineLog(level: string, write: (line: string) => void): ServiceLog {
  const enabled = (LEVELS[level] ?? 30) <= 40;
  return { warn: (fields, msg) => enabled && write(`${JSON.stringify({ level: 40, time: Date.now(), ...fields, msg })}\n`) };
}

/** The schema is older than this Keybound, and `KEYBOUND_MIGRATE_ON_START=false` says not to change it. */
export class SchemaBehindError extends Error {
  override readonly name = 'SchemaBehindError';
}

/**
 * Opens the configured database, brings its schema up to date and builds the store. On PostgreSQL
 * the migrations run on a connection of their own without the statement bound (a migration, or the
 * wait for another instance's, may rightly take long); the store's connections have the bound.
 * With `KEYBOUND_MIGRATE_ON_START=false` (and `migrate` not forced, as `keybound migrate` does) it
 * changes nothing and only checks that the schema is current, so the runtime database account needs
 * no right to change the schema (OWASP ASVS 5.0 13.2.2).
 */
export async function openStore(config: Config, opening: { migrate?: boolean; server?: boolean } = {}): Promise<{ db: Db; store: Store; applied: number[] }> {
  // Only a long-running server checkpoints SQLite's WAL in the background (store/checkpointer.ts);
  // a CLI command is over before a checkpoint would matter.
  const backgroundCheckpoints = opening.server ? { onError: checkpointerFailed(config) } : undefined;
  const migrating = openDatabase(config.databaseUrl, { backgroundCheckpoints });
  let applied: number[];
  try {
    applied = (opening.migrate ?? config.migrateOnStart) ? await migrate(migrating) : await requireCurrentSchema(migrating);
  } catch (error) {
    await migrating.close().catch(() => undefined);
    if (isDatabaseUnavailable(error)) throw new DatabaseUnreachableError(migrating.description, error);
    throw error;
  }
  // The audit chain is anchored under the data keys, which never live in the database.
  const options = { auditAnchor: auditAnchorKey(resolveDataKeys(config).keyring.keys) };
  if (migrating.dialect !== 'postgres') return { db: migrating, store: createStore(migrating, options), applied };
  await migrating.close();
  const db = openDatabase(config.databaseUrl, { statementTimeoutMs: config.databaseTimeoutMs });
  return { db, store: createStore(db, options), applied };
}

/** Opened before the server's logger exists: a line in the same JSON shape. */
function checkpointerFailed(config: Config): (error: Error) => void {
  const log = jsonLineLog(config.logLevel, (line) => process.stdout.write(line));
  return (error) => log.warn({ err: { message: error.message } }, 'background WAL checkpoints stopped; SQLite checkpoints inside commits again');
}

async function requireCurrentSchema(db: Db): Promise<number[]> {
  const version = await currentVersion(db);
  if (version < LATEST_VERSION) {
    throw new SchemaBehindError(
      `${db.description}: the schema is at version ${version}, and this Keybound needs ${LATEST_VERSION}. KEYBOUND_MIGRATE_ON_START is false, so run \`npx keybound migrate\` with the database owner's account first`,
    );
  }
  return [];
}

/** The database could not be reached (refused, cut, timed out, busy): worth trying again later. */
export class DatabaseUnreachableError extends Error {
  override readonly name = 'DatabaseUnreachableError';
  constructor(
    /** Where the data lives, without credentials. */
    readonly database: string,
    cause: unknown,
  ) {
    const reason = (cause as { code?: unknown }).code ?? (cause as Error).message;
    super(`${database} cannot be reached (${String(reason)})`, { cause });
  }
}

/**
 * `openStore` for the server (with background WAL checkpoints on SQLite), trying again while the
 * database cannot be reached (it may be starting beside this server), with pauses growing from a
 * quarter second to five, until `config.databaseStartWaitMs` has passed; then the last
 * `DatabaseUnreachableError` is thrown. Any other error ends it at once.
 */
export async function openStoreWhenReachable(
  config: Config,
  onWait: (wait: { error: DatabaseUnreachableError; attempt: number; retryInMs: number }) => void,
  signal?: AbortSignal,
): Promise<{ db: Db; store: Store; applied: number[] }> {
  const deadline = Date.now() + config.databaseStartWaitMs;
  let pause = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await openStore(config, { server: true });
    } catch (error) {
      if (!(error instanceof DatabaseUnreachableError) || signal?.aborted) throw error;
      const retryInMs = Math.min(pause, deadline - Date.now());
      if (retryInMs <= 0) throw error;
      onWait({ error, attempt, retryInMs });
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        const timer = setTimeout(wake, retryInMs);
        signal?.addEventListener('abort', wake, { once: true });
      });
      if (signal?.aborted) throw error;
      pause = Math.min(pause * 2, 5000);
    }
  }
}
