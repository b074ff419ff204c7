import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';

/** The statements this driver runs: the connection's own `prepare`, which may cache them. */
export interface SqliteConnection {
  prepare(sql: string): BetterSqlite3.Statement;
  readonly inTransaction: boolean;
  close(): void;
}

/** What the driver has done since it opened (tests read it). */
export interface GroupCommitStats {
  /** Transactions committed: each holds the writes of one or more requests. */
  commits: number;
  /** Writes made outside any transaction, and transactions, that went into those commits. */
  units: number;
}

const SAVEPOINT = 'keybound_tx';
/** Shared commits in a row with one unit each after which writes commit at once (see `#shares`). */
const LONE_COMMITS_TO_GO_ALONE = 4;
/** While alone, every this-many-th write or transaction waits for company again. */
const PROBE_EVERY = 32;

/** Transaction control and schema statements: never part of a shared commit. */
const CONTROL = /^\s*(begin|commit|end|rollback|savepoint|release|pragma|create|drop|alter|vacuum|attach|detach|reindex|analyze)\b/i;
const BEGIN = /^\s*begin\b/i;
const END = /^\s*(commit|end|rollback)\b(?!\s+to\b)/i;

interface Batch {
  /** A lone transaction, committed as soon as it ends: nothing else is in flight to share it. */
  readonly solo: boolean;
  /** Settles once the shared transaction has committed (or failed, with its error). */
  readonly settled: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
  units: number;
}

/**
 * Group commit for SQLite: the writes of every request that reaches the database in the same turn
 * of the event loop share one transaction and one commit, instead of paying a commit each.
 *
 * A SQLite commit in WAL mode costs more than the statements it commits: it writes every page the
 * transaction changed to the WAL, and the pages a sign-in touches (the audit chain's head, the
 * right edge of each index) are the same pages the next sign-in touches. Under load the server has
 * several requests in flight; one commit for all of them writes each page once.
 *
 * What callers see does not change:
 * - A write outside a transaction, and a transaction's commit, resolve only after the shared
 *   commit is done, so nothing is acknowledged (a session issued, a one-time value spent) before
 *   it is in the WAL. If the shared commit fails, every caller in it gets the error.
 * - A transaction runs inside a savepoint of the shared one: its rollback undoes its own writes
 *   only. While it is open, statements of other callers wait for it to end, as they waited for
 *   the connection before; they are never part of it. A transaction that commits alone (`#bare`)
 *   is the whole SQLite transaction, with no savepoint: its rollback is SQLite's.
 * - A failed statement is undone by SQLite on its own (statement rollback) and fails its caller
 *   only. An error after which SQLite has rolled the whole transaction back (disk full, I/O) fails
 *   every caller of the shared transaction.
 * - A read outside a transaction while a shared transaction is open sees its writes, so its answer
 *   is held until they are committed too.
 * - Raw `begin`...`commit` on one connection (the migrations) and schema statements run on their
 *   own, after the open shared transaction is committed.
 * - A writer alone (one user, the CLI) commits at once, as SQLite's autocommit would (`#shares`).
 *
 * One connection, as with Kysely's own SQLite driver. PostgreSQL needs none of this: each of its
 * connections commits on its own, and the server groups WAL flushes itself.
 */
export class GroupCommitDialect extends SqliteDialect {
  readonly driver: GroupCommitDriver;

  /** @param file the database file's absolute path, or null for an in-memory database */
  constructor(database: SqliteConnection, file: string | null) {
    super({ database: database as unknown as BetterSqlite3.Database });
    this.driver = new GroupCommitDriver(database, file);
  }

  override createDriver(): Driver {
    return this.driver;
  }
}

class Handle implements DatabaseConnection {
  constructor(private readonly driver: GroupCommitDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute<R>(this, query);
  }

  // Keybound never streams (Kysely's `stream()` is not used).
  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported');
  }
}

/** The open drivers of this process by database file (tests run two "instances" in one process). */
const byFile = new Map<string, Set<GroupCommitDriver>>();

export class GroupCommitDriver implements Driver {
  readonly stats: GroupCommitStats = { commits: 0, units: 0 };
  #batch: Batch | null = null;
  /** The connection inside a transaction (a Kysely one, or raw `begin`), if any. */
  #owner: Handle | null = null;
  #manual = false;
  /**
   * The owner's transaction opened a solo batch: it is the whole SQLite transaction, so it runs
   * without the savepoint (two statements fewer, and no journal of the pages it changes kept for
   * the savepoint): its commit is the batch's, its rollback a plain `rollback`.
   */
  #bare = false;
  #ownerEnded: Promise<void> | null = null;
  #endOwner: (() => void) | null = null;
  #commitScheduled = false;
  /** Shared commits in a row that carried one write or transaction each. */
  #loneCommits = 0;
  #aloneSince = 0;

