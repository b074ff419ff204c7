import { fail, ok, type Result } from '../core/errors.ts';
import type { AuditEvent } from '../core/model.ts';
import type { AuditListFilter } from '../store/ports.ts';
import { authorize, type Actor } from './adminAccess.ts';
import type { Deps } from './deps.ts';

/**
 * The audit trail as an administrator reads it: `keybound audit list`, `GET /api/v1/admin/audit`
 * (JSON lines) and the console's audit page share this filter and this line shape.
 */

export const AUDIT_EXPORT_MAX = 10_000;

export interface AuditQuery {
  /** Username or account id. */
  readonly account?: string | undefined;
  /** Exactly this type, or a prefix ending in `*` (`account.*`). */
  readonly type?: string | undefined;
  /** Epoch ms. */
  readonly since?: number | undefined;
  readonly limit: number;
}

/** `since` as the CLI and the API take it: an ISO 8601 date or time, or an age (`30m`, `24h`, `7d`); `null` when it is neither. */
export function parseSinceValue(value: string, now: number): number | null {
  const age = /^(\d{1,6})([mhd])$/.exec(value);
  if (age) return now - Number(age[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as 'm' | 'h' | 'd'];
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? null : at;
}

/** One event as a JSON object (one line of the export). */
export function auditLine(e: AuditEvent, usernames: ReadonlyMap<string, string>) {
  return {
    seq: e.seq,
    at: new Date(e.at).toISOString(),
    type: e.type,
    outcome: e.outcome,
    reason: e.reason,
    accountId: e.accountId,
    username: e.accountId ? (usernames.get(e.accountId) ?? null) : null,
    ip: e.ip,
    userAgent: e.userAgent,
    details: e.details,
    hash: e.hash,
  };
}

export type AuditLine = ReturnType<typeof auditLine>;

/** The newest `limit` events that match, oldest first, with the usernames of their accounts. No actor check: the CLI and `listAudit` call it. */
export async function findAuditEvents(deps: Deps, query: AuditQuery): Promise<Result<{ events: AuditEvent[]; usernames: Map<string, string> }>> {
  const filter: { -readonly [K in keyof AuditListFilter]: AuditListFilter[K] } = { limit: query.limit };
  if (query.account !== undefined && query.account.trim() !== '') {
    const wanted = query.account.trim();
    const account = (await deps.store.accounts.findByUsername(wanted.toLowerCase())) ?? (await deps.store.accounts.findById(wanted));
    if (!account) return fail('account_not_found', { message: `No account ${wanted}.` });
    filter.accountId = account.id;
  }
  const type = query.type?.trim();
  if (type?.endsWith('*')) filter.typePrefix = type.slice(0, -1);
  else if (type) filter.type = type;
  if (query.since !== undefined) filter.since = query.since;
  const events = (await deps.store.audit.list(filter)).reverse();
  const usernames = new Map((await deps.store.accounts.list()).map((a) => [a.id, a.username]));
  return ok({ events, usernames });
}

/** `findAuditEvents` for an administrator (services/adminAccess.ts), at most AUDIT_EXPORT_MAX events. */
export async function listAudit(deps: Deps, input: { actor: Actor; query: AuditQuery }): Promise<Result<AuditLine[]>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  const found = await findAuditEvents(deps, { ...input.query, limit: Math.min(Math.max(1, input.query.limit), AUDIT_EXPORT_MAX) });
  if (!found.ok) return found;
  return ok(found.value.events.map((e) => auditLine(e, found.value.usernames)));
}
