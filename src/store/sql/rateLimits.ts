import { sql, type Kysely } from 'kysely';
import type { RateLimitStore } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { Database } from '../schema.ts';

// One upsert, atomic on both backends: a new window restarts the count, the same window adds one.
const hit = prepared((db, key: string, windowStart: number) =>
  db
    .insertInto('rate_limits')
    .values({ key, window_start: windowStart, count: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        count: sql`case when rate_limits.window_start = ${windowStart} then rate_limits.count + 1 else 1 end`,
        window_start: windowStart,
      }),
    )
    .returning('count'),
);

export class SqlRateLimitStore implements RateLimitStore {
  constructor(private readonly db: Kysely<Database>) {}

  async hit(key: string, windowStart: number): Promise<number> {
    const [row] = (await hit(this.db, key, windowStart)).rows;
    if (!row) throw new Error('rate limit upsert returned no row');
    return Number(row.count);
  }

  async purge(olderThan: number): Promise<number> {
    const result = await this.db.deleteFrom('rate_limits').where('window_start', '<', olderThan).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
