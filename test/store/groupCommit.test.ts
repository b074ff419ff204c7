/**
 * Group commit on SQLite (src/store/groupCommit.ts): writes that reach the database in the same turn
 * of the event loop share one commit. What a caller sees must not change: its write is committed
 * when its promise resolves, its failure and its rollback are its own, and a transaction never
 * takes in another caller's statements. A second connection to the same file (as the CLI or
 * another process would open) is the judge of what is committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GroupCommitDriver } from '../../src/store/groupCommit.ts';
import { openDatabase, type Db } from '../../src/store/db.ts';

describe('SQLite group commit', () => {
  let dir: string;
  let db: Db;
  let other: BetterSqlite3.Database;
  let driver: GroupCommitDriver;
  const committed = (): string[] => (other.prepare('select name from items order by name').all() as { name: string }[]).map((r) => r.name);
  const insert = (name: string) => sql`insert into items (name) values (${name})`.execute(db.kysely);
  /** Shared commits of one write each, four in a row: the driver takes the writer to be alone. */
  const goAlone = async () => {
    for (const name of ['a', 'b', 'c', 'd']) await insert(name);
  };
  /** The SQL the driver runs from now on: its connection's `prepare` sees every statement, cached or not. */
  const watch = () => {
    const connection = (driver as unknown as { db: { prepare(text: string): unknown } }).db;
    const spy = vi.spyOn(connection, 'prepare');
    return () => spy.mock.calls.map(([text]) => text);
  };
  /** Whether another connection (another process, the CLI) could take the write lock now. */
  const lockIsFree = (): boolean => {
    const writer = new BetterSqlite3(join(dir, 'keybound.db'), { timeout: 0 });
    try {
      writer.exec('begin immediate; rollback');
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
      throw error;
    } finally {
      writer.close();
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keybound-group-commit-'));
    const file = join(dir, 'keybound.db');
    db = openDatabase(`sqlite:${file}`);
    driver = db.sqliteDriver!;
    await sql`create table items (name text primary key)`.execute(db.kysely);
    await sql`create table parents (id integer primary key)`.execute(db.kysely);
    await sql`create table children (id integer primary key, parent integer references parents (id) deferrable initially deferred)`.execute(db.kysely);
    other = new BetterSqlite3(file, { readonly: true });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    other.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes of one turn share one commit, and each resolves only once it is committed', async () => {
    const before = { ...driver.stats };
    const seen: string[][] = [];
    await Promise.all(['a', 'b', 'c', 'd'].map(async (name) => {
      await insert(name);
      // The other connection sees only committed data: the write is there when its caller hears.
      seen.push(committed());
    }));
    expect(driver.stats.commits - before.commits).toBe(1);
    expect(driver.stats.units - before.units).toBe(4);
    for (const view of seen) expect(view).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a transaction resolves only once committed, sharing the commit with plain writes', async () => {
    const before = { ...driver.stats };
    let seenAfterCommit: string[] = [];
    await Promise.all([
      db.kysely.transaction().execute(async (tx) => {
        await sql`insert into items (name) values ('t1')`.execute(tx);
        await sql`insert into items (name) values ('t2')`.execute(tx);
      }).then(() => {
        seenAfterCommit = committed();
      }),
      insert('p'),
    ]);
    expect(driver.stats.commits - before.commits).toBe(1);
    expect(seenAfterCommit).toEqual(['p', 't1', 't2']);
  });

  it('a failed statement fails its caller only; the others in the commit are kept', async () => {
    await insert('taken');
    const outcomes = await Promise.allSettled([insert('x'), insert('taken'), insert('y')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(committed()).toEqual(['taken', 'x', 'y']);
  });

  it('a rolled-back transaction undoes its own writes only', async () => {
    const outcomes = await Promise.allSettled([
      insert('before'),
      db.kysely.transaction().execute(async (tx) => {
        await sql`insert into items (name) values ('undone')`.execute(tx);
        throw new Error('changed my mind');
      }),
      insert('after'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committed()).toEqual(['after', 'before']);
  });

  it('a statement of another caller waits for an open transaction and is never part of it', async () => {
    const order: string[] = [];
    const transaction = db.kysely.transaction().execute(async (tx) => {
      await sql`insert into items (name) values ('inside')`.execute(tx);
      // The transaction waits on something else while another request writes.
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('transaction ends');
      throw new Error('rolled back');
    });
    const outside = insert('outside').then(() => order.push('outside committed'));
    await expect(transaction).rejects.toThrow('rolled back');
    await outside;
    expect(order).toEqual(['transaction ends', 'outside committed']);
    expect(committed()).toEqual(['outside']);
  });

  it('when the shared commit fails, every caller in it gets the error and nothing is kept', async () => {
    // A deferred foreign key is checked at COMMIT: the one failure a commit can be made to have here.
    const outcomes = await Promise.allSettled([insert('innocent'), sql`insert into children (id, parent) values (1, 42)`.execute(db.kysely)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    for (const o of outcomes) expect(String((o as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(committed()).toEqual([]);
    // The connection is usable afterwards.
    await insert('later');
    expect(committed()).toEqual(['later']);
  });

  it('a read made while a shared commit is open answers after that commit', async () => {
    const write = insert('pending');
    const read = sql<{ name: string }>`select name from items`.execute(db.kysely).then((r) => ({ rows: r.rows.map((x) => x.name), committedThen: committed() }));
    await write;
    const { rows, committedThen } = await read;
    expect(rows).toEqual(['pending']);
    // What the read saw was committed before it was handed over.
    expect(committedThen).toEqual(['pending']);
  });

  it('two connections of one process to one file (two instances in a test) write without waiting on each other', async () => {
    const second = openDatabase(`sqlite:${join(dir, 'keybound.db')}`);
    try {
      // SQLite's busy handler would sleep this thread, where the lock holder can never commit; the
      // second connection has the first commit its shared transaction (or end its own) first.
      await Promise.all([
        insert('one-a'),
        sql`insert into items (name) values ('two-a')`.execute(second.kysely),
        db.kysely.transaction().execute(async (tx) => {
          await sql`insert into items (name) values ('one-t')`.execute(tx);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }),
        second.kysely.transaction().execute((tx) => sql`insert into items (name) values ('two-t')`.execute(tx)),
        insert('one-b'),
      ]);
      expect(committed()).toEqual(['one-a', 'one-b', 'one-t', 'two-a', 'two-t']);
    } finally {
      await second.close();
    }
  });

  it('a writer alone (one user, the CLI) commits at once once shared commits find no company, and shares again when company comes', async () => {
    // One write after another: each shared commit carries one.
    for (const name of ['a', 'b', 'c', 'd']) await insert(name);
    // Alone now: the next write is committed before the next turn of the event loop.
    const order: string[] = [];
    setImmediate(() => order.push('next turn'));
    await insert('e');
    order.push('e committed');
    expect(order).toEqual(['e committed']);
    expect(committed()).toContain('e');
    // So is a transaction, when it ends; a failure is still its caller's alone.
    await db.kysely.transaction().execute((tx) => sql`insert into items (name) values ('t')`.execute(tx));
    expect(committed()).toContain('t');
    await expect(insert('a')).rejects.toThrow(/UNIQUE/);
    // Company: of forty writes at once, some commit alone until one waits a turn; the rest share its commit.
    const before = driver.stats.commits;
    await Promise.all(Array.from({ length: 40 }, (_, i) => insert(`m${i}`)));
    expect(driver.stats.commits - before).toBeLessThan(40);
    expect(committed().filter((n) => n.startsWith('m'))).toHaveLength(40);
    // And from then on commits are shared again.
    const shared = driver.stats.commits;
    await Promise.all([insert('x'), insert('y'), insert('z')]);
    expect(driver.stats.commits - shared).toBe(1);
  });

  it('a transaction alone in its commit runs without a savepoint; one that shares a commit keeps its savepoint', async () => {
    // Not alone yet: the transaction shares the commit of a plain write, inside a savepoint.
    let statements = watch();
    await Promise.all([insert('p'), db.kysely.transaction().execute((tx) => sql`insert into items (name) values ('shared')`.execute(tx))]);
    expect(statements().filter((text) => /^(begin|savepoint|release|rollback|commit)\b/.test(text))).toEqual(['begin immediate', 'savepoint keybound_tx', 'release keybound_tx', 'commit']);
    vi.restoreAllMocks();
    await goAlone();
    statements = watch();
    const before = { ...driver.stats };
    await db.kysely.transaction().execute(async (tx) => {
      await sql`insert into items (name) values ('t1')`.execute(tx);
      await sql`insert into items (name) values ('t2')`.execute(tx);
    });
    // Its own SQLite transaction, nothing more: the savepoint would be the whole of it.
    expect(statements()).toEqual(['begin immediate', 'insert into items (name) values (\'t1\')', 'insert into items (name) values (\'t2\')', 'commit']);
    expect(driver.stats.commits - before.commits).toBe(1);
    expect(driver.stats.units - before.units).toBe(1);
    expect(committed()).toEqual(['a', 'b', 'c', 'd', 'p', 'shared', 't1', 't2']);
    expect(lockIsFree()).toBe(true);
  });

  it('a lone transaction rolled back leaves nothing behind: no writes, no lock, no savepoint', async () => {
    await goAlone();
    const statements = watch();
    let seenInside: string[] = [];
    await expect(
      db.kysely.transaction().execute(async (tx) => {
        await sql`insert into items (name) values ('gone1')`.execute(tx);
        await sql`insert into items (name) values ('gone2')`.execute(tx);
        seenInside = committed();
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(seenInside).toEqual(['a', 'b', 'c', 'd']);
    expect(statements().filter((text) => !text.startsWith('insert'))).toEqual(['begin immediate', 'rollback']);
    expect(committed()).toEqual(['a', 'b', 'c', 'd']);
    expect(lockIsFree()).toBe(true);
    // The connection goes on as before.
    await insert('e');
    expect(committed()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  for (const alone of [true, false]) {
    it(`a savepoint inside a transaction ${alone ? 'alone' : 'that shares its commit'} rolls back its own part only`, async () => {
      if (alone) await goAlone();
      const statements = watch();
      const trx = await db.kysely.startTransaction().execute();
      await sql`insert into items (name) values ('kept')`.execute(trx);
      const inner = await trx.savepoint('inner').execute();
      await sql`insert into items (name) values ('undone')`.execute(inner);
      const back = await inner.rollbackToSavepoint('inner').execute();
      const released = await back.releaseSavepoint('inner').execute();
      await sql`insert into items (name) values ('also kept')`.execute(released);
      const plain = alone ? Promise.resolve() : insert('outside');
      await released.commit().execute();
      await plain;
      expect(statements().includes('savepoint keybound_tx')).toBe(!alone);
      expect(committed()).toEqual(alone ? ['a', 'also kept', 'b', 'c', 'd', 'kept'] : ['also kept', 'kept', 'outside']);
    });
  }

  it('a lone transaction: a failed statement is its own, an error that ends the transaction ends it, a failed commit keeps nothing', async () => {
    await goAlone();
    await sql`create trigger doom before insert on items when new.name = 'doom' begin select raise(rollback, 'doomed'); end`.execute(db.kysely);
    const statements = watch();
    // SQLite undoes the failed statement alone; the transaction goes on and commits the rest.
    await db.kysely.transaction().execute(async (tx) => {
      await sql`insert into items (name) values ('t1')`.execute(tx);
      await expect(sql`insert into items (name) values ('a')`.execute(tx)).rejects.toThrow(/UNIQUE/);
      await sql`insert into items (name) values ('t2')`.execute(tx);
    });
    expect(committed()).toEqual(['a', 'b', 'c', 'd', 't1', 't2']);
    // RAISE(ROLLBACK) ends the whole SQLite transaction: nothing of it is kept, nothing more runs in it,
    // and the transaction cannot be committed as if it had not happened.
    await expect(
      db.kysely.transaction().execute(async (tx) => {
        await sql`insert into items (name) values ('lost')`.execute(tx);
        await expect(sql`insert into items (name) values ('doom')`.execute(tx)).rejects.toThrow('doomed');
        await expect(sql`insert into items (name) values ('later')`.execute(tx)).rejects.toThrow(/rolled back by an earlier error/);
      }),
    ).rejects.toThrow(/rolled back by an earlier error/);
    await expect(db.kysely.transaction().execute((tx) => sql`insert into items (name) values ('doom')`.execute(tx))).rejects.toThrow('doomed');
    expect(committed()).toEqual(['a', 'b', 'c', 'd', 't1', 't2']);
    expect(lockIsFree()).toBe(true);
    // A deferred foreign key fails the commit itself: the transaction is rolled back, its caller told.
    await expect(
      db.kysely.transaction().execute(async (tx) => {
        await sql`insert into items (name) values ('orphan maker')`.execute(tx);
        await sql`insert into children (id, parent) values (1, 42)`.execute(tx);
      }),
    ).rejects.toThrow(/FOREIGN KEY/);
    expect(committed()).toEqual(['a', 'b', 'c', 'd', 't1', 't2']);
    expect(lockIsFree()).toBe(true);
    expect(statements().includes('savepoint keybound_tx')).toBe(false);
    await insert('e');
    expect(committed()).toEqual(['a', 'b', 'c', 'd', 'e', 't1', 't2']);
  });

  it('closing the database while a lone transaction is open keeps nothing of it and fails it', async () => {
    await goAlone();
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let began!: () => void;
    const inside = new Promise<void>((resolve) => {
      began = resolve;
    });
    const transaction = db.kysely.transaction().execute(async (tx) => {
      await sql`insert into items (name) values ('open')`.execute(tx);
      began();
      await paused;
      await sql`insert into items (name) values ('after close')`.execute(tx);
    });
    await inside;
    await db.close();
    resume();
    await expect(transaction).rejects.toThrow();
    const reopened = new BetterSqlite3(join(dir, 'keybound.db'), { readonly: true });
    expect(reopened.prepare('select name from items order by name').all()).toEqual(['a', 'b', 'c', 'd'].map((name) => ({ name })));
    reopened.close();
    db = openDatabase(`sqlite:${join(dir, 'keybound.db')}`);
  });

  it('closing commits what is pending', async () => {
    const write = insert('last');
    // Enough microtask turns for the statement to run, none for the commit (the next macrotask).
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(committed()).toEqual([]);
    await db.close();
    await write;
    const reopened = new BetterSqlite3(join(dir, 'keybound.db'), { readonly: true });
    expect(reopened.prepare('select name from items').all()).toEqual([{ name: 'last' }]);
    reopened.close();
    db = openDatabase(`sqlite:${join(dir, 'keybound.db')}`);
  });
});
