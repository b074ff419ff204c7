/**
 * `/healthz` says the process is alive; `/readyz` says the database answers and its schema is the
 * one this server was built for (issue 5). The database-down cases run against real processes in
 * dbFaults.test.ts; here, a schema that is behind or ahead of the server.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/store/db.ts';
import { LATEST_VERSION } from '../../src/store/migrate.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { record } from './support/report.ts';

describe('health and readiness', () => {
  let t: TestApp;
  let db: Db;
  beforeAll(async () => {
    t = await startTestApp();
    db = openDatabase(t.database.url);
  });
  afterAll(async () => {
    await db?.close();
    await t?.close();
  });

  it('is not ready while the schema is behind or ahead of the server, and says why', async ({ task }) => {
    const ready = async () => {
      const response = await t.get('/readyz');
      return { status: response.statusCode, body: response.json(), retryAfter: response.headers['retry-after'] };
    };
    expect(await ready()).toMatchObject({ status: 200, body: { status: 'ready' } });
    // Behind: the last migration is missing (a server started before `keybound migrate` ran).
    const { rows } = await sql<{ name: string; applied_at: number }>`select name, applied_at from schema_migrations where version = ${LATEST_VERSION}`.execute(db.kysely);
    await sql`delete from schema_migrations where version = ${LATEST_VERSION}`.execute(db.kysely);
    const behind = await ready();
    expect(behind).toMatchObject({ status: 503, body: { error: 'service_unavailable' } });
    expect(behind.body.message).toContain(String(LATEST_VERSION));
    expect(Number(behind.retryAfter)).toBeGreaterThan(0);
    await sql`insert into schema_migrations (version, name, applied_at) values (${LATEST_VERSION}, ${rows[0]!.name}, ${rows[0]!.applied_at})`.execute(db.kysely);
    // Ahead: a newer server migrated the database; this one must not serve a schema it does not know.
    await sql`insert into schema_migrations (version, name, applied_at) values (${LATEST_VERSION + 1}, 'from the future', 0)`.execute(db.kysely);
    expect(await ready()).toMatchObject({ status: 503, body: { error: 'service_unavailable' } });
    await sql`delete from schema_migrations where version = ${LATEST_VERSION + 1}`.execute(db.kysely);
    expect(await ready()).toMatchObject({ status: 200 });
    // Liveness does not depend on the database.
    expect((await t.get('/healthz')).json()).toEqual({ status: 'ok' });
    record(task, { requests: 5 });
  });
});
