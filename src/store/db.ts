import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, type PostgresCursor, type PostgresPool, type PostgresPoolClient, type PostgresQueryResult } from 'kysely';
import pg from 'pg';
import { startCheckpointer, type Checkpointer } from './checkpointer.ts';
import { GroupCommitDialect, type GroupCommitDriver } from './groupCommit.ts';
import type { Database } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: Dialect;
  /** Human-readable place of the data, without credentials. */
  readonly description: string;
  /** PostgreSQL schema the tables live in (`public` unless the URL names one). */
  readonly schema: string;
  /** SQLite only: the driver that groups commits (groupCommit.ts), for its figures. */
  readonly sqliteDriver?: GroupCommitDriver;
  close(): Promise<void>;
}

export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
}

export interface OpenOptions {
  /**
   * PostgreSQL: the longest one statement may take, enforced by the server (`statement_timeout`) and,
   * for a server that stopped answering at all, by the client (`query_timeout`). Unset: unbounded,
   * for migrations, which may rightly take long.
   */
  readonly statementTimeoutMs?: number;
  /**
   * SQLite file: checkpoint the WAL from a worker thread once a second instead of inside commits
   * (checkpointer.ts), for a long-running server. `onError` hears once if the worker fails; SQLite's
   * own checkpoints then take over again. Ignored in memory and on PostgreSQL.
   */
  readonly backgroundCheckpoints?: { readonly onError?: (error: Error) => void };
}

/**
 * With background checkpoints, the automatic checkpoint only bounds the WAL (10,000 pages, about
 * 40 MB) should the worker stall; 1000 is SQLite's default, restored if the worker fails.
 */
const BACKSTOP_CHECKPOINT_PAGES = 10_000;
const DEFAULT_CHECKPOINT_PAGES = 1000;

/** Opens the database `url` names: `sqlite:<path>` (`sqlite::memory:` for tests) or `postgres://...`. */
export function openDatabase(url: string, options: OpenOptions = {}): Db {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length), options);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(url, options);
  throw new DatabaseUrlError(`KEYBOUND_DATABASE_URL must start with sqlite: or postgres:// (got ${url.split(':')[0]}:)`);
}

/**
 * The database holds accounts, hashed tokens and the audit trail: readable by its owner only. A new
 * data folder is made 0700 and a new database file 0600 (SQLite gives its -wal and -shm files the
 * database file's mode); an existing database file and its -wal/-shm are brought down to 0600.
 */
function prepareSqliteFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(f, 0o600);
    } catch {
      // Missing (-wal before first write) or not ours to change: SQLite reports real problems itself.
    }
  }
}

function openSqlite(path: string, options: OpenOptions): Db {
  if (path.length === 0) throw new DatabaseUrlError('KEYBOUND_DATABASE_URL=sqlite: needs a file path, as in sqlite:./data/keybound.db');
  const memory = path === ':memory:';
  if (!memory) prepareSqliteFile(resolve(path));
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('busy_timeout = 5000');
  // WAL lets the CLI and readers work beside the server; a committed transaction survives a crash of
  // the process (synchronous=NORMAL only risks the last commits on power loss, not on kill -9).
  if (!memory) switchToWal(sqlite);
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // A WAL file that grew (a long reader held checkpoints back) is cut back to this when it is reset.
  sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  const checkpointer = memory || !options.backgroundCheckpoints ? null : backgroundCheckpoints(sqlite, resolve(path), options.backgroundCheckpoints.onError);
  // Kysely prepares every statement anew; the same few statements run on every request, so keep them.
  const statements = new Map<string, BetterSqlite3.Statement>();
  const connection = {
    close: () => sqlite.close(),
    get inTransaction() {
      return sqlite.inTransaction;
    },
    prepare: (text: string) => {
      let statement = statements.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (statements.size < 500) statements.set(text, statement);
      }
      return statement;
    },
  };
  // Every write transaction begins IMMEDIATE (groupCommit.ts), taking the write lock first: in WAL
  // mode a DEFERRED one that read first and then writes, after another process (the CLI, a second
  // server) committed in between, fails at once with SQLITE_BUSY_SNAPSHOT, where busy_timeout never
  // applies. IMMEDIATE waits for the lock instead (busy_timeout), and then its reads are current.
  const dialect = new GroupCommitDialect(connection, memory ? null : resolve(path));
  const kysely = new Kysely<Database>({ dialect });
  return {
    kysely,
    dialect: 'sqlite',
    description: memory ? 'SQLite in memory' : `SQLite at ${resolve(path)}`,
    schema: 'main',
    sqliteDriver: dialect.driver,
    close: async () => {
      await checkpointer?.stop();
      await kysely.destroy();
    },
  };
}

/** How long opening a file waits for another process that is switching it to WAL at the same moment. */
const WAL_SWITCH_WAIT_MS = 5000;

/**
 * `journal_mode = WAL`, waiting for another process that switches the same file at the same moment
 * (instances starting together on a new file). Both read the file, then each needs it alone to
 * switch: SQLite answers the second SQLITE_BUSY at once rather than calling the busy handler, since
 * waiting there could deadlock. A moment later the first has switched, and the file is in WAL.
 * Opening is synchronous (better-sqlite3), so the pause between tries blocks this thread: 20 ms at
 * a time, only while the file is being switched.
 */
