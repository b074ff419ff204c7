/** Fresh databases for benchmark runs: SQLite files in a temporary folder, or PostgreSQL schemas. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface BenchDatabase {
  /** KEYBOUND_DATABASE_URL */
  readonly url: string;
  readonly description: string;
  drop(): Promise<void>;
}

let folder: string | null = null;
/** The run's temporary folder (made on first use). */
export function runFolder(): string {
  folder ??= mkdtempSync(join(tmpdir(), 'keybound-bench-'));
  return folder;
}
export function removeRunFolder(): void {
  if (folder) rmSync(folder, { recursive: true, force: true });
  folder = null;
}

let counter = 0;
export async function freshDatabase(input: { db: 'sqlite' | 'postgres'; postgresUrl: string; label: string; pool: number }): Promise<BenchDatabase> {
  if (input.db === 'sqlite') {
    const dir = join(runFolder(), `${input.label}-${++counter}`);
    const file = join(dir, 'keybound.db');
    return { url: `sqlite:${file}`, description: file, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `kb_bench_${randomBytes(5).toString('hex')}`;
  const separator = input.postgresUrl.includes('?') ? '&' : '?';
  return {
    url: `${input.postgresUrl}${separator}schema=${schema}&pool=${input.pool}`,
    description: `${input.postgresUrl} schema ${schema}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: input.postgresUrl });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

export function peerDatabasePath(label: string): string {
  return join(runFolder(), `${label}-${++counter}.db`);
}
