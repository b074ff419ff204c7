import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Pending ceremonies in one B-tree. Every sign-in writes a ceremony and deletes it: on SQLite the
 * table was a rowid table plus an index on its text key plus an index on `expires_at`, three pages
 * to write each time; keyed by `challenge_hash` WITHOUT ROWID and without the expiry index it is one
 * (`npm run bench`: about 45 µs of CPU less per sign-in). The expiry index served only the
 * once-a-minute purge, which now reads the table (pending ceremonies are few: consumed ones are
 * deleted, and creating them is rate limited). PostgreSQL keeps its table and drops the index.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') {
    await db.schema.dropIndex('ceremonies_expiry').execute();
    return;
  }
  await sql`create table ceremonies_lean (
    challenge_hash text primary key,
    kind text not null,
    account_id text,
    invitation_id text,
    created_at bigint not null,
    expires_at bigint not null
  ) without rowid`.execute(db);
  await sql`insert into ceremonies_lean (challenge_hash, kind, account_id, invitation_id, created_at, expires_at)
    select challenge_hash, kind, account_id, invitation_id, created_at, expires_at from ceremonies`.execute(db);
  await sql`drop table ceremonies`.execute(db);
  await sql`alter table ceremonies_lean rename to ceremonies`.execute(db);
}
