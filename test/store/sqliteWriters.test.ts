/**
 * SQLite shared by two processes (the server and the CLI, or a second server): a transaction that
 * reads and then writes must not fail because the other one committed in between. Found by the crash
 * test (test/reliability/crash.test.ts), whose load answered 500 and 503 on SQLite while the test
 * process invited more accounts into the same file: Kysely begins transactions DEFERRED, and in WAL
 * mode the write of a transaction whose snapshot is stale fails at once with SQLITE_BUSY_SNAPSHOT.
 * Keybound begins them IMMEDIATE (src/store/groupCommit.ts), so the transaction waits for the write
 * lock and reads current data.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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

  it('another process (the CLI) gets its writes in while this one shares commits under load', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keybound-writers-'));
    const file = join(dir, 'keybound.db');
    db = openDatabase(`sqlite:${file}`);
    await sql`create table items (id integer primary key, who text not null)`.execute(db.kysely);
    // The server: 16 requests in flight, each computing (as a handler does: parsing, signatures)
    // and writing. The shared transaction opens at the first write of a turn and commits at its
    // end, so it is open, and SQLite's write lock held, while the other requests compute.
    let stop = false;
    let serverWrites = 0;
    // Where each request's computation goes, so that it is not optimised away.
    let sink = 0;
    const load = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (!stop) {
          let spin = 0;
          for (let i = 0; i < 20_000; i++) spin = (spin * 31 + i) | 0;
          sink ^= spin;
          await sql`insert into items (who) values ('server')`.execute(db!.kysely);
          serverWrites++;
        }
      }),
    );
    // The CLI: its own process and connection (busy timeout 5 s), 30 writes one after another, each
    // opening the database anew as each CLI command does. It does meet the lock: with a busy timeout
    // of 0 its writes failed with SQLITE_BUSY (two runs of two); with Keybound's each took 1-25 ms.
    const cli = `
      import { sql } from 'kysely';
      import { openDatabase } from ${JSON.stringify(join(import.meta.dirname, '../../src/store/db.ts'))};
      for (let i = 0; i < 30; i++) {
        const db = openDatabase(${JSON.stringify(`sqlite:${file}`)});
        await sql\`insert into items (who) values ('cli')\`.execute(db.kysely);
        await db.close();
      }`;
    try {
      await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', cli], { timeout: 120_000 });
    } finally {
      stop = true;
      await load;
    }
    const counts = Object.fromEntries((await sql<{ who: string; n: number }>`select who, count(*) as n from items group by who`.execute(db.kysely)).rows.map((r) => [r.who, Number(r.n)]));
    // Every CLI write is in, and the server kept writing meanwhile (it was under load throughout).
    expect(counts.cli).toBe(30);
    expect(counts.server).toBe(serverWrites);
    expect(serverWrites).toBeGreaterThan(30);
  });

  it('processes opening one new file at the same moment all get it in WAL (instances starting together)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keybound-open-'));
    const folder = dir;
    // Each child opens the file named on each line it reads, the way `keybound serve` opens its
    // database, and answers with the journal mode it got (or the error).
    const script = `
      const { openDatabase } = await import(process.env.KB_DB_MODULE);
      const { sql } = await import('kysely');
      process.stdout.write('ready\\n');
      for await (const line of (await import('node:readline')).createInterface({ input: process.stdin })) {
        try {
          const db = openDatabase('sqlite:' + line);
          const { rows } = await sql\`pragma journal_mode\`.execute(db.kysely);
          await db.close();
          process.stdout.write(rows[0].journal_mode + '\\n');
        } catch (error) {
          process.stdout.write('error ' + error.code + '\\n');
        }
      }
    `;
    const env = { ...process.env, KB_DB_MODULE: new URL('../../src/store/db.ts', import.meta.url).href };
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const children = Array.from({ length: 6 }, () => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd, env, stdio: ['pipe', 'pipe', 'inherit'] }));
    try {
      const lines = children.map((child) => {
        const queue: string[] = [];
        const waiting: ((line: string) => void)[] = [];
        let buffered = '';
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
            const line = buffered.slice(0, i);
            buffered = buffered.slice(i + 1);
            const next = waiting.shift();
            if (next) next(line);
            else queue.push(line);
          }
        });
        return () => new Promise<string>((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiting.push(resolve)));
      });
      expect(await Promise.all(lines.map((next) => next()))).toEqual(children.map(() => 'ready'));
      for (let round = 0; round < 8; round++) {
        const file = join(folder, `new-${round}.db`);
        for (const child of children) child.stdin.write(`${file}\n`);
        expect(await Promise.all(lines.map((next) => next()))).toEqual(children.map(() => 'wal'));
      }
    } finally {
      for (const child of children) child.kill();
    }
  });

  it('busy and locked codes, extended ones too, are "unavailable" (503), never a 500', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED', 'SQLITE_LOCKED_SHAREDCACHE']) {
      expect(isDatabaseUnavailable({ code })).toBe(true);
    }
    expect(isDatabaseUnavailable({ code: 'SQLITE_CONSTRAINT_UNIQUE' })).toBe(false);
  });
});
