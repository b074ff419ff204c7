import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditAnchorKey } from '../../core/audit/anchor.ts';
import { chainHash } from '../../core/audit/chain.ts';
import type { AuditEvent, AuditEventInput, AuditOutcome } from '../../core/model.ts';
import type { Dialect } from '../db.ts';
import type { AuditHead, AuditListFilter, AuditStore, RiskHistoryEvent } from '../ports.ts';
import { prepared } from '../prepared.ts';
import type { AuditEventsTable, Database } from '../schema.ts';
import { isObject } from '../../core/json.ts';

const head = prepared((db) => db.selectFrom('audit_head').select(['last_seq', 'last_hash', 'mac']).where('id', '=', 1));
const headForUpdate = prepared((db) => db.selectFrom('audit_head').select(['last_seq', 'last_hash', 'mac']).where('id', '=', 1).forUpdate());
const insertEvent = prepared((db, row: Selectable<AuditEventsTable>) => db.insertInto('audit_events').values(row));
const moveHead = prepared((db, seq: number, hash: string, mac: string | null) => db.updateTable('audit_head').set({ last_seq: seq, last_hash: hash, mac }).where('id', '=', 1));
// Moves the head only if it is still where this process last saw it (AuditHeadGuess).
const moveHeadFrom = prepared((db, seq: number, hash: string, mac: string | null, fromSeq: number, fromHash: string) =>
  db.updateTable('audit_head').set({ last_seq: seq, last_hash: hash, mac }).where('id', '=', 1).where('last_seq', '=', fromSeq).where('last_hash', '=', fromHash),
);

// The risk signals' reading of an account's latest events, on each sign-in a history rule may apply
// to (services/risk/evaluate.ts). SQLite takes the few fields out of the details itself (`->` gives a
// value as JSON text, NULL where the path is missing; `->>` gives it as an SQL value), so the rest of
// each event is neither read into JavaScript nor parsed: with 50 events, 2.41 M -> 1.72 M
// instructions a read (callgrind) against `list`. PostgreSQL would cast the text column to jsonb once
// per path, so there the details come back whole and are picked apart here, the same way.
const recentForRiskSqlite = prepared((db, accountId: string, limit: number) =>
  db
    .selectFrom('audit_events')
    .select([
      'at',
      'type',
      'outcome',
      'reason',
      sql<unknown>`details ->> '$.passkey'`.as('passkey'),
      sql<string | null>`details -> '$.risk.device'`.as('device'),
      sql<string | null>`case when details -> '$.risk.device' is null then user_agent end`.as('user_agent'),
      sql<string | null>`details -> '$.risk.place'`.as('place'),
      sql<unknown>`details ->> '$.simChangedAt'`.as('sim_changed_at'),
    ])
    .where('account_id', '=', accountId)
    .orderBy('seq', 'desc')
    .limit(limit),
);
const recentForRiskPostgres = prepared((db, accountId: string, limit: number) =>
  db.selectFrom('audit_events').select(['at', 'type', 'outcome', 'reason', 'user_agent', 'details']).where('account_id', '=', accountId).orderBy('seq', 'desc').limit(limit),
);

/** A value `->` gave as JSON text (`undefined` where the path is missing): most are a plain string, read without a parser. */
function fromJsonText(text: string | null): unknown {
  if (text === null) return undefined;
  if (text === 'null') return null;
  if (text.length >= 2 && text.charCodeAt(0) === 34 && text.indexOf('\\') < 0 && text.indexOf('"', 1) === text.length - 1) return text.slice(1, -1);
  return JSON.parse(text) as unknown;
}

interface RiskRowBase {
  readonly at: number | bigint;
  readonly type: string;
  readonly outcome: string;
  readonly reason: string | null;
  readonly user_agent: string | null;
}

/** The risk view of an event from its row and the four detail fields (`device` and `place` undefined where the event has none). */
function riskEvent(row: RiskRowBase, passkey: unknown, device: unknown, place: unknown, simChangedAt: unknown): RiskHistoryEvent {
  return {
    at: Number(row.at),
    type: row.type,
    outcome: row.outcome as AuditOutcome,
    reason: row.reason,
    passkey: typeof passkey === 'string' ? passkey : null,
    device: device as string | null | undefined,
    userAgent: device === undefined ? row.user_agent : null,
    place,
    simChangedAt: typeof simChangedAt === 'string' ? simChangedAt : null,
  };
}

/** SQLite's row: the fields as `->` and `->>` gave them (the user agent only where there is no device). */
const riskEventFromPaths = (row: RiskRowBase & { passkey: unknown; device: string | null; place: string | null; sim_changed_at: unknown }): RiskHistoryEvent =>
  riskEvent(row, row.passkey, fromJsonText(row.device), fromJsonText(row.place), row.sim_changed_at);

