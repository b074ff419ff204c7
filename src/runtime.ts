import { randomBytes } from 'node:crypto';
import type { Config } from './config/load.ts';
import { ROLES } from './core/model.ts';
import type { RolePolicies } from './core/policy.ts';
import type { Clock, Random } from './core/tokens.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import type { Deps } from './services/deps.ts';
import { openDatabase, type Db } from './store/db.ts';
import { createStore, type Store } from './store/index.ts';
import { migrate } from './store/migrate.ts';
import { PublicKeyCache } from './webauthn/cose.ts';
import { base64url } from './core/bytes.ts';
import type { DataKeyring } from './crypto/dataKeys.ts';
import { resolveDataKeys } from './crypto/keyFile.ts';
import { pooledRandom } from './crypto/random.ts';
import { createMailer, type Mailer } from './delivery/mail.ts';
import { createSmsProvider, type SmsProvider } from './delivery/sms.ts';

export const systemClock: Clock = () => Date.now();
export const systemRandom: Random = (length) => new Uint8Array(randomBytes(length));

export function rolePolicies(config: Config): RolePolicies {
  return Object.fromEntries(
    ROLES.map((role) => {
      const { allowSyncedPasskeys, codeFactors, minAal } = config.roles[role];
      return [role, { allowSyncedPasskeys, codeFactors, minAal }];
    }),
  ) as RolePolicies;
}

/** Wires the services over a store. Tests pass their own clock and randomness. */
export async function createDeps(input: { config: Config; store: Store; clock?: Clock; random?: Random; metrics?: Metrics; dataKeys?: DataKeyring; mailer?: Mailer | null; sms?: SmsProvider | null }): Promise<Deps> {
  // Pooled: a sign-in draws three small random values, and each call into OpenSSL costs about as much as 4 KiB.
  const random = input.random ?? pooledRandom();
  const installSecret = await input.store.settings.getOrCreate('install.secret', base64url.encode(random(32)));
  return {
    store: input.store,
    config: input.config,
    policies: rolePolicies(input.config),
    clock: input.clock ?? systemClock,
    random,
    keys: new PublicKeyCache(),
    metrics: input.metrics ?? createMetrics(),
    installSecret: base64url.decode(installSecret) ?? new Uint8Array(Buffer.from(installSecret)),
    dataKeys: input.dataKeys ?? resolveDataKeys(input.config).keyring,
    mailer: input.mailer !== undefined ? input.mailer : createMailer(input.config.mail),
    sms: input.sms !== undefined ? input.sms : createSmsProvider(input.config.sms, (line) => process.stdout.write(`${line}\n`)),
  };
}

/**
 * Opens the configured database, brings its schema up to date and builds the store. On PostgreSQL
 * the migrations run on a connection of their own without the statement bound (a migration, or the
 * wait for another instance's, may rightly take long); the store's connections have the bound.
 */
export async function openStore(config: Config): Promise<{ db: Db; store: Store; applied: number[] }> {
  const migrating = openDatabase(config.databaseUrl);
  let applied: number[];
  try {
    applied = await migrate(migrating);
  } catch (error) {
    await migrating.close();
    throw error;
  }
  if (migrating.dialect !== 'postgres') return { db: migrating, store: createStore(migrating), applied };
  await migrating.close();
  const db = openDatabase(config.databaseUrl, { statementTimeoutMs: config.databaseTimeoutMs });
  return { db, store: createStore(db), applied };
}
