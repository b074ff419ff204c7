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

export const systemClock: Clock = () => Date.now();
export const systemRandom: Random = (length) => new Uint8Array(randomBytes(length));

export function rolePolicies(config: Config): RolePolicies {
  return Object.fromEntries(ROLES.map((role) => [role, { allowSyncedPasskeys: config.roles[role].allowSyncedPasskeys }])) as RolePolicies;
}

/** Wires the services over a store. Tests pass their own clock and randomness. */
export async function createDeps(input: { config: Config; store: Store; clock?: Clock; random?: Random; metrics?: Metrics; dataKeys?: DataKeyring }): Promise<Deps> {
  const random = input.random ?? systemRandom;
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
  };
}

/** Opens the configured database, brings its schema up to date and builds the store. */
export async function openStore(config: Config): Promise<{ db: Db; store: Store; applied: number[] }> {
  const db = openDatabase(config.databaseUrl);
  try {
    const applied = await migrate(db);
    return { db, store: createStore(db), applied };
  } catch (error) {
    await db.close();
    throw error;
  }
}
