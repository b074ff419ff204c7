import { sql, type Kysely } from 'kysely';
import type { ThrottlePolicy } from '../../codes/throttle.ts';
import type { CodeThrottleStore, ThrottleAdmission } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { Database } from '../schema.ts';

const big = (value: number) => sql<number>`cast(${value} as bigint)`;

// codes/throttle.ts `nextDelayMs`, written in SQL so the check and the count are one atomic upsert
// on both backends: an attempt is admitted only if the wait set by the previous one has passed, and
// admitting it sets the next wait. Racing attempts serialise on the row.
const admitAttempt = prepared(
  (db, key: string, now: number, firstDelay: number, firstBlockedUntil: number, free: number, baseMs: number, maxMs: number) => {
    const delay = sql<number>`case when code_throttles.failures + 1 <= ${free} then ${big(0)} when code_throttles.delay_ms = 0 then ${big(baseMs)} when code_throttles.delay_ms * 2 > ${big(maxMs)} then ${big(maxMs)} else code_throttles.delay_ms * 2 end`;
    return db
      .insertInto('code_throttles')
      .values({ key, failures: 1, delay_ms: firstDelay, blocked_until: firstBlockedUntil, updated_at: now })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({
            failures: sql`code_throttles.failures + 1`,
            delay_ms: delay,
            // No wait: leave the deadline where it was (in the past). Setting it to this request's
            // `now` could put it after the `now` of a request racing from another instance.
            blocked_until: sql`case when ${delay} = 0 then code_throttles.blocked_until else ${big(now)} + ${delay} end`,
            updated_at: now,
          })
          .where(sql.ref('code_throttles.blocked_until'), '<=', now),
      )
      .returning('failures');
  },
);
const resetKey = prepared((db, key: string) => db.deleteFrom('code_throttles').where('key', '=', key));

export class SqlCodeThrottleStore implements CodeThrottleStore {
  constructor(private readonly db: Kysely<Database>) {}

  async admit(key: string, now: number, policy: ThrottlePolicy): Promise<ThrottleAdmission> {
    const first = policy.free >= 1 ? 0 : policy.baseMs;
    const [row] = (await admitAttempt(this.db, key, now, first, first === 0 ? 0 : now + first, policy.free, policy.baseMs, policy.maxMs)).rows;
    if (row) return { admitted: true, failures: Number(row.failures) };
    const blocked = await this.db.selectFrom('code_throttles').select('blocked_until').where('key', '=', key).executeTakeFirst();
    return { admitted: false, blockedUntil: Number(blocked?.blocked_until ?? now) };
  }

  async forgive(key: string): Promise<void> {
    await this.db
      .updateTable('code_throttles')
      .set({ failures: sql`case when code_throttles.failures > 0 then code_throttles.failures - 1 else 0 end` })
      .where('key', '=', key)
      .execute();
  }

  async reset(key: string): Promise<void> {
    await resetKey(this.db, key);
  }

  async purge(olderThan: number): Promise<number> {
    const result = await this.db.deleteFrom('code_throttles').where('updated_at', '<', olderThan).where('blocked_until', '<', olderThan).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
