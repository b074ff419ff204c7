/**
 * OWASP ASVS 5.0 13.2.2: the server's database account needs no right to change the schema.
 * With KEYBOUND_MIGRATE_ON_START=false, `serve` and the CLI only check that the schema is current;
 * `keybound migrate` (run by the owner) applies migrations. Real processes, SQLite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATA_KEYS } from '../helpers/constants.ts';
import { freshDatabase, POSTGRES_URL, type TestDatabase } from '../helpers/db.ts';
import { freePort, runCli, startServer, type ServerProcess } from '../helpers/server.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function envFor(databaseUrl: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const port = await freePort();
  return {
    KEYBOUND_DATABASE_URL: databaseUrl,
    KEYBOUND_DATA_KEYS: TEST_DATA_KEYS,
    KEYBOUND_PORT: String(port),
    KEYBOUND_ORIGIN: `http://localhost:${port}`,
    KEYBOUND_METRICS_PORT: '0',
    KEYBOUND_LOG_LEVEL: 'warn',
    ...extra,
  };
}

async function postgres(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('ASVS 13.2.2: KEYBOUND_MIGRATE_ON_START', () => {
  it('ASVS 13.2.2: off, serve and the CLI refuse a schema that is behind with one line naming `keybound migrate`; after it, serve starts', async () => {
    const database = await freshDatabase('sqlite');
    cleanups.push(() => database.drop());
    const env = await envFor(database.url, { KEYBOUND_MIGRATE_ON_START: 'false' });

    for (const args of [['serve'], ['accounts', 'list']]) {
      const refused = await runCli(args, { env });
      expect(refused.code, `${args.join(' ')}: ${refused.stdout}${refused.stderr}`).toBe(1);
      expect(refused.stderr).toMatch(/the schema is at version 0, and this Keybound needs \d+\. KEYBOUND_MIGRATE_ON_START is false, so run `npx keybound migrate`/);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
    }

    const migrated = await runCli(['migrate'], { env });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/^Applied migrations 1, /);

    const server = await startServer({ databaseUrl: database.url, env: { KEYBOUND_MIGRATE_ON_START: 'false' } });
    cleanups.push(() => server.stop({ keepDatabase: true }));
    expect(server.output()).not.toMatch(/database migrated/);
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
    await server.stop({ keepDatabase: true });
  });

  it('ASVS 13.2.2: on PostgreSQL the server runs as an account without DDL rights once the owner has migrated; with migrations on, that account cannot start it', async () => {
    const database: TestDatabase = await freshDatabase('postgres');
    const role = `kb_runtime_${randomBytes(4).toString('hex')}`;
    cleanups.push(async () => {
      await database.drop();
      await postgres(`drop owned by ${role}; drop role if exists ${role}`);
    });
    const owner = await runCli(['migrate'], { env: await envFor(database.url) });
    expect(owner.code, owner.stderr).toBe(0);

    // Data rights only: no CREATE on the schema or the database.
    await postgres(
      `create role ${role} login;
       grant usage on schema ${database.schema} to ${role};
       grant select, insert, update, delete on all tables in schema ${database.schema} to ${role};
       grant usage, select on all sequences in schema ${database.schema} to ${role};`,
    );
    const runtimeUrl = `${new URL(POSTGRES_URL).protocol}//${role}@${new URL(POSTGRES_URL).host}${new URL(POSTGRES_URL).pathname}?schema=${database.schema}`;

    const migrating = await runCli(['serve'], { env: await envFor(runtimeUrl), timeoutMs: 60_000 });
    expect(migrating.code).not.toBe(0);
    expect(`${migrating.stdout}${migrating.stderr}`).toMatch(/permission denied/);

    let server: ServerProcess | undefined;
    try {
      server = await startServer({ databaseUrl: runtimeUrl, env: { KEYBOUND_MIGRATE_ON_START: 'false' } });
      expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
      // It writes as it runs (the first administrator, signing keys, the audit trail) and the CLI can too.
      const invited = await server.cliJson<{ account: { username: string } }>(['invite', 'alice', '--json']);
      expect(invited.account.username).toBe('alice');
      const discovery = await fetch(`${server.baseUrl}/oidc/.well-known/openid-configuration`);
      expect(discovery.status).toBe(200);
    } finally {
      await server?.stop({ keepDatabase: true });
    }
  });
});
