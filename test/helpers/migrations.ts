import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach } from 'vitest';
import { openDatabase, type Db } from '../../src/store/db.ts';
import { MIGRATIONS } from '../../src/store/migrate.ts';
import { freshDatabase, type Backend, type TestDatabase } from './db.ts';

/**
 * Brings a fresh database to the schema as it was before migration `version`: every earlier migration
 * applied and recorded, as `migrate` would have left it then. Tests of one migration fill that schema
 * and then call `migrate`.
 */
export async function migrateBefore(db: Db, version: number): Promise<void> {
  await db.kysely.transaction().execute(async (tx) => {
    if (db.dialect === 'postgres') await sql`create schema if not exists ${sql.id(db.schema)}`.execute(tx);
    await sql`create table schema_migrations (version integer primary key, name text not null, applied_at bigint not null)`.execute(tx);
    for (const m of MIGRATIONS.filter((m) => m.version < version)) {
      await m.up(tx as unknown as Kysely<unknown>, db.dialect);
      await sql`insert into schema_migrations (version, name, applied_at) values (${m.version}, ${m.name}, 0)`.execute(tx);
    }
  });
}

/**
 * For each test of the calling `describe`: a fresh database on `backend` with the schema as it was
 * before migration `version` (`migrateBefore`), handed to `opened` before the test; closed and
 * dropped after it. The migration tests' set-up, as `useFreshStore` is the store tests':
 *
 *   let db: Db;
 *   useDatabaseBefore(backend, 29, (opened) => (db = opened));
 */
export function useDatabaseBefore(backend: Backend, version: number, opened: (db: Db) => void): void {
  let database: TestDatabase | undefined;
  let db: Db | undefined;
  beforeEach(async () => {
    database = await freshDatabase(backend);
    db = openDatabase(database.url);
    await migrateBefore(db, version);
    opened(db);
  });
  afterEach(async () => {
    await db?.close();
    await database?.drop();
  });
}
