/**
 * Bulk seeding of a Keybound database for the benchmark: N active member accounts, each with one
 * device-bound ES256 passkey (bench/authenticator.ts derives the keys), written straight into the
 * tables with multi-row INSERTs in large transactions. The schema comes from Keybound's own
 * migrations, so the seeded database is exactly what `keybound serve` expects.
 */
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { openDatabase } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';
import { benchTotpSeed, benchUsername } from './authenticator.ts';
import { deriveCredentials, type DerivedRow } from './derive.ts';

const ACCOUNT_COLUMNS = ['id', 'username', 'display_name', 'role', 'status', 'user_handle', 'email', 'created_at', 'updated_at'] as const;
const PASSKEY_COLUMNS = [
  'id', 'account_id', 'credential_id', 'public_key', 'alg', 'sign_count', 'transports', 'aaguid', 'backup_eligible', 'backup_state',
  'user_verified', 'attestation_format', 'attestation_trusted', 'nickname', 'status', 'flagged_reason', 'created_at', 'last_used_at',
] as const;
const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';

export interface SeedResult {
  readonly accounts: number;
  readonly seconds: number;
}

/**
 * A time-ordered, UUIDv7-shaped id (a run prefix, then the account index): ids that grow with
 * insertion order, as UUIDv7 ids do, so the primary-key indexes fill in order while seeding. Credential
 * ids and user handles stay random, as real ones are.
 */
function orderedId(prefix: string, kind: number, index: number): string {
  const hex = index.toString(16).padStart(12, '0');
  return `${prefix}-${kind}000-7000-8000-${hex}`;
}

const AUTHENTICATOR_COLUMNS = [
  'id', 'account_id', 'kind', 'status', 'secret', 'totp_params', 'destination', 'last_step', 'failures', 'disabled_reason', 'created_at', 'confirmed_at', 'last_used_at',
] as const;

/** Seals a TOTP seed exactly as Keybound's enrolment does (AES-256-GCM under the data keys, bound to the authenticator id). */
export type SealTotpSeed = (seed: Uint8Array, authenticatorId: string) => string;

function rowsFor(
  derived: DerivedRow[],
  now: number,
  prefix: string,
  totp: { secret: Uint8Array; seal: SealTotpSeed } | null,
): { accounts: unknown[][]; passkeys: unknown[][]; authenticators: unknown[][] } {
  const accounts: unknown[][] = [];
  const passkeys: unknown[][] = [];
  const authenticators: unknown[][] = [];
  for (const [index, credentialId, userHandle, cose] of derived) {
    const accountId = orderedId(prefix, 1, index);
    const username = benchUsername(index);
    accounts.push([accountId, username, `Bench ${index}`, 'member', 'active', userHandle, null, now, now]);
    if (totp) {
      const id = orderedId(prefix, 3, index);
      const params = JSON.stringify({ algorithm: 'SHA1', digits: 6, period: 30 });
      authenticators.push([id, accountId, 'totp', 'active', totp.seal(benchTotpSeed(totp.secret, index), id), params, null, null, 0, null, now, now, null]);
    }
    passkeys.push([orderedId(prefix, 2, index), accountId, credentialId, cose, -7, 0, '["internal"]', ZERO_AAGUID, 0, 0, 1, 'none', 0, 'Bench key', 'active', null, now, null]);
  }
  return { accounts, passkeys, authenticators };
}