  constructor(
    private readonly db: SqliteConnection,
    private readonly file: string | null,
  ) {
    if (file) byFile.set(file, (byFile.get(file) ?? new Set()).add(this));
  }

  async init(): Promise<void> {}

  /**
   * Whether the next write, with no shared transaction open, waits for company. A request alone
   * (one user, the CLI) gains nothing from waiting a turn of the event loop for company it will not
   * get, and keeps the write lock that turn longer. (Its CPU was not measurably different either
   * way: BENCHMARKS.md, "fourth look".) So after
   * `LONE_COMMITS_TO_GO_ALONE` shared commits in a row that carried one write or transaction each,
   * writes commit at once, as SQLite's autocommit would; every `PROBE_EVERY`th still waits, and the
   * first shared commit that carries more than one ends it.
   */
  #shares(): boolean {
    if (this.#loneCommits < LONE_COMMITS_TO_GO_ALONE) return true;
    return ++this.#aloneSince % PROBE_EVERY === 0;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new Handle(this);
  }

  async releaseConnection(): Promise<void> {}

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const handle = connection as Handle;
    // Checked again after every wait, with no await between the check and taking ownership.
    for (;;) {
      while (this.#owner) await this.#ownerEnded;
      const blocker = this.#batch ? null : this.#makeWay();
      if (!blocker) break;
      await blocker;
    }
    // A solo batch is only ever opened here and committed when its transaction ends, so one that
    // opens now holds this transaction alone.
    const bare = !this.#batch && !this.#shares();
    this.#open(bare);
    this.#own(handle);
    this.#bare = bare;
    if (bare) return;
    try {
      this.#run(`savepoint ${SAVEPOINT}`);
    } catch (error) {
      // Kysely does not roll back a transaction that failed to begin.
      this.#afterError(error);
      this.#disown();
      throw error;
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    this.#assertOwner(connection as Handle);
    const batch = this.#batch;
    try {
      if (!this.#bare) this.#run(`release ${SAVEPOINT}`);
      else if (!this.db.inTransaction) throw new Error('the transaction was rolled back by an earlier error');
      // Counted before `#disown` may commit it (a bare transaction's batch: always).
      if (batch) batch.units++;
    } catch (error) {
      this.#afterError(error);
      throw error;
    } finally {
      this.#disown();
    }
    if (!batch) throw new Error('the transaction was lost');
    return batch.settled;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // After a failed commit (the shared one): the savepoint was released, nothing is left to undo.
    if (this.#owner !== connection) return;
    if (this.#bare) return this.#rollbackBare();
    try {
      // After an error that ended the whole transaction there is no savepoint left to undo.
      if (this.db.inTransaction) {
        this.#run(`rollback to ${SAVEPOINT}`);
        this.#run(`release ${SAVEPOINT}`);
      }
    } finally {
      this.#disown();
    }
  }

  /**
   * Rolls back a transaction alone in its batch: the batch holds its writes only, so the whole
   * SQLite transaction goes (after an error that ended it, there is nothing left to undo). The
   * batch is dropped first, so `#disown` can never commit it, not even when `rollback` throws.
   */
  #rollbackBare(): void {
    const batch = this.#batch;
    this.#batch = null;
    try {
      if (this.db.inTransaction) this.#run('rollback');
    } finally {
      // Nobody waits on a bare transaction's batch but its own commit, which did not come.
      batch?.resolve();
      this.#disown();
    }
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    this.#assertOwner(connection as Handle);
    this.#run(`savepoint ${quoteName(name)}`);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    this.#assertOwner(connection as Handle);
    this.#run(`rollback to ${quoteName(name)}`);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    this.#assertOwner(connection as Handle);
    this.#run(`release ${quoteName(name)}`);
  }

  /**
   * Another connection of this process to the same file that holds the write lock would make SQLite
   * wait for it on this very thread (busy_timeout), where it can never finish. Its shared transaction
   * is committed now (always allowed: its callers hear after the commit either way); if one of its
   * transactions is open, the returned promise settles when that ends, to look again.
   */
  #makeWay(): Promise<void> | null {
    const others = this.file ? byFile.get(this.file) : undefined;
    if (!others || others.size < 2) return null;
    for (const other of others) {
      if (other === this) continue;
      if (other.#owner) return other.#ownerEnded;
      other.#commit();
    }
    return null;
  }

  async destroy(): Promise<void> {
    const others = this.file ? byFile.get(this.file) : undefined;
    others?.delete(this);
    if (others?.size === 0) byFile.delete(this.file!);
    // A transaction still open when the database closes is rolled back by SQLite, and with it the
    // shared one: its callers are told so rather than left waiting.
    if (!this.#owner) this.#commit();
    const batch = this.#batch;
    this.#batch = null;
    batch?.reject(new Error('the database was closed before this write was committed'));
    this.db.close();
  }

  async execute<R>(handle: Handle, query: CompiledQuery): Promise<QueryResult<R>> {
    while (this.#owner && this.#owner !== handle) await this.#ownerEnded;
    const { sql, parameters } = query;
    if (this.#owner === handle) {
      // Inside its own transaction: the statement's result is final for the caller there. If SQLite
      // ended the shared transaction (an earlier error), nothing may run outside it by mistake.
      if (!this.#manual && !this.db.inTransaction) throw new Error('the transaction was rolled back by an earlier error');
      if (this.#manual && END.test(sql)) {
        try {
          return this.#statement<R>(sql, parameters);
        } finally {
          if (!this.db.inTransaction) this.#disown();
        }
      }
      try {
        return this.#statement<R>(sql, parameters);
      } catch (error) {
        if (!this.#manual) this.#afterError(error);
        throw error;
      }
    }
    const control = CONTROL.test(sql);
    const statement = control ? null : this.db.prepare(sql);
    if (!this.#batch && (control || !statement!.readonly)) {
      const blocker = this.#makeWay();
      // Waited, then looked again from the start: another caller may have begun meanwhile.
      if (blocker) return blocker.then(() => this.execute<R>(handle, query));
    }
    if (!statement) {
      this.#commit();
      if (BEGIN.test(sql)) {
        const result = this.#statement<R>(sql, parameters);
        this.#own(handle);
        this.#manual = true;
        return result;
      }
      return this.#statement<R>(sql, parameters);
    }
    if (statement.readonly) {
      const batch = this.#batch;
      const result = this.#statement<R>(sql, parameters, statement);
      if (!batch) return result;
      await batch.settled;
      return result;
    }
    if (!this.#batch && !this.#shares()) {
      // Alone: the statement commits by itself (autocommit), as it would without this driver.
      const result = this.#statement<R>(sql, parameters, statement);
      this.stats.commits++;
      this.stats.units++;
      return result;
    }
    this.#open(false);
    const batch = this.#batch!;
    let result: QueryResult<R>;
    try {
      result = this.#statement<R>(sql, parameters, statement);
    } catch (error) {
      this.#afterError(error);
      throw error;
    }
    batch.units++;
    await batch.settled;
    return result;
  }

  /**
   * Opens the shared transaction if none is open, and commits it once this turn's work is done (a
   * solo one: when its transaction ends).
   */
  #open(solo: boolean): void {
    if (this.#batch) return;
    this.#run('begin immediate');
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const settled = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A caller that gives up (its own error) leaves others to observe the outcome.
    settled.catch(() => {});
    this.#batch = { solo, settled, resolve, reject, units: 0 };
    if (!solo && !this.#commitScheduled) {
      this.#commitScheduled = true;
      setImmediate(() => {
        this.#commitScheduled = false;
        // A transaction still open (waiting on something other than the database) keeps the shared
        // one open; it is committed when that transaction ends.
        if (!this.#owner) this.#commit();
      });
    }
  }

  #commit(): void {
    const batch = this.#batch;
    if (!batch) return;
    this.#batch = null;
    try {
      this.#run('commit');
    } catch (error) {
      try {
        if (this.db.inTransaction) this.#run('rollback');
      } catch {
        // The commit's error is the one to report.
      }
      batch.reject(error);
      return;
    }
    this.stats.commits++;
    this.stats.units += batch.units;
    if (!batch.solo) this.#loneCommits = batch.units <= 1 ? this.#loneCommits + 1 : 0;
    batch.resolve();
  }

  /** After a failed statement: if SQLite ended the whole transaction, every caller in it fails. */
  #afterError(error: unknown): void {
    const batch = this.#batch;
    if (batch && !this.db.inTransaction) {
      this.#batch = null;
      batch.reject(error);
    }
  }

  #own(handle: Handle): void {
    this.#owner = handle;
    this.#ownerEnded = new Promise((resolve) => {
      this.#endOwner = resolve;
    });
  }

  #disown(): void {
    const end = this.#endOwner;
    this.#owner = null;
    this.#manual = false;
    this.#bare = false;
    this.#ownerEnded = null;
    this.#endOwner = null;
    end?.();
    // A lone transaction commits as it ends; a shared one whose scheduled commit found this
    // transaction open (and so passed) commits now.
    if (this.#batch && (this.#batch.solo || !this.#commitScheduled)) this.#commit();
  }

  #assertOwner(handle: Handle): void {
    if (this.#owner !== handle) throw new Error('not inside this connection\'s transaction');
  }

  #run(sql: string): void {
    this.db.prepare(sql).run();
  }

  #statement<R>(sql: string, parameters: readonly unknown[], prepared?: BetterSqlite3.Statement): QueryResult<R> {
    const statement = prepared ?? this.db.prepare(sql);
    if (statement.reader) return { rows: statement.all(parameters) as R[] };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }
}

function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
