import { sql, type Kysely, type Selectable } from 'kysely';
import type { Account, AccountStatus, Role } from '../../core/model.ts';
import type { Dialect } from '../db.ts';
import type { AccountStore } from '../ports.ts';
import { prepared } from '../prepared.ts';
import { countLiveOfAccount, liveAt } from './sessions.ts';
import type { AccountsTable, Database } from '../schema.ts';

const byId = prepared((db, id: string) => db.selectFrom('accounts').selectAll().where('id', '=', id));
const statusForUpdate = prepared((db, id: string) => db.selectFrom('accounts').select('status').where('id', '=', id).forUpdate());
const statusOf = prepared((db, id: string) => db.selectFrom('accounts').select('status').where('id', '=', id));
const byUsername = prepared((db, username: string) => db.selectFrom('accounts').selectAll().where('username', '=', username));

export function toAccount(row: Selectable<AccountsTable>): Account {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    role: row.role as Role,
    status: row.status as AccountStatus,
    userHandle: row.user_handle,
    email: row.email,
    createdAt: Number(row.created_at),
    // Absent until the first sign-in, so an account reads back as it was created.
    ...(row.last_sign_in_at === null || row.last_sign_in_at === undefined ? {} : { lastSignInAt: Number(row.last_sign_in_at) }),
  };
}

/**
 * How precisely an account's last sign-in is kept. A sign-in within this long of the recorded one
 * leaves the account row alone, so a user who signs in again and again writes no page of `accounts`
 * each time; the audit trail keeps every sign-in to the millisecond (`keybound audit list --account`).
 * What reads the column (`accounts list`, the console, dormant administrators in the posture
 * figures) asks about days, not minutes.
 */
export const LAST_SIGN_IN_RESOLUTION_MS = 60 * 60 * 1000;

// Every sign-in runs these inside its transaction (services/signIn.ts): compiled once.
// SQLite: the sign-in's transaction already holds the database's one write lock (BEGIN IMMEDIATE),
// so reading the account there holds it; the live sessions are counted in the same statement.
const holdCounting = prepared((db, id: string, now: number) =>
  db
    .selectFrom('accounts')
    .select((eb) => [
      'last_sign_in_at',
      eb
        .selectFrom('sessions')
        .select(eb.fn.countAll<number>().as('n'))
        .where('sessions.account_id', '=', id)
        .where(liveAt(now))
        .as('live_sessions'),
    ])
    .where('id', '=', id)
    .where('status', '=', 'active'),
);
// PostgreSQL: the row lock an update would take (FOR NO KEY UPDATE: it waits for, and is waited on
// by, a status change; a session's foreign-key check does not wait for it). After a wait the row is
// read again, so a suspension committed meanwhile leaves no row.
const hold = prepared((db, id: string) => db.selectFrom('accounts').select('last_sign_in_at').where('id', '=', id).where('status', '=', 'active').forNoKeyUpdate());
const recordSignInAt = prepared((db, id: string, now: number) => db.updateTable('accounts').set({ last_sign_in_at: now }).where('id', '=', id));

/** A LIKE pattern that matches `text` anywhere, with LIKE's own characters taken literally. */
const containing = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class SqlAccountStore implements AccountStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async create(a: Account): Promise<boolean> {
    // ON CONFLICT DO NOTHING rather than catching the unique violation: on PostgreSQL an error aborts
    // the surrounding transaction, so a caller inside one could not go on after the expected `false`.
    const result = await this.db
      .insertInto('accounts')
      .values({
        id: a.id,
        username: a.username,
        display_name: a.displayName,
        role: a.role,
        status: a.status,
        user_handle: a.userHandle,
        email: a.email,
        created_at: a.createdAt,
        updated_at: a.createdAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows) === 1;
  }

  async findById(id: string): Promise<Account | undefined> {
    const [row] = (await byId(this.db, id)).rows;
    return row && toAccount(row);
  }

  async findByUsername(username: string): Promise<Account | undefined> {
    const [row] = (await byUsername(this.db, username)).rows;
    return row && toAccount(row);
  }

  async findByUserHandle(userHandle: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('user_handle', '=', userHandle).executeTakeFirst();
    return row && toAccount(row);
  }

  async list(): Promise<Account[]> {
    const rows = await this.db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('username').execute();
    return rows.map(toAccount);
  }

  async countActiveAdmins(): Promise<number> {
    const row = await this.db.selectFrom('accounts').select((eb) => eb.fn.countAll().as('n')).where('role', '=', 'admin').where('status', '=', 'active').executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('accounts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setStatus(id: string, status: AccountStatus, now: number): Promise<boolean> {
    const result = await this.db.updateTable('accounts').set({ status, updated_at: now }).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setRole(id: string, role: Role, now: number): Promise<boolean> {
    const result = await this.db.updateTable('accounts').set({ role, updated_at: now }).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async update(id: string, changes: { email?: string | null; displayName?: string }, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('accounts')
      .set({
        updated_at: now,
        ...(changes.email !== undefined ? { email: changes.email } : {}),
        ...(changes.displayName !== undefined ? { display_name: changes.displayName } : {}),
      })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recordSignIn(id: string, now: number): Promise<{ liveSessions: number } | null> {
    let last: number | bigint | null;
    let liveSessions: number;
    if (this.dialect === 'sqlite') {
      const [row] = (await holdCounting(this.db, id, now)).rows;
      if (!row) return null;
      last = row.last_sign_in_at;
      liveSessions = Number(row.live_sessions);
    } else {
      const [row] = (await hold(this.db, id)).rows;
      if (!row) return null;
      last = row.last_sign_in_at;
      // A second statement, after the lock: a subquery of the first would read its snapshot, taken
      // before the wait, and miss a session a racing sign-in of this account just committed.
      const [count] = (await countLiveOfAccount(this.db, id, now)).rows;
      liveSessions = Number(count?.n ?? 0);
    }
    if (last === null || now - Number(last) >= LAST_SIGN_IN_RESOLUTION_MS) await recordSignInAt(this.db, id, now);
    return { liveSessions };
  }

  async search(query: string, limit: number): Promise<Account[]> {
    const pattern = containing(query);
    const rows = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where((eb) =>
        eb.or([
          sql<boolean>`lower(username) like ${pattern} escape '\\'`,
          sql<boolean>`lower(display_name) like ${pattern} escape '\\'`,
          sql<boolean>`lower(coalesce(email, '')) like ${pattern} escape '\\'`,
        ]),
      )
      .orderBy('username')
      .limit(limit)
      .execute();
    return rows.map(toAccount);
  }

  async lock(id: string): Promise<AccountStatus | undefined> {
    // SQLite serialises writers already; PostgreSQL needs the row lock.
    const [row] = (await (this.dialect === 'postgres' ? statusForUpdate : statusOf)(this.db, id)).rows;
    return row?.status as AccountStatus | undefined;
  }
}
