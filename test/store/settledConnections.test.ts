/**
 * A PostgreSQL connection whose last statement got no answer is never reused (src/store/db.ts,
 * SettledPool). Found by the database-fault test (test/reliability/dbFaults.test.ts): while
 * PostgreSQL was frozen, a transaction's BEGIN hit the client's read timeout; it ran once PostgreSQL
 * thawed, the connection went back to the pool as if idle, and the next request's write (a sign-in
 * challenge, answered 200) landed in a transaction nobody committed. The verify step, on another
 * connection, then found no such challenge.
 *
 * The freeze is played here by a loopback TCP proxy that holds PostgreSQL's answers until told to
 * let them through: the same bytes, in the same order, only late.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/store/db.ts';
import { freshDatabase, POSTGRES_URL, type TestDatabase } from '../helpers/db.ts';

/** Passes bytes both ways; `hold()` keeps PostgreSQL's answers back until `release()`. */
async function startHoldingProxy(upstream: URL): Promise<{ port: number; hold(): void; release(): void; close(): Promise<void> }> {
  let holding = false;
  const held: { socket: Socket; chunk: Buffer }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const backend = connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(client).add(backend);
    client.on('data', (chunk) => backend.write(chunk));
    backend.on('data', (chunk) => (holding ? held.push({ socket: client, chunk }) : client.write(chunk)));
    const end = () => {
      client.destroy();
      backend.destroy();
    };
    client.on('close', end).on('error', end);
    backend.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const { socket, chunk } of held.splice(0)) socket.write(chunk);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function countRows(schema: string): Promise<number> {
  const other = new pg.Client({ connectionString: POSTGRES_URL });
  await other.connect();
  try {
    const { rows } = await other.query(`select count(*)::int as n from ${schema}.probe`);
    return rows[0].n;
  } finally {
    await other.end();
  }
}

describe('PostgreSQL connections left in an unknown state', () => {
  let database: TestDatabase | undefined;
  let db: Db | undefined;
  let proxy: Awaited<ReturnType<typeof startHoldingProxy>> | undefined;
  afterEach(async () => {
    await db?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('a transaction whose BEGIN timed out does not swallow the next write on that connection', async () => {
    database = await freshDatabase('postgres');
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema ${database.schema}; create table ${database.schema}.probe (id text)`);
    await admin.end();

    const upstream = new URL(POSTGRES_URL);
    proxy = await startHoldingProxy(upstream);
    const viaProxy = new URL(POSTGRES_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    viaProxy.searchParams.set('schema', database.schema!);
    // One connection, so the write after the timeout is offered exactly the connection that timed out.
    viaProxy.searchParams.set('pool', '1');
    db = openDatabase(viaProxy.toString(), { statementTimeoutMs: 100 });
    await sql`select 1`.execute(db.kysely);

    proxy.hold();
    const begun = db.kysely.transaction().execute((tx) => sql`insert into probe (id) values ('never')`.execute(tx));
    await expect(begun).rejects.toThrow(/read timeout/i);
    // PostgreSQL "thaws": the BEGIN it ran arrives late.
    proxy.release();

    await sql`insert into probe (id) values ('acknowledged')`.execute(db.kysely);
    // Another connection sees the acknowledged write: it was committed, not parked in a stray transaction.
    expect(await countRows(database.schema!)).toBe(1);
  });
});
