import type { Kysely, Selectable } from 'kysely';
import type { SsfOutboxRow, SsfOutboxStore, SsfStream, SsfStreamChanges, SsfStreamStatus, SsfStreamStore } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { Database, SsfOutboxTable, SsfStreamsTable } from '../schema.ts';
import { SqlOutboxLease } from './outboxLease.ts';

/** A delivery failure is kept as one bounded line (the status endpoint shows it). */
const MAX_FAILURE = 256;

// The dispatcher asks every second (delivery/outbox.ts), mostly to hear there is nothing due: compiled once.
const dueRows = prepared((db, now: number, limit: number) =>
  db
    .selectFrom('ssf_outbox as o')
    .innerJoin('ssf_streams as s', 's.id', 'o.stream_id')
    .selectAll('o')
    .where('o.next_attempt_at', '<=', now)
    .where('s.status', '=', 'enabled')
    .orderBy('o.next_attempt_at')
    .orderBy('o.created_at')
    .orderBy('o.id')
    .limit(limit),
);

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toStream(r: Selectable<SsfStreamsTable>): SsfStream {
  return {
    id: r.id,
    clientId: r.client_id,
    endpointUrl: r.endpoint_url,
    authorizationHeader: r.authorization_header,
    eventsRequested: JSON.parse(r.events_requested) as string[],
    description: r.description,
    status: r.status as SsfStreamStatus,
    statusReason: r.status_reason,
    delivered: Number(r.delivered),
    failed: Number(r.failed),
    lastDeliveredAt: num(r.last_delivered_at),
    lastFailure: r.last_failure,
    lastFailureAt: num(r.last_failure_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class SqlSsfStreamStore implements SsfStreamStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(s: SsfStream): Promise<void> {
    await this.db
      .insertInto('ssf_streams')
      .values({
        id: s.id,
        client_id: s.clientId,
        endpoint_url: s.endpointUrl,
        authorization_header: s.authorizationHeader,
        events_requested: JSON.stringify(s.eventsRequested),
        description: s.description,
        status: s.status,
        status_reason: s.statusReason,
        delivered: s.delivered,
        failed: s.failed,
        last_delivered_at: s.lastDeliveredAt,
        last_failure: s.lastFailure,
        last_failure_at: s.lastFailureAt,
        created_at: s.createdAt,
        updated_at: s.updatedAt,
      })
      .execute();
  }

  async find(clientId: string, id: string): Promise<SsfStream | undefined> {
    const row = await this.db.selectFrom('ssf_streams').selectAll().where('id', '=', id).where('client_id', '=', clientId).executeTakeFirst();
    return row ? toStream(row) : undefined;
  }

  async findById(id: string): Promise<SsfStream | undefined> {
    const row = await this.db.selectFrom('ssf_streams').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toStream(row) : undefined;
  }

  async listByClient(clientId: string): Promise<SsfStream[]> {
    const rows = await this.db.selectFrom('ssf_streams').selectAll().where('client_id', '=', clientId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toStream);
  }

  async update(clientId: string, id: string, c: SsfStreamChanges, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('ssf_streams')
      .set({
        ...(c.endpointUrl !== undefined ? { endpoint_url: c.endpointUrl } : {}),
        ...(c.authorizationHeader !== undefined ? { authorization_header: c.authorizationHeader } : {}),
        ...(c.eventsRequested !== undefined ? { events_requested: JSON.stringify(c.eventsRequested) } : {}),
        ...(c.description !== undefined ? { description: c.description } : {}),
        ...(c.status !== undefined ? { status: c.status } : {}),
        ...(c.statusReason !== undefined ? { status_reason: c.statusReason } : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(clientId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('ssf_streams').where('id', '=', id).where('client_id', '=', clientId).executeTakeFirst();
    if (Number(result.numDeletedRows) !== 1) return false;
    await this.db.deleteFrom('ssf_stream_subjects').where('stream_id', '=', id).execute();
    await this.db.deleteFrom('ssf_outbox').where('stream_id', '=', id).execute();
    return true;
  }

  async addSubject(streamId: string, accountId: string, now: number): Promise<void> {
    await this.db
      .insertInto('ssf_stream_subjects')
      .values({ stream_id: streamId, account_id: accountId, created_at: now })
      .onConflict((oc) => oc.columns(['stream_id', 'account_id']).doNothing())
      .execute();
  }

  async removeSubject(streamId: string, accountId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('ssf_stream_subjects').where('stream_id', '=', streamId).where('account_id', '=', accountId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async listForSubject(accountId: string): Promise<SsfStream[]> {
    const rows = await this.db
      .selectFrom('ssf_streams as s')
      .selectAll('s')
      .where('s.status', '!=', 'disabled')
      .where((eb) =>
        eb.or([
          eb.not(eb.exists(eb.selectFrom('ssf_stream_subjects as a').select('a.stream_id').whereRef('a.stream_id', '=', 's.id'))),
          eb.exists(eb.selectFrom('ssf_stream_subjects as b').select('b.stream_id').whereRef('b.stream_id', '=', 's.id').where('b.account_id', '=', accountId)),
        ]),
      )
      .orderBy('s.id')
      .execute();
    return rows.map(toStream);
  }

  async recordOutcome(id: string, outcome: { readonly delivered: boolean; readonly reason?: string; readonly at: number }): Promise<void> {
    const q = this.db.updateTable('ssf_streams').where('id', '=', id);
    if (outcome.delivered) await q.set((eb) => ({ delivered: eb('delivered', '+', 1), last_delivered_at: outcome.at })).execute();
    else await q.set((eb) => ({ failed: eb('failed', '+', 1), last_failure: outcome.reason?.slice(0, MAX_FAILURE) ?? null, last_failure_at: outcome.at })).execute();
  }

  async pending(id: string): Promise<number> {
    const row = await this.db.selectFrom('ssf_outbox').select((eb) => eb.fn.countAll().as('n')).where('stream_id', '=', id).executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}

function toRow(r: Selectable<SsfOutboxTable>): SsfOutboxRow {
  return {
    id: r.id,
    streamId: r.stream_id,
    eventType: r.event_type,
    payload: JSON.parse(r.payload) as SsfOutboxRow['payload'],
    txn: r.txn,
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
    nextAttemptAt: Number(r.next_attempt_at),
  };
}

export class SqlSsfOutboxStore extends SqlOutboxLease implements SsfOutboxStore {
  constructor(db: Kysely<Database>) {
    super(db, 'ssf_outbox');
  }

  async enqueue(rows: readonly SsfOutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('ssf_outbox')
      .values(
        rows.map((r) => ({
          id: r.id,
          stream_id: r.streamId,
          event_type: r.eventType,
          payload: JSON.stringify(r.payload),
          txn: r.txn,
          attempts: r.attempts,
          created_at: r.createdAt,
          next_attempt_at: r.nextAttemptAt,
        })),
      )
      .execute();
  }

  async dropStream(streamId: string): Promise<number> {
    const result = await this.db.deleteFrom('ssf_outbox').where('stream_id', '=', streamId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Due rows of enabled streams, oldest first (a paused stream's SETs wait, in order). */
  async listDue(now: number, limit: number): Promise<SsfOutboxRow[]> {
    const { rows } = await dueRows(this.db, now, limit);
    return rows.map(toRow);
  }
}
