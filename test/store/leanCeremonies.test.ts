/**
 * Migration 4 (lean ceremonies) on a database that already holds pending ceremonies: they survive
 * it, are consumed once, and expired ones are still purged, on SQLite and on PostgreSQL.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { createStore } from '../../src/store/index.ts';
import { MIGRATIONS, migrate } from '../../src/store/migrate.ts';
import { BACKENDS } from '../helpers/db.ts';
import { useDatabaseBefore } from '../helpers/migrations.ts';

describe.each(BACKENDS)('migration 4 on %s', (backend) => {
  // The schema as it was before migration 4.
  let db: Db;
  useDatabaseBefore(backend, 4, (opened) => (db = opened));

  it('keeps pending ceremonies, which are then consumed once and purged when expired', async () => {
    await sql`insert into ceremonies (challenge_hash, kind, account_id, invitation_id, created_at, expires_at) values ('live', 'authentication', null, null, 1, 1000), ('old', 'authentication', null, null, 1, 10)`.execute(db.kysely);
    expect(await migrate(db)).toEqual(MIGRATIONS.filter((m) => m.version >= 4).map((m) => m.version));
    const store = createStore(db);
    expect(await store.ceremonies.purgeExpired(100)).toBe(1);
    expect(await store.ceremonies.consume('live')).toMatchObject({ challengeHash: 'live', kind: 'authentication', expiresAt: 1000 });
    expect(await store.ceremonies.consume('live')).toBeUndefined();
    await store.ceremonies.create({ challengeHash: 'new', kind: 'registration', accountId: null, invitationId: null, createdAt: 2, expiresAt: 2000 });
    expect(await store.ceremonies.consume('new')).toMatchObject({ challengeHash: 'new', kind: 'registration' });
  });
});
