/**
 * SQLite shared by two processes (the server and the CLI, or a second server): a transaction that
 * reads and then writes must not fail because the other one committed in between. Found by the crash
 * test (test/reliability/crash.test.ts), whose load answered 500 and 503 on SQLite while the test
 * process invited more accounts into the same file: Kysely begins transactions DEFERRED, and in WAL
 * mode the write of a transaction whose snapshot is stale fails at once with SQLITE_BUSY_SNAPSHOT.
 * Keybound begins them IMMEDIATE (src/store/groupCommit.ts), so the transaction waits for the write
 * lock and reads current data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, openDatabase, type Db } from '../../src/store/db.ts';

describe('SQLite with another writer on the same file', () => {
  let dir: string | undefined;
  let db: Db | undefined;
  let other: BetterSqlite3.Database | undefined;
  afterEach(async () => {
    other?.close();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a transaction that reads, then writes, commits even when another connection writes in between', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keybound-writers-'));
    const file = join(dir, 'keybound.db');
    db = openDatabase(`sqlite:${file}`);
    await sql`create table counter (n integer not null)`.execute(db.kysely);
    await sql`insert into counter (n) values (0)`.execute(db.kysely);
    // The other process: no waiting, so it either writes at once or reports the lock it met.
    other = new BetterSqlite3(file);
    other.pragma('busy_timeout = 0');
    let otherOutcome = '';
    await db.kysely.transaction().execute(async (tx) => {
      await sql`select n from counter`.execute(tx);
      try {
        other!.prepare('update counter set n = n + 100').run();
        otherOutcome = 'wrote';
      } catch (error) {
        otherOutcome = (error as { code?: string }).code ?? 'error';
      }
      await sql`update counter set n = n + 1`.execute(tx);
    });
    // The transaction held the write lock from its start: the other writer met it and wrote nothing.
    expect(otherOutcome).toBe('SQLITE_BUSY');
    expect(other.prepare('select n from counter').get()).toEqual({ n: 1 });
  });

  it('busy and locked codes, extended ones too, are "unavailable" (503), never a 500', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED', 'SQLITE_LOCKED_SHAREDCACHE']) {
      expect(isDatabaseUnavailable({ code })).toBe(true);
    }
    expect(isDatabaseUnavailable({ code: 'SQLITE_CONSTRAINT_UNIQUE' })).toBe(false);
  });
});
