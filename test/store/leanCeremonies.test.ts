/**
 * Migration 4 (lean ceremonies) on a database that already holds pending ceremonies: they survive
 * it, are consumed once, and expired ones are still purged, on SQLite and on PostgreSQL.
 */
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/store/db.ts';
import { createStore } from '../../src/store/index.ts';
import { MIGRATIONS, migrate } from '../../src/store/migrate.ts';
import { BACKENDS, freshDatabase, type TestDatabase } from '../helpers/db.ts';

describe.each(BACKENDS)('migration 4 on %s', (backend) => {
  let database: TestDatabase | undefined;
  let db: Db | undefined;
  afterEach(async () => {
    await db?.close();
    await database?.drop();
  });

  it('keeps pending ceremonies, which are then consumed once and purged when expired', async () => {
    database = await freshDatabase(backend);
    db = openDatabase(database.url);
    // The schema as it was before migration 4.
    await db.kysely.transaction().execute(async (tx) => {
      if (db!.dialect === 'postgres') {
        await sql`create schema if not exists ${sql.id(db!.schema)}`.execute(tx);
      }
      await sql`create table schema_migrations (version integer primary key, name text not null, applied_at bigint not null)`.execute(tx);
      for (const m of MIGRATIONS.filter((m) => m.version < 4)) {
        await m.up(tx as unknown as Kysely<unknown>, db!.dialect);
        await sql`insert into schema_migrations (version, name, applied_at) values (${m.version}, ${m.name}, 0)`.execute(tx);
      }
      await sql`insert into ceremonies (challenge_hash, kind, account_id, invitation_id, created_at, expires_at) values ('live', 'authentication', null, null, 1, 1000), ('old', 'authentication', null, null, 1, 10)`.execute(tx);
    });
    expect(await migrate(db)).toEqual(MIGRATIONS.filter((m) => m.version >= 4).map((m) => m.version));
    const store = createStore(db);
    expect(await store.ceremonies.purgeExpired(100)).toBe(1);
    expect(await store.ceremonies.consume('live')).toMatchObject({ challengeHash: 'live', kind: 'authentication', expiresAt: 1000 });
    expect(await store.ceremonies.consume('live')).toBeUndefined();
    await store.ceremonies.create({ challengeHash: 'new', kind: 'registration', accountId: null, invitationId: null, createdAt: 2, expiresAt: 2000 });
    expect(await store.ceremonies.consume('new')).toMatchObject({ challengeHash: 'new', kind: 'registration' });
  });
});
