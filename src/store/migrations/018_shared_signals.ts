import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * OpenID Shared Signals Framework 1.0 transmitter (src/ssf).
 *
 * - `ssf_streams`: one row per event stream (SSF §8.1.1), owned by the OpenID client that created it
 *   (only that client sees it). `status` is `enabled`, `paused` or `disabled` (§8.1.2); delivery
 *   counts are kept on the row so a receiver can see how its stream is doing.
 * - `ssf_stream_subjects`: the subjects a receiver added (§8.1.3). A stream with none gets events for
 *   every subject; a stream with some gets events for those only.
 * - `ssf_outbox`: one row per Security Event Token owed to one stream, written in the transaction of
 *   the change it reports (so it exists only if the change committed), sent by any instance, and
 *   deleted once delivered or given up. The token is signed at each attempt from `payload`.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  const time = 'bigint';
  await db.schema
    .createTable('ssf_streams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('endpoint_url', 'text', (c) => c.notNull())
    .addColumn('authorization_header', 'text')
    .addColumn('events_requested', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('delivered', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_delivered_at', time)
    .addColumn('last_failure', 'text')
    .addColumn('last_failure_at', time)
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ssf_streams_client').on('ssf_streams').column('client_id').execute();
  await db.schema
    .createTable('ssf_stream_subjects')
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('ssf_stream_subjects_pk', ['stream_id', 'account_id'])
    .execute();
  await db.schema
    .createTable('ssf_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('txn', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('next_attempt_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ssf_outbox_due').on('ssf_outbox').column('next_attempt_at').execute();
  await db.schema.createIndex('ssf_outbox_stream').on('ssf_outbox').column('stream_id').execute();
}
