import { afterEach, beforeEach } from 'vitest';
import { openDatabase, type Db } from '../../src/store/db.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { migrate } from '../../src/store/migrate.ts';
import { freshDatabase, type Backend, type TestDatabase } from './db.ts';

export interface FreshStore {
  readonly database: TestDatabase;
  readonly db: Db;
  readonly store: Store;
}

/**
 * For each test of the calling `describe`: a fresh, migrated database on `backend` and a store over
 * it, handed to `opened` before the test; closed and dropped after it. The store contract tests'
 * common set-up:
 *
 *   let store: Store;
 *   useFreshStore(backend, (fresh) => ({ store } = fresh));
 */
export function useFreshStore(backend: Backend, opened: (fresh: FreshStore) => void): void {
  let database: TestDatabase | undefined;
  let db: Db | undefined;
  beforeEach(async () => {
    database = await freshDatabase(backend);
    db = openDatabase(database.url);
    await migrate(db);
    opened({ database, db, store: createStore(db) });
  });
  afterEach(async () => {
    await db?.close();
    await database?.drop();
  });
}