/** PostgreSQL's row: the same fields from the whole details, read as SQLite reads the paths (a path through a non-object is missing). */
function riskEventFromDetails(row: RiskRowBase & { details: string }): RiskHistoryEvent {
  const details = JSON.parse(row.details) as unknown;
  const top = isObject(details) ? details : {};
  const risk = isObject(top.risk) ? top.risk : {};
  return riskEvent(row, top.passkey, risk.device, risk.place, top.simChangedAt);
}

/**
 * Where the chain ended when this process last moved or read its head, shared by the store over a
 * database and every transaction store made from it (store/index.ts). It is only a guess: another
 * process (a CLI command, a second instance) may have appended since, or the transaction that moved
 * the head may have rolled back. An append tries it first: the head moves only if it still holds
 * exactly the guessed sequence number and hash, which is what reading it would have returned, so the
 * event written is the same one; otherwise the head is read (locked on PostgreSQL) as before. When
 * the guess holds, an append is two statements instead of three.
 */
export interface AuditHeadGuess {
  current: { readonly seq: number; readonly hash: string } | null;
}

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
    private readonly guess: AuditHeadGuess = { current: null },
  ) {}

  append(input: AuditEventInput): Promise<AuditEvent> {
    return this.inTransaction(async (db) => {
      // The head row is the chain's lock: appends queue on it, so sequence numbers have no gaps and
      // each event links to the one before. The guessed head is tried first (AuditHeadGuess): the
      // conditional update takes the same row lock the read would have.
      const guessed = this.guess.current;
      if (guessed) {
        const event = this.#event(guessed.seq, guessed.hash, input);
        const moved = await moveHeadFrom(db, event.seq, event.hash, this.anchor?.signHead(event.seq, event.hash) ?? null, guessed.seq, guessed.hash);
        if (Number(moved.numAffectedRows) === 1) return this.#insert(db, event);
      }
      const [current] = (await (this.dialect === 'postgres' ? headForUpdate : head)(db)).rows;
      if (!current) throw new Error('audit_head row is missing');
      const event = this.#event(Number(current.last_seq), current.last_hash, input);
      await moveHead(db, event.seq, event.hash, this.anchor?.signHead(event.seq, event.hash) ?? null);
      return this.#insert(db, event);
    });
  }

  /** The event that follows the head at `lastSeq` with hash `lastHash`. */
  #event(lastSeq: number, lastHash: string, input: AuditEventInput): AuditEvent {
    const fields = {
      seq: lastSeq + 1,
      at: input.at,
      type: input.type,
      outcome: input.outcome,
      reason: input.reason ?? null,
      accountId: input.accountId ?? null,
      ip: input.context?.ip ?? null,
      userAgent: input.context?.userAgent ?? null,
      details: JSON.stringify(input.details ?? {}),
    };
    const hash = chainHash(lastHash, fields);
    const mac = this.anchor?.signEvent(fields.seq, hash) ?? null;
    // Written out, not `{ ...fields, ... }`: properties added to a spread's copy make a new hidden
    // class on every call (BENCHMARKS.md, eleventh look).
    return {
      seq: fields.seq,
      at: fields.at,
      type: fields.type,
      outcome: fields.outcome,
      reason: fields.reason,
      accountId: fields.accountId,
      ip: fields.ip,
      userAgent: fields.userAgent,
      details: input.details ?? {},
      detailsJson: fields.details,
      prevHash: lastHash,
      hash,
      mac,
    };
  }

  /** Stores the event whose head move was just written (the head's anchor moves in the same transaction, under the same row lock). */
  async #insert(db: Kysely<Database>, event: AuditEvent): Promise<AuditEvent> {
    await insertEvent(db, {
      seq: event.seq,
      at: event.at,
      type: event.type,
      outcome: event.outcome,
      reason: event.reason,
      account_id: event.accountId,
      ip: event.ip,
      user_agent: event.userAgent,
      details: event.detailsJson,
      prev_hash: event.prevHash,
      hash: event.hash,
      mac: event.mac,
    });
    this.guess.current = { seq: event.seq, hash: event.hash };
    return event;
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

  async recentForRisk(accountId: string, limit: number): Promise<RiskHistoryEvent[]> {
    if (this.dialect === 'sqlite') return (await recentForRiskSqlite(this.db, accountId, limit)).rows.map(riskEventFromPaths);
    return (await recentForRiskPostgres(this.db, accountId, limit)).rows.map(riskEventFromDetails);
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