function switchToWal(sqlite: BetterSqlite3.Database): void {
  const deadline = Date.now() + WAL_SWITCH_WAIT_MS;
  for (;;) {
    let mode: unknown;
    try {
      mode = sqlite.pragma('journal_mode = WAL', { simple: true });
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
    }
    if (mode === 'wal') return;
    // A mode that did not change (SQLite returns the old one when it cannot switch) is tried again too.
    if (mode !== undefined && Date.now() > deadline) throw new Error(`SQLite could not switch ${sqlite.name} to WAL (its journal mode stays ${String(mode)}); Keybound needs WAL, which needs a local file system`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

function backgroundCheckpoints(sqlite: BetterSqlite3.Database, file: string, onError?: (error: Error) => void): Checkpointer {
  sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  return startCheckpointer(file, {
    onError: (error) => {
      if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${DEFAULT_CHECKPOINT_PAGES}`);
      onError?.(error);
    },
  });
}

function openPostgres(url: string, options: OpenOptions): Db {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  const poolSize = Number(parsed.searchParams.get('pool') ?? '10');
  parsed.searchParams.delete('schema');
  parsed.searchParams.delete('pool');
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new DatabaseUrlError('KEYBOUND_DATABASE_URL: schema must be lower-case letters, digits and _');
  }
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 200) throw new DatabaseUrlError('KEYBOUND_DATABASE_URL: pool must be 1 to 200');
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: poolSize,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    // Names Keybound's connections in pg_stat_activity (an `application_name` in the URL wins), so an
    // operator (or a test) can tell them apart and act on exactly them.
    fallback_application_name: 'keybound',
    // A database that stalls (frozen, partitioned, a lock held forever) must not hang requests: the
    // server cancels a statement after the bound, and the client gives up a little later if the
    // server cannot even say so. Either way the request answers 503 and can be retried.
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs, query_timeout: options.statementTimeoutMs + 1000 } : {}),
    // Every time column is a bigint of milliseconds, well inside Number's exact range.
    types: { getTypeParser: (oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')) },
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // Nor may a checked-out one: pg-pool listens for errors only while a client is idle, so a connection
  // cut between two queries of a transaction (pg_terminate_backend, a PostgreSQL restart) raised an
  // unhandled 'error' event and killed the server. The client is marked unusable either way: its next
  // query fails (503 service_unavailable) and the pool discards it on release.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new SettledPool(pool) }) });
  return {
    kysely,
    dialect: 'postgres',
    schema: schema ?? 'public',
    description: `PostgreSQL at ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}${schema ? ` (schema ${schema})` : ''}`,
    close: () => kysely.destroy(),
  };
}

/**
 * A pool that hands a connection back for reuse only when its state is known. A statement that
 * failed without PostgreSQL's own answer (the client's `query_timeout` fired, the connection broke)
 * may still run on the server after the caller gave up: a `BEGIN` that timed out while PostgreSQL
 * was frozen ran once it thawed, Kysely (which rolls back only a transaction whose `BEGIN` it saw
 * succeed) released the connection as if idle, and the next caller's writes went into a transaction
 * nobody would commit: acknowledged, yet invisible to every other connection and lost when the
 * connection closed. Such a connection is destroyed instead, as is one PostgreSQL last reported
 * inside a transaction.
 */
class SettledPool implements PostgresPool {
  constructor(private readonly pool: pg.Pool) {}

  async connect(): Promise<PostgresPoolClient> {
    return new SettledClient(await this.pool.connect());
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

class SettledClient implements PostgresPoolClient {
  private unsettled = false;

  constructor(private readonly client: pg.PoolClient) {}

  query<R>(sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(sql: string | PostgresCursor<R>, parameters?: readonly unknown[]): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // Keybound never streams (no cursor is configured), so Kysely only ever sends text and values.
    if (typeof sql !== 'string') throw new TypeError('cursors are not used');
    return this.run(sql, parameters ?? []);
  }

  private async run<R>(sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>> {
    try {
      return (await this.client.query(sql, [...parameters])) as unknown as PostgresQueryResult<R>;
    } catch (error) {
      // A DatabaseError is PostgreSQL's own answer, followed by ReadyForQuery: the connection's state
      // is known (idle, or a failed transaction the caller rolls back). Anything else is not.
      if (!(error instanceof pg.DatabaseError)) this.unsettled = true;
      throw error;
    }
  }

  release(destroy?: boolean): void {
    // `I`: idle. `T`/`E`: inside a transaction, which no caller should ever hand back.
    const status = this.client.getTransactionStatus?.() ?? 'I';
    this.client.release(Boolean(destroy) || this.unsettled || (status !== null && status !== 'I'));
  }
}

/**
 * Whether an error means "the database cannot be reached right now" (answer 503, retry later)
 * rather than a bug: refused or cut connections, PostgreSQL shutting down, a busy SQLite file.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  // SQLite's busy and locked codes and their extended forms (SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED_SHAREDCACHE, ...).
  if (/^SQLITE_(BUSY|LOCKED)(_|$)/.test(code)) return true;
  // SQLSTATE classes 08 (connection exception) and 57P (operator intervention), 53300 too many
  // connections, 57014 a statement cancelled (statement_timeout: the database is too slow right now).
  if (/^(08...|57P0[1-4]|53300|57014)$/.test(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Query read timeout|Postgres connection has been discarded/i.test(message);
}

/**
 * Whether PostgreSQL refused this server at connection or migration time (wrong password, no such
 * database, no rights): waiting will not help, unlike `isDatabaseUnavailable`.
 */
export function isDatabaseRefusal(error: unknown): error is Error & { code: string } {
  const e = error as { code?: unknown; severity?: unknown };
  return error instanceof Error && typeof e.code === 'string' && /^(28|3D|42501)/.test(e.code) && typeof e.severity === 'string';
}
