import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditAnchorKey } from '../../core/audit/anchor.ts';
import { chainHash } from '../../core/audit/chain.ts';
import type { AuditEvent, AuditEventInput, AuditOutcome } from '../../core/model.ts';
import type { Dialect } from '../db.ts';
import type { AuditHead, AuditListFilter, AuditStore } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { AuditEventsTable, Database } from '../schema.ts';

const head = prepared((db) => db.selectFrom('audit_head').select(['last_seq', 'last_hash', 'mac']).where('id', '=', 1));
const headForUpdate = prepared((db) => db.selectFrom('audit_head').select(['last_seq', 'last_hash', 'mac']).where('id', '=', 1).forUpdate());
const insertEvent = prepared((db, row: Selectable<AuditEventsTable>) => db.insertInto('audit_events').values(row));
const moveHead = prepared((db, seq: number, hash: string, mac: string | null) => db.updateTable('audit_head').set({ last_seq: seq, last_hash: hash, mac }).where('id', '=', 1));

function toEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    type: row.type,
    outcome: row.outcome as AuditOutcome,
    reason: row.reason,
    accountId: row.account_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: JSON.parse(row.details) as Record<string, unknown>,
    detailsJson: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
    mac: row.mac,
  };
}

export class SqlAuditStore implements AuditStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    /** Runs work in a transaction when this store is not already inside one. */
    private readonly inTransaction: <T>(work: (db: Kysely<Database>) => Promise<T>) => Promise<T>,
    /** Signs each event and the head (core/audit/anchor.ts); without it both are left unanchored. */
    private readonly anchor: AuditAnchorKey | null = null,
  ) {}

  append(input: AuditEventInput): Promise<AuditEvent> {
    return this.inTransaction(async (db) => {
      // The head row is the chain's lock: appends queue on it, so sequence numbers have no gaps and
      // each event links to the one before.
      const [current] = (await (this.dialect === 'postgres' ? headForUpdate : head)(db)).rows;
      if (!current) throw new Error('audit_head row is missing');
      const { last_seq, last_hash } = current;
      const fields = {
        seq: Number(last_seq) + 1,
        at: input.at,
        type: input.type,
        outcome: input.outcome,
        reason: input.reason ?? null,
        accountId: input.accountId ?? null,
        ip: input.context?.ip ?? null,
        userAgent: input.context?.userAgent ?? null,
        details: JSON.stringify(input.details ?? {}),
      };
      const hash = chainHash(last_hash, fields);
      const mac = this.anchor?.signEvent(fields.seq, hash) ?? null;
      await insertEvent(db, {
        seq: fields.seq,
        at: fields.at,
        type: fields.type,
        outcome: fields.outcome,
        reason: fields.reason,
        account_id: fields.accountId,
        ip: fields.ip,
        user_agent: fields.userAgent,
        details: fields.details,
        prev_hash: last_hash,
        hash,
        mac,
      });
      // The head's anchor moves in the same transaction, under the same row lock as the chain.
      await moveHead(db, fields.seq, hash, this.anchor?.signHead(fields.seq, hash) ?? null);
      return { ...fields, details: input.details ?? {}, detailsJson: fields.details, prevHash: last_hash, hash, mac } satisfies AuditEvent;
    });
  }

  async list(filter: AuditListFilter): Promise<AuditEvent[]> {
    let query = this.db.selectFrom('audit_events').selectAll().orderBy('seq', 'desc').limit(filter.limit);
    if (filter.accountId !== undefined) query = query.where('account_id', '=', filter.accountId);
    if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
    if (filter.type !== undefined) query = query.where('type', '=', filter.type);
    // substr rather than LIKE: no wildcard in a type prefix to escape, the same on both databases.
    if (filter.typePrefix !== undefined) query = query.where(sql<string>`substr(type, 1, ${filter.typePrefix.length})`, '=', filter.typePrefix);
    if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
    return (await query.execute()).map(toEvent);
  }

  async head(): Promise<AuditHead> {
    const [row] = (await head(this.db)).rows;
    if (!row) throw new Error('audit_head row is missing');
    return { seq: Number(row.last_seq), hash: row.last_hash, mac: row.mac };
  }

  async scan(fromSeq: number, limit: number): Promise<AuditEvent[]> {
    const rows = await this.db.selectFrom('audit_events').selectAll().where('seq', '>=', fromSeq).orderBy('seq').limit(limit).execute();
    return rows.map(toEvent);
  }
}
