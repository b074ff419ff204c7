/**
 * SQLite WAL checkpoints from a worker thread (src/store/checkpointer.ts), as the server opens its
 * database. With the worker, the server's own connection checkpoints only past a 10,000-page backstop,
 * so a WAL that gets reset after a few thousand commits was checkpointed by the worker. Never timed:
 * the tests poll with a bounded wait.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { openStore, openStoreWhenReachable } from '../../src/runtime.ts';
import { startCheckpointer } from '../../src/store/checkpointer.ts';
import { openDatabase, type Db } from '../../src/store/db.ts';
import { TEST_DATA_KEYS } from '../helpers/constants.ts';

const WRITES = 3000;

/**
 * The WAL header's checkpoint sequence number (big-endian, bytes 12 to 15; SQLite file format 4.1):
 * it changes each time a writer starts the WAL over, which it does only after a checkpoint copied
 * every frame into the database file.
 */
function walSequence(file: string): number {
  const fd = openSync(`${file}-wal`, 'r');
  try {
    const header = Buffer.alloc(16);
    readSync(fd, header, 0, 16, 0);
    return header.readUInt32BE(12);
  } finally {
    closeSync(fd);
  }
}

async function autocheckpoint(db: Db): Promise<unknown> {
  const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db.kysely);
  return rows[0]?.wal_autocheckpoint;
}

/** Small commits, one row each, as sign-ins make them. */
async function write(db: Db, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) await sql`insert into events (n, body) values (${i}, ${`event ${i}`})`.execute(db.kysely);
}

describe('background WAL checkpoints (SQLite file)', () => {
  let dir = '';
  let db: Db | undefined;
  let other: BetterSqlite3.Database | undefined;
  const file = () => join(dir, 'keybound.db');
  const open = (options: Parameters<typeof openDatabase>[1]) => {
    dir = mkdtempSync(join(tmpdir(), 'keybound-checkpoints-'));
    db = openDatabase(`sqlite:${file()}`, options);
    return db;
  };
  afterEach(async () => {
    other?.close();
    other = undefined;
    await db?.close();
    db = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  it('the worker checkpoints the WAL, not the commits; the data reads back from another connection', async () => {
    const server = open({ backgroundCheckpoints: {} });
    expect(await autocheckpoint(server)).toBe(10_000);
    await sql`create table events (n integer primary key, body text not null)`.execute(server.kysely);
    await sql`create index events_body on events (body)`.execute(server.kysely);
    await write(server, 0, WRITES);
    const before = walSequence(file());
    // One more commit at a time until one starts the WAL over: it can only once the worker copied it all.
    let written = WRITES;
    const deadline = Date.now() + 15_000;
    while (walSequence(file()) === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await write(server, written++, 1);
    }
    expect(walSequence(file())).not.toBe(before);

    other = new BetterSqlite3(file(), { readonly: true });
    expect(other.prepare('select count(*) as c, sum(n) as s from events').get()).toEqual({ c: written, s: (written * (written - 1)) / 2 });
    expect(other.prepare('pragma integrity_check').get()).toEqual({ integrity_check: 'ok' });
    other.close();
    other = undefined;

    // Closing waits for the worker to close its connection and end, so the server's connection is the
    // last one and, as without the worker, checkpoints and removes the WAL.
    db = undefined;
    await server.close();
    expect(existsSync(`${file()}-wal`)).toBe(false);
  });

  it('without the option (CLI commands) SQLite checkpoints by itself every 1000 pages, as before', async () => {
    const db = open({});
    expect(await autocheckpoint(db)).toBe(1000);
  });

  it('the server opens its store with them (serve), a CLI command without', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keybound-checkpoints-'));
    const config = loadConfig({ KEYBOUND_DATABASE_URL: `sqlite:${file()}`, KEYBOUND_DATA_KEYS: TEST_DATA_KEYS });
    const cli = await openStore(config, { migrate: true });
    expect(await autocheckpoint(cli.db)).toBe(1000);
    await cli.db.close();
    db = (await openStoreWhenReachable(config, () => undefined)).db;
    expect(await autocheckpoint(db)).toBe(10_000);
  });

  it('in memory the option is ignored', async () => {
    db = openDatabase('sqlite::memory:', { backgroundCheckpoints: {} });
    expect(await autocheckpoint(db)).toBe(1000);
  });

  it('stops when the database closes: the worker closes its connection and ends', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keybound-checkpoints-'));
    new BetterSqlite3(file()).pragma('journal_mode = WAL');
    const errors: Error[] = [];
    const checkpointer = startCheckpointer(file(), { intervalMs: 10, onError: (error) => errors.push(error) });
    const code = await checkpointer.stop();
    // 0: the worker left by itself after closing its connection (terminate would give 1).
    expect(code).toBe(0);
    expect(errors).toEqual([]);
    // Stopping twice is one stop.
    expect(await checkpointer.stop()).toBe(0);
  });

  it('a worker that fails reports once and does not throw in the server', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keybound-checkpoints-'));
    const errors: Error[] = [];
    // No such file: the worker's connection cannot open (it never creates one).
    const checkpointer = startCheckpointer(join(dir, 'missing.db'), { onError: (error) => errors.push(error) });
    await checkpointer.stop();
    expect(errors).toHaveLength(1);
  });

  it('never keeps a process alive: one that opens the database and does not close it still exits', () => {
    dir = mkdtempSync(join(tmpdir(), 'keybound-checkpoints-'));
    const dbModule = fileURLToPath(new URL('../../src/store/db.ts', import.meta.url));
    const script = [
      `const { openDatabase } = await import(${JSON.stringify(dbModule)});`,
      `const db = openDatabase(${JSON.stringify(`sqlite:${file()}`)}, { backgroundCheckpoints: {} });`,
      `db.kysely.selectNoFrom((eb) => eb.lit(1).as('one')).execute().then(() => console.log('opened'));`,
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('opened\n');
    expect(child.status).toBe(0);
  });
});
