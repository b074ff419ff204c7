import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];

/** The PostgreSQL the tests use (trust auth on loopback); each run gets a schema of its own. */
export const POSTGRES_URL = process.env.KEYBOUND_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly url: string;
  readonly backend: Backend;
  /** PostgreSQL schema name, for tests that reach into it. */
  readonly schema?: string;
  drop(): Promise<void>;
}

/** A new, empty database: a SQLite file in a temporary folder, or a fresh PostgreSQL schema. */
export async function freshDatabase(backend: Backend): Promise<TestDatabase> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keybound-test-'));
    return { backend, url: `sqlite:${join(dir, 'keybound.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `kb_test_${randomBytes(6).toString('hex')}`;
  return {
    backend,
    schema,
    url: `${POSTGRES_URL}?schema=${schema}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}
