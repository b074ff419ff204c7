import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/** The tables that hold an outbox (delivery/outbox.ts): each row has an id, an attempt count and when it is next due. */
export type OutboxTable = 'oidc_logout_outbox' | 'ssf_outbox';

/**
 * The lease both outboxes run on (delivery/outbox.ts): a sender claims a due row by moving its
 * attempt count on and its due time to the end of a lease, in one conditional statement, so of two
 * instances that listed the same row only one sends it; then it removes the row (delivered) or
 * reschedules it (a retry). A sender that dies mid-send leaves the row due again when its lease ends.
 */
export abstract class SqlOutboxLease {
  constructor(
    protected readonly db: Kysely<Database>,
    private readonly table: OutboxTable,
  ) {}

  async claim(id: string, attempts: number, now: number, leaseUntil: number): Promise<boolean> {
    // Both tables have these columns; Kysely types the statement by one of them.
    const result = await this.db
      .updateTable(this.table as 'ssf_outbox')
      .set({ attempts: attempts + 1, next_attempt_at: leaseUntil })
      .where('id', '=', id)
      .where('attempts', '=', attempts)
      .where('next_attempt_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async reschedule(id: string, at: number): Promise<void> {
    await this.db.updateTable(this.table as 'ssf_outbox').set({ next_attempt_at: at }).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom(this.table as 'ssf_outbox').where('id', '=', id).execute();
  }
}
