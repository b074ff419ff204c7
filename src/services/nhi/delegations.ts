import { base64url } from '../../core/bytes.ts';
import { fail, ok, type Result } from '../../core/errors.ts';
import type { RequestContext } from '../../core/model.ts';
import { clientPolicy } from '../../oidc/clientPolicy.ts';
import type { DelegationRow } from '../../store/ports.ts';
import type { Deps } from '../deps.ts';
import { requireFresh } from '../freshness.ts';
import type { ActiveSession } from '../sessions.ts';
import { authorize, type Actor } from '../adminAccess.ts';
import { isoTime, isoTimeOrNull } from '../../core/time.ts';

/**
 * Delegations (issue 15; docs/nhi.md "Delegation to agents"): a person lets an agent workload act
 * for them. The agent then exchanges the person's access token at the token endpoint (RFC 8693,
 * oidc/tokenExchange.ts) for a short-lived token that names it (`act`) and carries no more than
 * the delegation's scopes. Granting needs a fresh passkey sign-in; the person sees and revokes
 * their delegations ("Agents acting for you" on /account). Every delegation expires, at most
 * KEYBOUND_DELEGATION_MAX_TTL after it is made, and ends with the person's suspension or
 * offboarding (nhi/cascade.ts).
 */

/** Why a delegation ended: a closed list (the bounds test holds it to 32 characters). */
export const REVOKE_REASONS = ['revoked_by_holder', 'replaced', 'owner_suspended', 'owner_offboarded', 'unused'] as const;
export type RevokeReason = (typeof REVOKE_REASONS)[number];

/** Shortest delegation: a minute (a shorter one would end before the agent could use it). */
const MIN_TTL_S = 60;

export interface DelegationInput {
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Seconds. */
  readonly expiresIn: number;
}

/** A delegation as its holder sees it. */
export interface DelegationSummary {
  readonly id: string;
  readonly clientId: string;
  readonly agentName: string;
  readonly scopes: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly lastUsedAt: string | null;
  readonly status: 'active' | 'expired' | 'revoked';
  readonly revokedReason: string | null;
}

const invalid = (message: string) => fail('delegation_invalid', { message });

/** The scopes an agent may be delegated: its own allowlist, of the server's resource scopes. */
export function agentScopes(deps: Deps, metadata: Record<string, unknown>): string[] {
  return clientPolicy(metadata).scopes.filter((s) => deps.config.oidc.resourceScopes.includes(s));
}

/**
 * Grants a delegation. A live delegation to the same agent is replaced (revoked, reason
 * `replaced`) in the same transaction, so there is at most one per person and agent.
 */
export async function grantDelegation(deps: Deps, active: ActiveSession, input: DelegationInput, context: RequestContext): Promise<Result<DelegationSummary>> {
  const fresh = await requireFresh(deps, active);
  if (!fresh.ok) return fresh;
  const maxS = Math.floor(deps.config.nhi.delegationMaxTtlMs / 1000);
  if (!Number.isInteger(input.expiresIn) || input.expiresIn < MIN_TTL_S || input.expiresIn > maxS) {
    return invalid(`expiresIn must be ${MIN_TTL_S} to ${maxS} seconds (KEYBOUND_DELEGATION_MAX_TTL): every delegation expires.`);
  }
  const workload = await deps.store.workloads.find(input.clientId);
  const client = workload && (await deps.store.oidcClients.find(input.clientId));
  if (!workload || !client || workload.kind !== 'agent') return invalid('clientId is not an agent workload of this server.');
  if (workload.status !== 'active') return invalid('This agent is disabled.');
  const allowed = agentScopes(deps, client.metadata);
  const scopes = [...new Set(input.scopes)];
  if (scopes.length === 0) return invalid('Give at least one scope.');
  const stranger = scopes.find((s) => !allowed.includes(s));
  if (stranger !== undefined) return invalid(`The agent is not allowed the scope ${stranger} (it may have: ${allowed.join(', ') || 'none'}).`);
  const at = deps.clock();
  const row: DelegationRow = {
    id: `dg_${base64url.encode(deps.random(12))}`,
    accountId: active.account.id,
    clientId: workload.clientId,
    scopes,
    createdAt: at,
    expiresAt: at + input.expiresIn * 1000,
    revokedAt: null,
    revokedReason: null,
    lastUsedAt: null,
  };
  await deps.store.transaction(async (tx) => {
    const replaced = await tx.delegations.revokeForAgent(active.account.id, workload.clientId, 'replaced', at);
    await tx.delegations.create(row);
    await tx.audit.append({ type: 'delegation.granted', outcome: 'success', accountId: active.account.id, context, at, details: { id: row.id, clientId: row.clientId, agent: workload.name, scopes, expiresAt: isoTime(row.expiresAt), replaced, by: active.session.id } });
  });
  return ok(summarise(row, workload.name, at));
}

