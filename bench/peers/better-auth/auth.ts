/**
 * Better Auth set up as its documentation recommends for Node: `betterAuth({ database: new
 * Database(...) })` over better-sqlite3 (WAL), the passkey plugin with the relying party and origin
 * of the server, mounted with `toNodeHandler` (https://better-auth.com/docs/integrations/node,
 * /docs/adapters/sqlite, /docs/plugins/passkey). Two settings depart from the defaults, both to
 * match the Keybound side of the benchmark: the rate limiter is off (the load comes from one
 * address; Keybound's ceremony limit is lifted too) and telemetry is off (no network).
 */
import Database from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { passkey } from '@better-auth/passkey';

export interface PeerOptions {
  /** SQLite file. */
  readonly databasePath: string;
  /** `http://localhost:<port>`: Better Auth's base URL and the passkey origin. */
  readonly baseURL: string;
  readonly rpID: string;
  /** The seeder creates the tables itself and closes the database at once: no background schema check. */
  readonly forSeeding?: boolean;
}

/** A fixed secret: the benchmark signs cookies with it, nothing else. */
const BENCH_SECRET = 'keybound-bench-better-auth-secret-0123456789abcdef';

export function createPeerAuth(options: PeerOptions) {
  const sqlite = new Database(options.databasePath);
  // better-sqlite3's own recommendation for concurrent access and write throughput.
  sqlite.pragma('journal_mode = WAL');
  const auth = betterAuth({
    baseURL: options.baseURL,
    secret: BENCH_SECRET,
    database: sqlite,
    plugins: [passkey({ rpID: options.rpID, rpName: 'Bench', origin: options.baseURL })],
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    ...(options.forSeeding ? { advanced: { database: { validateSchema: false } } } : {}),
  });
  return { auth, sqlite };
}
