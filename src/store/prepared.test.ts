import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from './db.ts';
import { migrate } from './migrate.ts';
import { prepared } from './prepared.ts';

describe('prepared statements', () => {
  let db: Db | undefined;
  afterEach(async () => db?.close());

  it('builds once, then runs the same SQL with each call’s values (positional and row arguments)', async () => {
    db = openDatabase('sqlite::memory:');
    await migrate(db);
    let builds = 0;
    const insert = prepared((k, row: { key: string; value: string }) => {
      builds++;
      return k.insertInto('settings').values(row);
    });
    const find = prepared((k, key: string, other: string) => {
      builds++;
      return k.selectFrom('settings').select(['key', 'value']).where((eb) => eb.or([eb('key', '=', key), eb('key', '=', other)])).orderBy('key');
    });
    await insert(db.kysely, { key: 'a', value: 'one' });
    await insert(db.kysely, { key: 'b', value: 'two' });
    await db.kysely.transaction().execute((tx) => insert(tx, { key: 'c', value: 'three' }));
    expect((await find(db.kysely, 'c', 'a')).rows).toEqual([
      { key: 'a', value: 'one' },
      { key: 'c', value: 'three' },
    ]);
    expect((await find(db.kysely, 'b', 'nothing')).rows).toEqual([{ key: 'b', value: 'two' }]);
    expect(builds).toBe(2);
    const { rows } = await sql<{ n: number }>`select count(*) as n from settings where key in ('a', 'b', 'c')`.execute(db.kysely);
    expect(Number(rows[0]!.n)).toBe(3);
  });
});