/** The person's delegations: live ones first, then those that ended (for the record), each newest first. */
export async function listDelegations(deps: Deps, active: ActiveSession): Promise<DelegationSummary[]> {
  return delegationsOf(deps, active.account.id);
}

/** An account's delegations, for an administrator (the console's account page). */
export async function adminListDelegations(deps: Deps, input: { actor: Actor; accountId: string }): Promise<Result<DelegationSummary[]>> {
  const allowed = await authorize(deps, input.actor, { fresh: false });
  if (!allowed.ok) return allowed;
  return ok(await delegationsOf(deps, input.accountId));
}

async function delegationsOf(deps: Deps, accountId: string): Promise<DelegationSummary[]> {
  const now = deps.clock();
  const rows = await deps.store.delegations.listByAccount(accountId);
  const names = new Map<string, string>();
  for (const r of rows) if (!names.has(r.clientId)) names.set(r.clientId, (await deps.store.workloads.find(r.clientId))?.name ?? r.clientId);
  const rank = (d: DelegationSummary) => (d.status === 'active' ? 0 : 1);
  // Array sort is stable: within a rank, the store's newest-first order stays.
  return rows.map((r) => summarise(r, names.get(r.clientId)!, now)).sort((a, b) => rank(a) - rank(b));
}

/**
 * The person revokes a delegation: the agent's next token exchange for them is `invalid_grant`
 * (tokens already exchanged live their few minutes, at most 300 s). Only their own, and only a
 * live one (`delegation_not_found` otherwise). Ending what lets someone act for you needs no fresh
 * sign-in: a session may always take access away.
 */
export function revokeDelegation(deps: Deps, active: ActiveSession, id: string, context: RequestContext): Promise<Result<null>> {
  return revokeOne(deps, { id, accountId: active.account.id, reason: 'revoked_by_holder', by: active.session.id, context });
}

/** Revokes one live delegation of the account and audits it, in one transaction; `delegation_not_found` if it is not live. */
function revokeOne(deps: Deps, input: { id: string; accountId: string; reason: RevokeReason; by: string; context?: RequestContext }): Promise<Result<null>> {
  const { id, accountId, reason, by } = input;
  const at = deps.clock();
  return deps.store.transaction(async (tx): Promise<Result<null>> => {
    const found = await tx.delegations.find(id);
    if (!found || !(await tx.delegations.revoke(id, accountId, reason, at))) return fail('delegation_not_found');
    await tx.audit.append({ type: 'delegation.revoked', outcome: 'success', accountId, ...(input.context ? { context: input.context } : {}), at, details: { id, clientId: found.clientId, reason, by } });
    return ok(null);
  });
}

/**
 * `keybound nhi report --disable` revokes a delegation no token exchange has used for
 * KEYBOUND_NHI_STALE_DAYS (nhi/report.ts `unused`), reason `unused`, audited as the holder's own
 * revocation is, with the operator in `by`. `delegation_not_found` if it ended meanwhile.
 */
export function revokeUnusedDelegation(deps: Deps, input: { id: string; accountId: string; by: string }): Promise<Result<null>> {
  return revokeOne(deps, { ...input, reason: 'unused' });
}

function summarise(r: DelegationRow, agentName: string, now: number): DelegationSummary {
  return {
    id: r.id,
    clientId: r.clientId,
    agentName,
    scopes: r.scopes,
    createdAt: isoTime(r.createdAt),
    expiresAt: isoTime(r.expiresAt),
    lastUsedAt: isoTimeOrNull(r.lastUsedAt),
    status: r.revokedAt !== null ? 'revoked' : r.expiresAt <= now ? 'expired' : 'active',
    revokedReason: r.revokedReason,
  };
}