/** Creates the schema with Keybound's migrations and inserts `count` accounts with a passkey each. */
export async function seedKeybound(input: {
  databaseUrl: string;
  secret: Uint8Array;
  count: number;
  log?: (line: string) => void;
  /** Give every account a confirmed TOTP authenticator too, its seed sealed with this. */
  sealTotpSeed?: SealTotpSeed;
}): Promise<SeedResult> {
  const started = performance.now();
  const db = openDatabase(input.databaseUrl);
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  const now = Date.now();
  const prefix = randomBytes(4).toString('hex');
  const totp = input.sealTotpSeed ? { secret: input.secret, seal: input.sealTotpSeed } : null;
  let done = 0;
  const progress = (n: number) => {
    const before = Math.floor(done / 100_000);
    done += n;
    if (Math.floor(done / 100_000) > before) input.log?.(`seeded ${done.toLocaleString('en')} of ${input.count.toLocaleString('en')} accounts`);
  };
  if (input.databaseUrl.startsWith('sqlite:')) {
    const sqlite = new BetterSqlite3(input.databaseUrl.slice('sqlite:'.length));
    try {
      // Durability is irrelevant while seeding: no journal, no syncs, one writer, and a page cache
      // big enough to keep every B-tree in memory while the random-order index inserts land.
      sqlite.pragma('journal_mode = OFF');
      sqlite.pragma('synchronous = OFF');
      sqlite.pragma('locking_mode = EXCLUSIVE');
      sqlite.pragma('cache_size = -4194304');
      const BATCH = 500;
      const statement = (table: string, columns: readonly string[], rows: number) =>
        sqlite.prepare(`insert into ${table} (${columns.join(', ')}) values ${Array.from({ length: rows }, () => `(${columns.map(() => '?').join(', ')})`).join(', ')}`);
      const full = new Map<string, BetterSqlite3.Statement>();
      const insert = (table: string, columns: readonly string[], rows: unknown[][]) => {
        for (let i = 0; i < rows.length; i += BATCH) {
          const slice = rows.slice(i, i + BATCH);
          let prepared = slice.length === BATCH ? full.get(table) : undefined;
          if (!prepared) {
            prepared = statement(table, columns, slice.length);
            if (slice.length === BATCH) full.set(table, prepared);
          }
          prepared.run(slice.flat());
        }
      };
      const write = sqlite.transaction((derived: DerivedRow[]) => {
        const { accounts, passkeys, authenticators } = rowsFor(derived, now, prefix, totp);
        insert('accounts', ACCOUNT_COLUMNS, accounts);
        insert('passkeys', PASSKEY_COLUMNS, passkeys);
        insert('authenticators', AUTHENTICATOR_COLUMNS, authenticators);
      });
      await deriveCredentials(input.secret, input.count, (derived) => {
        write(derived);
        progress(derived.length);
      });
      // Back to what Keybound runs with (db.ts sets WAL on every open too).
      sqlite.pragma('journal_mode = WAL');
    } finally {
      sqlite.close();
    }
  } else {
    const url = new URL(input.databaseUrl);
    const schema = url.searchParams.get('schema');
    url.searchParams.delete('schema');
    url.searchParams.delete('pool');
    const client = new pg.Client({ connectionString: url.toString(), ...(schema ? { options: `-c search_path=${schema}` } : {}) });
    await client.connect();
    try {
      const BATCH = 1000;
      const insert = async (table: string, columns: readonly string[], rows: unknown[][]) => {
        for (let i = 0; i < rows.length; i += BATCH) {
          const slice = rows.slice(i, i + BATCH);
          let n = 0;
          const values = slice.map((row) => `(${row.map(() => `$${++n}`).join(', ')})`).join(', ');
          await client.query(`insert into ${table} (${columns.join(', ')}) values ${values}`, slice.flat());
        }
      };
      await deriveCredentials(input.secret, input.count, async (derived) => {
        const { accounts, passkeys, authenticators } = rowsFor(derived, now, prefix, totp);
        await client.query('begin');
        await insert('accounts', ACCOUNT_COLUMNS, accounts);
        await insert('passkeys', PASSKEY_COLUMNS, passkeys);
        await insert('authenticators', AUTHENTICATOR_COLUMNS, authenticators);
        await client.query('commit');
        progress(derived.length);
      });
      await client.query('analyze');
    } finally {
      await client.end();
    }
  }
  return { accounts: input.count, seconds: (performance.now() - started) / 1000 };
}
